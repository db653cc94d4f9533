"""The studio in a browser, end to end: each test signs in as a demo user of the live studio (real
processes: see conftest.py) and does what that user would do.

Run alone: ``.venv/bin/python -m pytest tests/e2e -q``; in parallel runs, with ``--dist loadgroup``
(the tests share one xdist group, so one worker and one studio).
"""

from __future__ import annotations

import json
import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from .conftest import TENANT, api, screenshot, sign_in

pytestmark = [
    pytest.mark.xdist_group("e2e"),
    # pytest-playwright 0.10's own session fixture `base_url`, not ours
    pytest.mark.filterwarnings("ignore:Session-scoped fixtures defined as instance methods"),
]

# SPEC §3's overspeed rule: the source's schema, and where each palette item is dropped on the
# canvas (relative to its top-left corner).
SPEED_SCHEMA = {
    "type": "object",
    "required": ["ts", "speed_kmh"],
    "properties": {"ts": {"type": "number"}, "speed_kmh": {"type": "number"}},
}
DROPS = [
    ("source.telemetry", "telemetry_1", (110, 80)),
    ("field", "field_1", (370, 80)),
    ("compare", "compare_1", (580, 220)),
    ("action.alert", "alert_1", (580, 440)),
]


def center(page: Page, test_id: str) -> tuple[float, float]:
    box = page.get_by_test_id(test_id).bounding_box()
    assert box, f"{test_id} is not on screen"
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def wire(page: Page, source: str, target_handle: str) -> None:
    """Drags a wire with the mouse from a node's output handle to an input handle."""
    page.mouse.move(*center(page, f"handle-{source}-out"))
    page.mouse.down()
    page.mouse.move(*center(page, f"handle-{target_handle}"), steps=12)
    page.mouse.up()


def expect_whole_graph_in_view(page: Page) -> None:
    """The editor fits the window (the page does not scroll) and shows every node of the graph."""
    page.wait_for_function(
        """() => {
            const canvas = document.querySelector('[data-testid="canvas"]').getBoundingClientRect();
            const nodes = [...document.querySelectorAll('.react-flow__node')].map(n => n.getBoundingClientRect());
            return nodes.length > 0 && nodes.every(b => b.left >= canvas.left - 1 && b.right <= canvas.right + 1
                                                     && b.top >= canvas.top - 1 && b.bottom <= canvas.bottom + 1);
        }"""
    )
    sizes = page.evaluate("[document.documentElement.scrollHeight, window.innerHeight]")
    assert sizes[0] <= sizes[1], f"the editor is taller than the window: {sizes}"


def open_new_blueprint_in_editor(page: Page) -> str:
    page.goto(f"/t/{TENANT}/blueprints")
    page.get_by_test_id("blueprint-new").click()
    title = f"Overspeed {uuid.uuid4().hex[:6]}"
    page.get_by_test_id("blueprint-new-title").fill(title)
    slug = page.get_by_test_id("blueprint-new-slug").input_value()
    assert slug == title.lower().replace(" ", "-")
    page.get_by_test_id("blueprint-new-create").click()
    page.wait_for_url(f"**/blueprints/{slug}")
    page.get_by_test_id("open-editor").click()
    page.wait_for_url(f"**/blueprints/{slug}/edit/0.1.0")
    expect(page.get_by_test_id("canvas")).to_be_visible()
    return slug


def test_a_designer_builds_the_overspeed_rule_from_the_palette_and_saves_a_draft(page: Page):
    sign_in(page, "demo-designer")
    slug = open_new_blueprint_in_editor(page)
    canvas = page.get_by_test_id("canvas")
    expect(page.locator(".react-flow__node")).to_have_count(0)

    # Drag each node type from the palette; it lands under the pointer (the canvas keeps its zoom).
    canvas_box = canvas.bounding_box()
    for node_type, node_id, (x, y) in DROPS:
        page.get_by_test_id(f"palette-{node_type}").drag_to(canvas, target_position={"x": x, "y": y})
        node = page.get_by_test_id(f"node-{node_id}")
        expect(node).to_be_visible()
        box = node.bounding_box()
        px, py = canvas_box["x"] + x, canvas_box["y"] + y
        assert box["x"] <= px <= box["x"] + box["width"] and box["y"] <= py <= box["y"] + box["height"], (
            f"{node_id} was dropped at ({px}, {py}) but sits at {box}"
        )
    expect(page.locator(".react-flow__node")).to_have_count(4)

    # Settings in the side panel: the form comes from each type's params schema.
    page.get_by_test_id("node-telemetry_1").click()
    expect(page.get_by_test_id("inspector")).to_contain_text("source.telemetry")
    page.get_by_test_id("param-topic").fill("site/+/forklift/+/telemetry")
    page.get_by_test_id("param-key").fill("topic:3")
    page.get_by_test_id("param-schema").fill(json.dumps(SPEED_SCHEMA, indent=2))
    page.get_by_test_id("node-field_1").click()
    page.get_by_test_id("param-path").fill("speed_kmh")
    page.get_by_test_id("node-compare_1").click()
    page.get_by_test_id("param-op").select_option("gt")
    page.get_by_test_id("param-value-type").select_option("number")
    page.get_by_test_id("param-value").fill("8")
    page.get_by_test_id("node-alert_1").click()
    page.get_by_test_id("param-name").fill("overspeed")
    page.get_by_test_id("param-severity").select_option("warning")

    wire(page, "telemetry_1", "field_1-in")
    wire(page, "field_1", "compare_1-a")
    expect(page.locator(".react-flow__edge")).to_have_count(2)

    # The alert's trigger is unfed: the server's validation says so on the node itself.
    problem = page.get_by_test_id("node-problem-alert_1")
    expect(problem).to_be_visible()
    expect(page.get_by_test_id("node-alert_1")).to_contain_text("alert_1.trigger")
    for node_id in ("telemetry_1", "field_1", "compare_1"):
        expect(page.get_by_test_id(f"node-problem-{node_id}")).to_have_count(0)

    wire(page, "compare_1", "alert_1-trigger")
    expect(page.locator(".react-flow__edge")).to_have_count(3)
    expect(problem).to_have_count(0)
    expect(page.get_by_test_id("problem-count")).to_have_count(0)
    page.get_by_test_id("tab-problems").click()
    expect(page.get_by_role("tabpanel")).to_contain_text("No problems")

    page.get_by_test_id("layout-button").click()
    expect(page.get_by_test_id("save-state")).to_have_text("Unsaved changes")
    page.get_by_test_id("save-button").click()
    page.wait_for_url(f"**/blueprints/{slug}/edit/0.1.1")
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")
    expect(page.locator(".toolbar .version")).to_contain_text("v0.1.1")
    expect(page.locator(".toolbar .version")).to_contain_text("draft")
    page.get_by_test_id("fit-button").click()
    page.wait_for_timeout(400)  # the fit animates for 300 ms
    screenshot(page, "editor-overspeed-rule")

    saved = api(page, "GET", f"/t/{TENANT}/blueprints/{slug}/versions/0.1.1/")
    assert saved["state"] == "draft"
    graph = saved["graph"]
    assert api(page, "POST", "/validate", {"graph": graph})["problems"] == []
    nodes = {n["id"]: n for n in graph["nodes"]}
    assert {i: n["type"] for i, n in nodes.items()} == {
        "telemetry_1": "source.telemetry",
        "field_1": "field",
        "compare_1": "compare",
        "alert_1": "action.alert",
    }
    assert nodes["telemetry_1"]["params"] == {
        "topic": "site/+/forklift/+/telemetry",
        "key": "topic:3",
        "schema": SPEED_SCHEMA,
    }
    assert nodes["field_1"]["params"] == {"path": "speed_kmh"}
    assert nodes["compare_1"]["params"] == {"op": "gt", "value": 8}
    assert nodes["alert_1"]["params"]["name"] == "overspeed"
    wires = {(e["from"], e["to"] if "." in e["to"] else f"{e['to']}.in") for e in graph["edges"]}
    assert wires == {("telemetry_1", "field_1.in"), ("field_1", "compare_1.a"), ("compare_1", "alert_1.trigger")}
    versions = [v["version"] for v in api(page, "GET", f"/t/{TENANT}/blueprints/{slug}/versions/")]
    assert versions == ["0.1.1", "0.1.0"]


def test_a_designer_replays_a_scenario_and_reads_an_alert_on_the_chart(page: Page):
    sign_in(page, "demo-designer")
    page.goto(f"/t/{TENANT}/blueprints/smart-warehouse-safety/edit/1.0.0")
    expect(page.get_by_test_id("node-forklift")).to_be_visible()
    expect_whole_graph_in_view(page)
    page.get_by_test_id("replay-button").click()
    page.get_by_test_id("replay-source").select_option(label="Near miss in an aisle")
    page.get_by_test_id("replay-run").click()

    expect(page.get_by_test_id("timeline")).to_be_visible()
    expect(page.get_by_test_id("replay-summary")).to_contain_text("accepted: 15")
    expect(page.get_by_test_id("replay-summary")).to_contain_text("actions: 5")
    expect(page.get_by_test_id("series-speed")).to_be_visible()
    markers = page.locator("[data-testid^='alert-marker-']")
    expect(markers).to_have_count(5)
    # the replay counts show on the canvas too
    expect(page.get_by_test_id("node-counts-speed")).to_contain_text("15 eval")

    near_miss = page.locator("[data-testid^='alert-marker-'][aria-label^='alert near_miss at']")
    expect(near_miss).to_have_count(1)
    # the near miss and its crawl command happen at once: both triangles can be clicked
    crawl = page.locator("[data-testid^='alert-marker-'][aria-label^='command cmd_crawl at']").first
    assert near_miss.locator("path").bounding_box() != crawl.locator("path").bounding_box()
    near_miss.locator("path").click()
    detail = page.get_by_test_id("record-detail")
    expect(detail).to_be_visible()
    expect(detail).to_contain_text("Alert near_miss")
    expect(detail).to_contain_text("key FL-07")
    values = detail.locator("tbody tr")
    assert values.count() >= 1, "the alert's values are listed"
    for row in values.all():
        expect(row.locator("th")).not_to_be_empty()
        expect(row.locator("td")).not_to_be_empty()
    page.get_by_test_id("timeline").evaluate("el => el.scrollIntoView({block: 'start'})")
    screenshot(page, "replay-chart")


def test_a_designer_compiles_and_watches_the_progress_reach_100_percent(page: Page):
    # The fallback poll of the task answers "pending" only: what moves the bar is the socket.
    polls = []

    def pending(route):
        polls.append(route.request.url)
        task_id = route.request.url.rstrip("/").rsplit("/", 1)[-1]
        route.fulfill(json={"task_id": task_id, "state": "PENDING", "progress": None, "result": None})

    page.route(re.compile(r".*/api/v1/t/[^/]+/tasks/[^/]+$"), pending)
    frames: list[dict] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(json.loads(f))))

    sign_in(page, "demo-designer")
    page.goto(f"/t/{TENANT}/blueprints/cold-chain-monitor/edit/1.0.0")
    expect(page.get_by_test_id("compile-button")).to_be_enabled()
    expect(page.get_by_test_id("live-state")).to_have_text("live")
    # every value the progress bar shows, in order
    page.evaluate(
        """() => {
            window.__progress = [];
            new MutationObserver(() => {
                const bar = document.querySelector('[data-testid="compile-progress"]');
                const now = bar && bar.getAttribute('aria-valuenow');
                if (now !== null && window.__progress.at(-1) !== now) window.__progress.push(now);
            }).observe(document.body, {subtree: true, childList: true, attributes: true,
                                       attributeFilter: ['aria-valuenow']});
        }"""
    )
    page.get_by_test_id("compile-button").click()
    dialog = page.get_by_test_id("compile-dialog")
    expect(dialog).to_be_visible()
    bundle_id = page.get_by_test_id("bundle-id")
    expect(bundle_id).to_have_text(re.compile(r"^[0-9a-f]{64}$"), timeout=60_000)

    shown = [int(v) for v in page.evaluate("window.__progress")]
    assert shown[-1] == 100 and shown == sorted(shown) and len(shown) >= 2, shown
    progress = [f["data"] for f in frames if f.get("type") == "compile.progress"]
    assert progress and progress[-1]["state"] == "done" and progress[-1]["progress"] == 1.0, progress
    assert [p["progress"] for p in progress] == sorted(p["progress"] for p in progress)
    assert progress[-1]["bundle_id"] == bundle_id.inner_text()

    link = page.get_by_test_id("bundle-download")
    href = link.get_attribute("href")
    assert href == f"/api/v1/t/{TENANT}/bundles/{bundle_id.inner_text()}/download"
    expect(link).to_have_text("cold-chain-monitor-1.0.0.aiotb")
    download = page.request.get(href)
    assert download.ok and len(download.body()) > 1000
    screenshot(page, "compile-result")


def test_the_dashboard_shows_a_device_going_online_and_its_alert_live_and_an_operator_acknowledges_it(
    page: Page, live_studio
):
    closed_sockets = []
    page.on("websocket", lambda ws: ws.on("close", lambda _: closed_sockets.append(ws.url)))
    sign_in(page, "demo-operator")
    expect(page.get_by_test_id("devices-table")).to_be_visible()
    expect(page.get_by_test_id("live-state")).to_have_text("live")
    opened = time.monotonic()
    device = page.get_by_test_id("device-gw-01")
    expect(device).not_to_have_attribute("data-state", "online")
    page.evaluate("window.__not_reloaded = true")

    # An idle socket stays open (the channel layer's read timeout once closed it after 5 s).
    page.wait_for_timeout(max(0, 6.0 - (time.monotonic() - opened)) * 1000)
    expect(page.get_by_test_id("live-state")).to_have_text("live")

    # The operator starts registering a device; live updates must not pull the focus away.
    page.get_by_test_id("device-register").click()
    dialog = page.get_by_role("dialog", name="Register a device")
    dialog.get_by_label("Name").fill("Dock gate")

    live_studio.publish(
        "gw-01",
        "status",
        {
            "state": "online",
            "bundle": "e2e" + "0" * 61,
            "uptime_s": 1,
            "events_in": 5,
            "events_rejected": 0,
            "actions_out": 1,
            "eval_ms": {"p50": 0.1, "p99": 0.5},
            "ts": int(time.time() * 1000),
        },
        retain=True,
    )
    expect(device).to_have_attribute("data-state", "online")
    expect(page.get_by_test_id("device-state-gw-01")).to_have_text("online")
    expect(page.get_by_test_id("device-p99-gw-01")).to_have_text("0.50")
    expect(page.get_by_test_id("devices-online")).to_contain_text("online")
    expect(dialog.get_by_label("Name")).to_be_focused()
    expect(dialog.get_by_label("Name")).to_have_value("Dock gate")
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)

    message = f"FL-07 at 12 km/h ({uuid.uuid4().hex[:6]})"
    live_studio.publish(
        "gw-01",
        "actions",
        {
            "action": "alarm",
            "kind": "alert",
            "key": "FL-07",
            "ts": int(time.time() * 1000),
            "name": "overspeed",
            "severity": "warning",
            "message": message,
            "values": {"speed": 12},
        },
    )
    alert = page.get_by_test_id("alert-feed").locator("li").filter(has_text=message)
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("overspeed · gw-01 · key FL-07")
    expect(alert).to_contain_text("speed=12")
    assert page.evaluate("window.__not_reloaded") is True, "the page was reloaded"
    screenshot(page, "dashboard")

    alert_id = int(alert.get_attribute("data-testid").removeprefix("alert-"))
    page.get_by_test_id(f"ack-{alert_id}").click()
    expect(alert).to_contain_text("acknowledged by demo-operator")
    expect(page.get_by_test_id(f"ack-{alert_id}")).to_have_count(0)
    stored = api(page, "GET", f"/t/{TENANT}/alerts/?device=gw-01")["results"]
    assert next(a for a in stored if a["id"] == alert_id)["acknowledged_by"] == "demo-operator"
    assert closed_sockets == [], "the live socket closed"


def test_a_viewer_sees_no_edit_controls(page: Page, live_studio):
    message = f"viewer check {uuid.uuid4().hex[:6]}"
    live_studio.publish(
        "gw-02",
        "actions",
        {
            "action": "alarm",
            "kind": "alert",
            "key": "FL-02",
            "ts": int(time.time() * 1000),
            "name": "overspeed",
            "severity": "warning",
            "message": message,
            "values": {},
        },
    )
    sign_in(page, "demo-viewer")

    # dashboard: alerts, but nothing to acknowledge; no device registration
    alert = page.get_by_test_id("alert-feed").locator("li").filter(has_text=message)
    expect(alert).to_be_visible()
    expect(alert.get_by_role("button")).to_have_count(0)
    expect(page.locator("[data-testid^='ack-']")).to_have_count(0)
    expect(page.get_by_test_id("device-register")).to_have_count(0)
    expect(page.get_by_test_id("nav-admin")).to_have_count(0)

    # blueprints: no new, fork, delete or submit
    page.get_by_test_id("nav-blueprints").click()
    expect(page.get_by_test_id("blueprint-smart-warehouse-safety")).to_be_visible()
    expect(page.get_by_test_id("blueprint-new")).to_have_count(0)
    page.get_by_role("link", name="Smart Warehouse Safety Monitor").click()
    expect(page.get_by_test_id("version-1.0.0")).to_be_visible()
    for test_id in ("blueprint-fork", "blueprint-delete", "submit-1.0.0"):
        expect(page.get_by_test_id(test_id)).to_have_count(0)
    expect(page.get_by_test_id("open-editor")).to_have_text("View graph")

    # editor: the graph to look at, nothing to change it with
    page.get_by_test_id("open-editor").click()
    expect(page.get_by_test_id("node-forklift")).to_be_visible()
    expect_whole_graph_in_view(page)
    for test_id in ("save-button", "compile-button", "replay-button"):
        expect(page.get_by_test_id(test_id)).to_have_count(0)
    for test_id in ("undo-button", "redo-button", "layout-button"):
        expect(page.get_by_test_id(test_id)).to_be_disabled()
    palette_items = page.locator(".palette-item")
    assert palette_items.count() > 10
    for item in palette_items.all():
        expect(item).to_be_disabled()
        expect(item).to_have_attribute("draggable", "false")
    nodes_before = page.locator(".react-flow__node").count()
    page.get_by_test_id("palette-compare").drag_to(page.get_by_test_id("canvas"), force=True)
    expect(page.locator(".react-flow__node")).to_have_count(nodes_before)
    expect(page.get_by_test_id("readme")).to_be_disabled()

    page.get_by_test_id("node-forklift").click()
    expect(page.get_by_test_id("inspector")).to_be_visible()
    expect(page.get_by_test_id("node-id-input")).to_be_disabled()
    expect(page.get_by_test_id("param-topic")).to_be_disabled()
    expect(page.get_by_test_id("node-delete")).to_have_count(0)
    page.keyboard.press("Delete")
    expect(page.locator(".react-flow__node")).to_have_count(nodes_before)
    expect(page.get_by_test_id("save-state")).to_have_text("Saved")


def test_the_app_works_at_tablet_width_and_by_keyboard(new_browser_context):
    page = new_browser_context(viewport={"width": 768, "height": 1024}).new_page()
    page.goto("/login")
    expect(page.get_by_test_id("login-username")).to_be_visible()

    def focused() -> str | None:
        return page.evaluate("document.activeElement && document.activeElement.dataset.testid || null")

    tab_order = []
    for _ in range(3):
        page.keyboard.press("Tab")
        tab_order.append(focused())
    assert tab_order == ["login-username", "login-password", "login-submit"], tab_order
    page.get_by_test_id("login-username").focus()
    page.keyboard.type("demo-designer")
    page.keyboard.press("Tab")
    page.keyboard.type("demo-password")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/t/{TENANT}")
    expect(page.get_by_test_id("devices-table")).to_be_visible()

    for nav, check in (
        ("nav-blueprints", "blueprint-smart-warehouse-safety"),
        ("nav-catalog", "catalog-search"),
        ("nav-dashboard", "devices-table"),
    ):
        link = page.get_by_test_id(nav)
        box = link.bounding_box()
        assert box and box["x"] >= 0 and box["x"] + box["width"] <= 768, f"{nav} is off screen: {box}"
        link.click()
        expect(page.get_by_test_id(check)).to_be_visible()
        width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        assert width[0] <= width[1], f"{page.url} scrolls sideways at 768 px: {width}"
    expect(page.get_by_test_id("logout")).to_be_in_viewport()
    screenshot(page, "tablet-dashboard")

    page.goto(f"/t/{TENANT}/blueprints/smart-warehouse-safety/edit/1.0.0")
    expect(page.get_by_test_id("node-forklift")).to_be_in_viewport()
    expect(page.get_by_test_id("save-button")).to_be_in_viewport()
    screenshot(page, "tablet-editor")


def test_an_admin_reaches_the_catalog_members_and_audit(page: Page):
    page.goto("/login")
    expect(page.get_by_test_id("login-submit")).to_be_visible()
    screenshot(page, "sign-in")
    sign_in(page, "demo-admin")
    expect(page.get_by_test_id("devices-table")).to_be_visible()
    expect(page.get_by_test_id("alert-feed").or_(page.get_by_text("No alerts."))).to_be_visible()

    page.get_by_test_id("nav-blueprints").click()
    expect(page.get_by_test_id("blueprint-cold-chain-monitor")).to_be_visible()
    expect(page.get_by_test_id("blueprint-latest-cold-chain-monitor")).to_contain_text("1.0.0")
    screenshot(page, "blueprints")

    page.get_by_test_id("nav-catalog").click()
    expect(page.get_by_test_id("catalog-search")).to_be_visible()
    screenshot(page, "catalog")

    page.get_by_test_id("nav-admin").click()
    page.wait_for_url("**/admin/members")
    for role in ("viewer", "operator", "designer", "publisher", "admin"):
        expect(page.get_by_test_id(f"member-demo-{role}")).to_be_visible()
    screenshot(page, "admin-members")

    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/admin/audit")
    expect(page.get_by_test_id("audit").locator("tbody tr").first).to_be_visible()
    screenshot(page, "audit")
