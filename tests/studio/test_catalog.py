"""Certification and the catalog: steps that fail on purpose say so; partners publish; others install."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from blueprints.actions import Invalid, do_install_package, do_store_artifact
from blueprints.models import Blueprint, BlueprintVersion, Certification
from blueprints.package import find_builtin
from tests.studio.conftest import SYSTEM, body, graph

AIOT = str(Path(sys.executable).with_name("aiot"))


def certify(client, tenant: str, slug: str, version: str):
    r = client.post(f"/api/v1/t/{tenant}/blueprints/{slug}/versions/{version}/certify")
    assert r.status_code == 202, body(r)
    return Certification.objects.get(pk=body(r)["certification"])


def steps_of(cert: Certification) -> dict:
    return {s["step"]: s for s in cert.steps}


# Tests never fail on time: the verdicts here must not hang on how busy the machine is, so the
# budget is generous (the performance step failing on purpose is tested on its own).
GENEROUS = {"p99_ms_per_batch": 10_000, "batch": 100}


def install_warehouse(tenant) -> Blueprint:
    bp = do_install_package(SYSTEM, tenant, find_builtin("smart-warehouse-safety"))
    BlueprintVersion.objects.filter(blueprint=bp).update(budget=GENEROUS)
    return bp


@pytest.fixture
def warehouse(acme):
    return install_warehouse(acme["tenant"])


def test_a_built_in_blueprint_certifies_with_a_signed_report(acme, warehouse, client_as, tmp_path):
    publisher = client_as(acme["users"]["publisher"])
    cert = certify(publisher, "acme", warehouse.slug, "1.0.0")
    cert.refresh_from_db()
    assert cert.state == "certified", [(s["step"], s["status"], s["message"]) for s in cert.steps]
    assert [s["step"] for s in cert.steps] == [
        "schema",
        "static",
        "compile",
        "reproducible",
        "scenarios",
        "differential",
        "robustness",
        "performance",
    ]
    perf = steps_of(cert)["performance"]["figures"]
    assert perf["p99_ms_per_batch"] > 0 and perf["events_per_s"] > 0 and perf["bundle_bytes"] > 0
    assert BlueprintVersion.objects.get(blueprint=warehouse).state == "certified"
    report = publisher.get(f"/api/v1/t/acme/blueprints/{warehouse.slug}/versions/1.0.0/certification/report")
    assert report.status_code == 200
    path = tmp_path / "report.json"
    path.write_text(json.dumps(report.json()))
    verified = subprocess.run([AIOT, "cert", "verify", str(path)], capture_output=True, text=True)
    assert verified.returncode == 0 and "certified" in verified.stdout, verified.stderr
    tampered = report.json()
    tampered["document"]["verdict"] = "certified-and-then-some"
    path.write_text(json.dumps(tampered))
    refused = subprocess.run([AIOT, "cert", "verify", str(path)], capture_output=True, text=True)
    assert refused.returncode == 1 and "does not match" in refused.stderr
    # the same version and compiler: the same verdict
    again = certify(publisher, "acme", warehouse.slug, "1.0.0")
    again.refresh_from_db()
    assert again.state == "certified"
    assert [s["status"] for s in again.steps] == [s["status"] for s in cert.steps]


def test_a_wrong_scenario_fails_the_scenarios_step_with_a_repro(acme, client_as):
    designer, publisher = client_as(acme["users"]["designer"]), client_as(acme["users"]["publisher"])
    v = acme["version"]
    scenarios = [
        {
            "name": "wrong",
            "trace": [{"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 1000, "speed_kmh": 12}}],
            "expected": [],
        }
    ]
    designer.post(
        "/api/v1/t/acme/blueprints/overspeed/versions/",
        {"graph": v.graph, "scenarios": scenarios, "version": "0.2.0"},
        format="json",
    )
    cert = certify(publisher, "acme", "overspeed", "0.2.0")
    cert.refresh_from_db()
    step = steps_of(cert)["scenarios"]
    assert cert.state == "failed" and step["status"] == "failed" and "wrong" in step["message"]
    failure = step["repro"]["failures"][0]
    assert failure["trace"] and failure["got"] and failure["expected"] == []
    assert BlueprintVersion.objects.get(blueprint=acme["blueprint"], version="0.2.0").state == "failed"


def test_a_blueprint_over_its_budget_fails_the_performance_step(acme, client_as):
    BlueprintVersion.objects.filter(pk=acme["version"].pk).update(budget={"p99_ms_per_batch": 0.000001, "batch": 100})
    cert = certify(client_as(acme["users"]["publisher"]), "acme", "overspeed", "0.1.0")
    cert.refresh_from_db()
    steps = steps_of(cert)
    assert steps["scenarios"]["status"] == "passed"
    assert steps["performance"]["status"] == "failed" and "over the budget" in steps["performance"]["message"]


def model_graph(model_ref: str) -> dict:
    doc = graph()
    doc["nodes"][0]["params"]["schema"]["properties"]["load"] = {"type": "number"}
    doc["nodes"] += [
        {"id": "load", "type": "field", "params": {"path": "load"}},
        {"id": "m", "type": "model.onnx", "params": {"model": model_ref}},
        {"id": "high", "type": "compare", "params": {"op": "gt", "value": 0.5}},
        {"id": "model_alarm", "type": "action.alert", "params": {"name": "model", "mode": "level"}},
    ]
    doc["edges"] += [
        {"from": "forklift", "to": "load"},
        {"from": "speed", "to": "m.in1"},
        {"from": "load", "to": "m.in2"},
        {"from": "m", "to": "high.a"},
        {"from": "high", "to": "model_alarm.trigger"},
        {"from": "m", "to": "model_alarm.score"},
    ]
    return doc


def onnx_model(nodes, extra_init=()) -> bytes:
    x = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])
    g = helper.make_graph(nodes, "m", [x], [y], list(extra_init))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 21)])
    m.ir_version = 10
    onnx.checker.check_model(m)
    return m.SerializeToString()


def random_model() -> bytes:
    """Output = a uniform random number: the same input never gives the same output twice."""
    return onnx_model(
        [
            helper.make_node("RandomUniformLike", ["input"], ["r"], dtype=TensorProto.FLOAT),
            helper.make_node("ReduceMean", ["r", "axes"], ["y"], keepdims=1),
        ],
        [numpy_helper.from_array(np.array([1], np.int64), "axes")],
    )


def batch_dependent_model() -> bytes:
    """Output = x1 minus its mean over the batch: a row's result depends on the rows around it,
    so the compiled engine (whole batches) and the reference (one event) disagree."""
    return onnx_model(
        [
            helper.make_node("Slice", ["input", "s", "e", "a"], ["x1"]),
            helper.make_node("ReduceMean", ["x1", "zero"], ["mean"], keepdims=1),
            helper.make_node("Sub", ["x1", "mean"], ["y"]),
        ],
        [
            numpy_helper.from_array(np.array([0], np.int64), "s"),
            numpy_helper.from_array(np.array([1], np.int64), "e"),
            numpy_helper.from_array(np.array([1], np.int64), "a"),
            numpy_helper.from_array(np.array([0], np.int64), "zero"),
        ],
    )


@pytest.mark.parametrize(
    "model,failing_step", [(random_model, "reproducible"), (batch_dependent_model, "differential")]
)
def test_models_that_break_the_rules_fail_their_step(acme, client_as, model, failing_step):
    artifact = do_store_artifact(SYSTEM, acme["tenant"], model(), "bad.onnx")
    designer, publisher = client_as(acme["users"]["designer"]), client_as(acme["users"]["publisher"])
    r = designer.post(
        "/api/v1/t/acme/blueprints/",
        {"slug": "modelled", "title": "M", "graph": model_graph(f"artifact:{artifact.sha256}")},
        format="json",
    )
    assert r.status_code == 201, body(r)
    cert = certify(publisher, "acme", "modelled", "0.1.0")
    cert.refresh_from_db()
    step = steps_of(cert)[failing_step]
    assert cert.state == "failed" and step["status"] == "failed", steps_of(cert)
    assert step.get("repro"), step


def test_only_certified_versions_publish_and_only_publishers_may(acme, warehouse, client_as):
    publisher, designer = client_as(acme["users"]["publisher"]), client_as(acme["users"]["designer"])
    url = f"/api/v1/t/acme/blueprints/{warehouse.slug}/versions/1.0.0"
    assert publisher.post(f"{url}/publish").status_code == 409  # not certified yet
    assert designer.post(f"{url}/certify").status_code == 403
    certify(publisher, "acme", warehouse.slug, "1.0.0")
    assert designer.post(f"{url}/publish").status_code == 403
    assert publisher.post(f"{url}/publish").json()["state"] == "published"


def publish_warehouse(world, client_as) -> BlueprintVersion:
    bp = install_warehouse(world["tenant"])
    publisher = client_as(world["users"]["publisher"])
    certify(publisher, world["tenant"].slug, bp.slug, "1.0.0")
    publisher.post(f"/api/v1/t/{world['tenant'].slug}/blueprints/{bp.slug}/versions/1.0.0/publish")
    return BlueprintVersion.objects.get(blueprint=bp, version="1.0.0")


def test_the_catalog_shows_published_versions_to_every_tenant_and_installs_with_parameters(acme, globex, client_as):
    published = publish_warehouse(acme, client_as)
    viewer = client_as(globex["users"]["viewer"])
    listed = viewer.get("/api/v1/catalog/?q=forklift").json()
    assert listed["count"] == 1
    entry = listed["results"][0]
    assert entry["tenant"] == "acme" and entry["certificate"]["verdict"] == "certified"
    assert entry["required_telemetry"][0]["topic"] == "site/+/forklift/+/telemetry"
    assert viewer.get("/api/v1/catalog/?category=cold-chain").json()["count"] == 0
    assert viewer.get("/api/v1/catalog/?tag=forklift").json()["count"] == 1
    assert viewer.get("/api/v1/catalog/?tag=fork").json()["count"] == 0  # a whole tag, not a part of one
    # a viewer may not install; a designer of Globex may, into Globex only
    assert viewer.post(f"/api/v1/catalog/{entry['id']}/install", {"tenant": "globex"}, format="json").status_code == 403
    designer = client_as(globex["users"]["designer"])
    bad = designer.post(
        f"/api/v1/catalog/{entry['id']}/install",
        {"tenant": "globex", "params": {"aisle_speed_limit_kmh": -3}},
        format="json",
    )
    assert bad.status_code == 400 and body(bad)["error"]["field"] == "params"
    ok = designer.post(
        f"/api/v1/catalog/{entry['id']}/install",
        {"tenant": "globex", "params": {"aisle_speed_limit_kmh": 6}},
        format="json",
    )
    assert ok.status_code == 201, body(ok)
    installed = Blueprint.objects.get(tenant=globex["tenant"], slug=ok.json()["slug"])
    assert installed.forked_from_id == published.pk
    v = installed.versions.get()
    assert v.graph["params"]["properties"]["aisle_speed_limit_kmh"]["default"] == 6
    into_acme = designer.post(f"/api/v1/catalog/{entry['id']}/install", {"tenant": "acme"}, format="json")
    assert into_acme.status_code == 404
    # a newer published version is offered as an upgrade, with a diff
    newer = copy.deepcopy(published.graph)
    newer["nodes"][-1]["label"] = "Person ahead (renamed)"  # a change that keeps the scenarios true
    acme_designer = client_as(acme["users"]["designer"])
    acme_designer.post(
        f"/api/v1/t/acme/blueprints/{published.blueprint.slug}/versions/",
        {"graph": newer, "version": "1.1.0"},
        format="json",
    )
    certify(client_as(acme["users"]["publisher"]), "acme", published.blueprint.slug, "1.1.0")
    client_as(acme["users"]["publisher"]).post(
        f"/api/v1/t/acme/blueprints/{published.blueprint.slug}/versions/1.1.0/publish"
    )
    upgrades = designer.get(f"/api/v1/t/globex/blueprints/{installed.slug}/upgrades").json()
    assert [u["version"] for u in upgrades] == ["1.1.0"]
    assert upgrades[0]["diff"]["nodes"]["changed"] == [newer["nodes"][-1]["id"]]


def test_deprecated_versions_leave_the_listing_but_install_by_id(acme, globex, client_as):
    published = publish_warehouse(acme, client_as)
    client_as(acme["users"]["publisher"]).post(
        f"/api/v1/t/acme/blueprints/{published.blueprint.slug}/versions/1.0.0/deprecate"
    )
    designer = client_as(globex["users"]["designer"])
    assert designer.get("/api/v1/catalog/").json()["count"] == 0
    assert designer.get(f"/api/v1/catalog/{published.pk}/").status_code == 200
    r = designer.post(f"/api/v1/catalog/{published.pk}/install", {"tenant": "globex", "slug": "old-one"}, format="json")
    assert r.status_code == 201


@pytest.mark.parametrize("verb", ["certify", "publish", "deprecate"])
def test_another_tenant_cannot_certify_publish_or_deprecate(acme, globex, client_as, verb):
    r = client_as(globex["users"]["admin"]).post(f"/api/v1/t/acme/blueprints/overspeed/versions/0.1.0/{verb}")
    assert r.status_code == 404


def test_drafts_are_not_in_the_catalog(acme, globex, client_as):
    r = client_as(globex["users"]["viewer"]).get(f"/api/v1/catalog/{acme['version'].pk}/")
    assert r.status_code == 404


def test_the_catalog_list_leaves_the_signed_report_to_the_entry_s_page(acme, globex, warehouse, client_as):
    publisher = client_as(acme["users"]["publisher"])
    certify(publisher, "acme", warehouse.slug, "1.0.0")
    assert publisher.post(f"/api/v1/t/acme/blueprints/{warehouse.slug}/versions/1.0.0/publish").status_code == 200
    viewer = client_as(globex["users"]["viewer"])
    (entry,) = body(viewer.get("/api/v1/catalog/"))["results"]
    assert entry["certificate"]["verdict"] == "certified" and "signed_report" not in entry["certificate"]
    one = body(viewer.get(f"/api/v1/catalog/{entry['id']}/"))
    assert one["certificate"]["signed_report"]["document"]["verdict"] == "certified"


def test_a_package_s_declared_budget_is_what_certification_judges_against(acme):
    bp = do_install_package(SYSTEM, acme["tenant"], find_builtin("predictive-maintenance"))
    assert bp.versions.get().budget == {"p99_ms_per_batch": 10, "batch": 100}
    package = find_builtin("cold-chain-monitor")
    package.meta["budget"] = {"p99_ms_per_batch": -1}
    with pytest.raises(Invalid, match="p99_ms_per_batch"):
        do_install_package(SYSTEM, acme["tenant"], package, slug="bad-budget")


def test_the_three_built_in_blueprints_certify_publish_and_install_elsewhere_with_parameters(acme, globex, client_as):
    publisher, designer = client_as(acme["users"]["publisher"]), client_as(globex["users"]["designer"])
    for slug in ("smart-warehouse-safety", "cold-chain-monitor", "predictive-maintenance"):
        bp = do_install_package(SYSTEM, acme["tenant"], find_builtin(slug))
        version = bp.versions.get()
        BlueprintVersion.objects.filter(pk=version.pk).update(budget=GENEROUS)
        cert = certify(publisher, "acme", slug, version.version)
        cert.refresh_from_db()
        failed = [(s["step"], s["message"]) for s in cert.steps if s["status"] != "passed"]
        assert cert.state == "certified", (slug, failed)
        assert publisher.post(f"/api/v1/t/acme/blueprints/{slug}/versions/{version.version}/publish").status_code == 200
        (entry,) = body(designer.get(f"/api/v1/catalog/?q={slug}"))["results"]
        # a parameter of the blueprint's own, set halfway between its default and its maximum
        properties = entry["params_schema"]["properties"]
        name, prop = next((n, p) for n, p in properties.items() if p.get("type") == "number" and "maximum" in p)
        value = (prop["default"] + prop["maximum"]) / 2
        r = designer.post(
            f"/api/v1/catalog/{entry['id']}/install", {"tenant": "globex", "params": {name: value}}, format="json"
        )
        assert r.status_code == 201, body(r)
        installed = Blueprint.objects.get(tenant=globex["tenant"], slug=body(r)["slug"]).versions.get()
        assert installed.graph["params"]["properties"][name]["default"] == value
