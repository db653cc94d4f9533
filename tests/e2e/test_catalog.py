"""Certification and the catalog in a browser, end to end: a partner's publisher certifies a
built-in blueprint and watches the eight steps pass live, takes the signed report and publishes;
a designer of another workspace finds it in the catalog, installs it with parameters through the
form (a bad value first) and lands on the workspace's own copy.

Run alone: ``.venv/bin/python -m pytest tests/e2e/test_catalog.py -x -p no:cacheprovider``.
"""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from edge_compiler.certificate import verify_document

from .conftest import PASSWORD, TENANT, api, screenshot, sign_in

pytestmark = [
    pytest.mark.xdist_group("e2e"),
    # pytest-playwright 0.10's own session fixture `base_url`, not ours
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

# The smallest built-in blueprint (no ML model): its certification takes seconds.
BUILT_IN = "cold-chain-monitor"
STEPS = ["schema", "static", "compile", "reproducible", "scenarios", "differential", "robustness", "performance"]
# every status each step's badge showed, in order (the badges change only on live messages)
WATCH_STEPS = """() => {
    window.__steps = {};
    new MutationObserver(() => {
        for (const el of document.querySelectorAll('[data-testid^="cert-step-status-"]')) {
            const step = el.dataset.testid.slice('cert-step-status-'.length);
            const seen = (window.__steps[step] ||= []);
            if (seen.at(-1) !== el.textContent) seen.push(el.textContent);
        }
    }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def test_a_partner_certifies_and_publishes_and_another_workspace_installs_it(page: Page, new_browser_context):
    suffix = uuid.uuid4().hex[:6]
    slug, title = f"cold-chain-{suffix}", f"Cold Chain Monitor {suffix}"

    # --- the partner: the demo workspace's publisher ------------------------------------------
    sign_in(page, "demo-publisher")
    # The partner's own copy of the built-in (same graph, README, scenarios), so that the seeded
    # one stays a draft for the other tests.
    api(page, "POST", f"/t/{TENANT}/blueprints/{BUILT_IN}/fork", {"slug": slug, "title": title})
    frames: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(json.loads(f))))
    page.goto(f"/t/{TENANT}/blueprints/{slug}")
    expect(page.get_by_test_id("live-state")).to_have_text("live")
    panel = page.get_by_test_id("version-panel")
    expect(panel).to_contain_text("Version 0.1.0")
    expect(page.get_by_test_id("cert-none")).to_have_text("This version has not been certified.")
    expect(page.get_by_test_id("publish")).to_have_count(0)  # only a certified version publishes
    page.evaluate(WATCH_STEPS)

    page.get_by_test_id("certify").click()
    expect(page.get_by_test_id("certify")).to_have_text("Certifying…")
    expect(page.get_by_test_id("cert-verdict")).to_have_text(re.compile(r"^Certifying: \d of 8 steps done$"))
    verdict = page.get_by_test_id("cert-verdict")
    expect(verdict).to_have_text(re.compile(r"^(Certified|Not certified)"), timeout=180_000)
    failed = page.locator(".cert-step.step-failed")
    assert failed.count() == 0, failed.all_inner_texts()  # which step failed, and why
    expect(verdict).to_have_text(re.compile(r"^Certified on .+: every step passed\.$"))
    screenshot(page, "certification-passed")

    seen = page.evaluate("window.__steps")
    for step in STEPS:
        expect(page.get_by_test_id(f"cert-step-status-{step}")).to_have_text("passed")
        expect(page.get_by_test_id(f"cert-step-elapsed-{step}")).to_have_text(re.compile(r"^\d+(\.\d)? (ms|s)$"))
        assert seen[step][-2:] == ["running", "passed"], (step, seen)  # each step was shown running, live
    perf = page.get_by_test_id("cert-step-figures-performance")
    expect(perf).to_contain_text(re.compile(r"p99 per batch\s*[\d.]+ ms"))
    expect(perf).to_contain_text(re.compile(r"events/s\s*[\d,]+/s"))
    expect(page.get_by_test_id("cert-step-figures-compile")).to_contain_text("bundle size")
    progress = [f["data"] for f in frames if f.get("type") == "certification.progress"]
    progress = [p for p in progress if p["blueprint"] == slug]
    assert [(p["step"], p["status"]) for p in progress] == [
        *[(s, status) for s in STEPS for status in ("running", "passed")],
        ("report", "certified"),
    ], progress
    # the table follows the verdict
    expect(page.get_by_test_id("version-0.1.0")).to_contain_text("certified")

    # the signed report: downloaded, it verifies; viewed, it says who signed it
    with page.expect_download() as download:
        page.get_by_test_id("cert-report-download").click()
    saved = Path(download.value.path())
    assert download.value.suggested_filename == f"{slug}-0.1.0-certificate.json"
    report = json.loads(saved.read_text())
    document = verify_document(report)
    assert document["verdict"] == "certified" and document["blueprint"] == slug and document["tenant"] == TENANT
    assert [s["step"] for s in document["steps"]] == STEPS
    page.get_by_test_id("cert-report-view").click()
    expect(page.get_by_test_id("cert-report-verdict")).to_have_text("certified")
    expect(page.get_by_test_id("cert-report-key")).to_have_text(report["signer"]["key_id"])

    page.get_by_test_id("publish").click()
    expect(page.get_by_test_id("version-0.1.0")).to_contain_text("published")
    expect(panel).to_contain_text("Published: in the catalog")
    expect(page.get_by_test_id("deprecate")).to_be_visible()
    expect(page.get_by_test_id("publish")).to_have_count(0)
    screenshot(page, "certification-published")

    # --- another workspace, made by the platform admin, with a designer -------------------------
    buyer, designer = f"buyer-{suffix}", f"buyer-designer-{suffix}"
    admin = new_browser_context().new_page()
    sign_in(admin, "admin")
    api(admin, "POST", "/tenants/", {"slug": buyer, "name": f"Buyer {suffix}", "admin_username": "admin"})
    api(admin, "POST", f"/t/{buyer}/members/", {"username": designer, "role": "designer", "password": PASSWORD})
    admin.context.close()

    installer = new_browser_context().new_page()
    sign_in(installer, designer, buyer)
    installer.get_by_test_id("nav-catalog").click()
    installer.get_by_test_id("catalog-search").fill(suffix)
    installer.wait_for_url(re.compile(rf".*/catalog\?q={suffix}$"))
    cards = installer.locator("ul.cards > li")
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text(title)
    expect(card).to_contain_text(f"by {TENANT}")
    expect(card.locator(".badge")).to_have_text("certified")
    card.get_by_role("link", name=title).click()

    entry = installer.get_by_test_id("catalog-entry")
    expect(entry).to_be_visible()
    expect(installer.get_by_test_id("catalog-entry-version")).to_have_text("0.1.0")
    expect(installer.get_by_test_id("catalog-certificate")).to_contain_text(report["signer"]["key_id"])
    expect(installer.get_by_test_id("catalog-figures")).to_contain_text(re.compile(r"p99 per batch\s*[\d.]+ ms"))
    expect(installer.get_by_test_id("catalog-params")).to_contain_text("High limit (degC)")
    expect(installer.get_by_test_id("catalog-telemetry")).to_contain_text("coldchain/+/telemetry")
    screenshot(installer, "catalog-entry")

    installer.get_by_test_id("catalog-entry-install").click()
    dialog = installer.get_by_test_id("install-dialog")
    expect(dialog.get_by_test_id("install-tenant")).to_have_value(buyer)
    high = dialog.get_by_test_id("install-param-high_limit_c")
    expect(high).to_have_value("8")
    high.fill("99")
    field = dialog.locator(".field", has=installer.get_by_test_id("install-param-high_limit_c"))  # its own field
    expect(field.locator(".field-error")).to_have_text("At most 40.")
    dialog.get_by_test_id("install-submit").click()
    expect(dialog.get_by_test_id("install-error")).to_contain_text("Some values need fixing")
    expect(dialog.get_by_test_id("install-done")).to_have_count(0)
    screenshot(installer, "install-invalid")
    high.fill("9")
    expect(field.locator(".field-error")).to_have_count(0)
    dialog.get_by_test_id("install-slug").fill(f"cold-chain-{suffix}-ours")
    dialog.get_by_test_id("install-submit").click()
    expect(dialog.get_by_test_id("install-done")).to_contain_text(
        f"Installed {title} 0.1.0 into Buyer {suffix} as cold-chain-{suffix}-ours."
    )
    dialog.get_by_test_id("install-open").click()

    installer.wait_for_url(f"**/t/{buyer}/blueprints/cold-chain-{suffix}-ours")
    expect(installer.get_by_role("heading", level=1)).to_have_text(title)
    expect(installer.get_by_test_id("origin-source")).to_contain_text(
        f"Installed from the catalog: {TENANT} / {slug} 0.1.0"
    )
    expect(installer.get_by_test_id("version-0.1.0")).to_contain_text("draft")
    screenshot(installer, "installed-blueprint")
    installed = api(installer, "GET", f"/t/{buyer}/blueprints/cold-chain-{suffix}-ours/versions/0.1.0/")
    assert installed["graph"]["params"]["properties"]["high_limit_c"]["default"] == 9
