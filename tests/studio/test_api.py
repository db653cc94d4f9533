"""The API's behaviour: blueprints and versions, simulate, compile, tokens, devices, errors, audit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.test import APIClient

from blueprints.artifacts import TenantModels
from blueprints.certification.steps import Certifier, Subject
from blueprints.models import ApiToken, AppendOnly, AuditEvent, BlueprintVersion
from blueprints.package import BlueprintPackage
from blueprints.scenarios import run_scenario
from edge_compiler.bundle import read_bundle
from tests.studio.conftest import body, graph


def test_creating_a_blueprint_makes_a_first_draft_and_audits_it(acme, client_as):
    r = client_as(acme["users"]["designer"]).post(
        "/api/v1/t/acme/blueprints/", {"slug": "cold", "title": "Cold", "graph": graph(), "tags": ["x"]}, format="json"
    )
    assert r.status_code == 201, body(r)
    assert body(r)["latest_version"]["version"] == "0.1.0" and body(r)["latest_version"]["state"] == "draft"
    actions = list(AuditEvent.objects.filter(tenant=acme["tenant"]).values_list("action", flat=True)[:2])
    assert actions == ["version.create", "blueprint.create"]
    event = AuditEvent.objects.filter(action="blueprint.create", object_id=str(acme["blueprint"].pk)).first()
    assert event.actor_label == "system:tests"


def test_a_duplicate_slug_is_a_409_naming_the_field(acme, client_as):
    r = client_as(acme["users"]["designer"]).post(
        "/api/v1/t/acme/blueprints/", {"slug": "overspeed", "title": "X"}, format="json"
    )
    assert r.status_code == 409 and body(r)["error"] == {
        "code": "conflict",
        "field": "slug",
        "message": "acme already has a blueprint 'overspeed'",
    }


def test_saving_makes_a_new_draft_version_and_submitted_versions_never_change(acme, client_as):
    c = client_as(acme["users"]["designer"])
    doc = graph()
    doc["nodes"][2]["params"]["op"] = "ge"
    r = c.post("/api/v1/t/acme/blueprints/overspeed/versions/", {"graph": doc}, format="json")
    assert r.status_code == 201 and body(r)["version"] == "0.1.1" and body(r)["state"] == "draft"
    assert body(r)["scenarios"] == acme["version"].scenarios  # carried over
    r = c.post("/api/v1/t/acme/blueprints/overspeed/versions/0.1.1/submit")
    assert r.status_code == 200 and body(r)["state"] == "certifying"
    r = c.patch("/api/v1/t/acme/blueprints/overspeed/versions/0.1.1/", {"readme": "changed"}, format="json")
    assert r.status_code == 409 and body(r)["error"]["code"] == "conflict"
    v = BlueprintVersion.objects.get(blueprint=acme["blueprint"], version="0.1.1")
    v.readme = "sneaky"
    with pytest.raises(Exception, match="certifying"):
        v.save()


def test_an_invalid_graph_cannot_be_submitted(acme, client_as):
    c = client_as(acme["users"]["designer"])
    doc = graph()
    doc["edges"].pop()
    c.post("/api/v1/t/acme/blueprints/overspeed/versions/", {"graph": doc, "version": "0.2.0"}, format="json")
    r = c.post("/api/v1/t/acme/blueprints/overspeed/versions/0.2.0/submit")
    assert (
        r.status_code == 400 and body(r)["error"]["field"] == "graph" and "unfed_input" in body(r)["error"]["message"]
    )


def test_validate_returns_every_problem(acme, client_as):
    doc = graph()
    doc["edges"].pop()
    doc["nodes"][1]["params"]["path"] = "nope"
    r = client_as(acme["users"]["viewer"]).post("/api/v1/validate", {"graph": doc}, format="json")
    assert r.status_code == 200
    assert {p["code"] for p in body(r)["problems"]} == {"unfed_input", "unknown_field"}


def test_node_types_are_the_registry_export(acme, client_as):
    r = client_as(acme["users"]["viewer"]).get("/api/v1/node-types")
    assert r.status_code == 200 and body(r)["format"] == "aiot.node-types/v1"
    assert len(body(r)["node_types"]) == 25


def test_simulate_returns_records_series_and_counts(acme, client_as):
    trace = [
        {"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": t, "speed_kmh": s}}
        for t, s in ((1000, 5), (2000, 9), (3000, 10), (4000, 2))
    ]
    r = client_as(acme["users"]["designer"]).post(
        "/api/v1/t/acme/simulate", {"graph": graph(), "trace": trace, "series": ["speed", "fast"]}, format="json"
    )
    assert r.status_code == 200, body(r)
    out = body(r)
    assert [x["ts"] for x in out["records"]] == [2000]
    assert out["series"]["speed"] == [[1000, "f1", 5.0], [2000, "f1", 9.0], [3000, "f1", 10.0], [4000, "f1", 2.0]]
    assert out["counts"]["alarm"] == {"evaluated": 4, "fired": 1}
    assert out["summary"]["accepted"] == 4


def test_simulate_is_bounded_in_lines_records_and_points(acme, client_as, monkeypatch):
    import blueprints.api.library
    import blueprints.simulate

    monkeypatch.setattr(blueprints.simulate, "MAX_RECORDS", 3)
    monkeypatch.setattr(blueprints.simulate, "MAX_POINTS", 4)
    monkeypatch.setattr(blueprints.api.library, "MAX_TRACE_LINES", 9)
    trace = [  # nine forklifts over the limit: nine alerts, nine points
        {"topic": f"site/a/forklift/f{i}/telemetry", "payload": {"ts": 1000 + i, "speed_kmh": 20}} for i in range(9)
    ]
    c = client_as(acme["users"]["designer"])
    r = c.post("/api/v1/t/acme/simulate", {"graph": graph(), "trace": trace, "series": ["speed"]}, format="json")
    out = body(r)
    assert r.status_code == 200 and out["truncated"] is True
    assert [x["key"] for x in out["records"]] == ["f0", "f1", "f2"]
    assert [p[1] for p in out["series"]["speed"]] == ["f0", "f1", "f2", "f3"]
    assert out["summary"]["accepted"] == 9 and out["counts"]["alarm"] == {"evaluated": 9, "fired": 9}
    r = c.post("/api/v1/t/acme/simulate", {"graph": graph(), "trace": [*trace, trace[0]]}, format="json")
    assert r.status_code == 400 and body(r)["error"]["field"] == "trace" and "at most 9" in body(r)["error"]["message"]


def test_simulate_names_the_bad_trace_line(acme, client_as):
    r = client_as(acme["users"]["designer"]).post(
        "/api/v1/t/acme/simulate",
        {"graph": graph(), "trace": [{"topic": "a", "payload": {}}, {"payload": {}}]},
        format="json",
    )
    assert r.status_code == 400 and "trace:2" in body(r)["error"]["message"]


def test_simulate_of_an_invalid_graph_lists_the_problems(acme, client_as):
    doc = graph()
    doc["nodes"][2]["type"] = "nope"
    r = client_as(acme["users"]["designer"]).post("/api/v1/t/acme/simulate", {"graph": doc, "trace": []}, format="json")
    assert r.status_code == 400 and body(r)["error"]["problems"][0]["code"] == "unknown_type"


def _certify_scenarios(version: BlueprintVersion, scenarios: list[dict]):
    """The certification's scenarios step on a version's graph: both engines against `expected`."""
    certifier = Certifier(
        Subject(
            graph=version.graph,
            params={},
            scenarios=scenarios,
            models=TenantModels(version.blueprint.tenant),
            key=Ed25519PrivateKey.generate(),
        )
    )
    for step in ("static", "compile"):
        assert certifier.run(step).status == "passed", step
    return certifier.run("scenarios")


def test_the_fixture_s_scenarios_expect_what_its_graph_does_on_both_engines(acme, tmp_path):
    """A scenario whose expected actions are not what its trace gives is a fixture that lies."""
    v = acme["version"]
    assert v.scenarios
    result = _certify_scenarios(v, v.scenarios)
    assert result.status == "passed", result.message
    package = BlueprintPackage(tmp_path, {"slug": "overspeed"}, v.graph, v.readme)
    for sc in v.scenarios:
        for engine in ("reference", "onnx"):
            outcome = run_scenario(package, sc, engine)
            assert outcome.passed, (sc["name"], engine, outcome.difference)


def test_a_scenario_saved_from_a_replay_is_stored_and_passes_on_both_engines(acme, client_as, tmp_path):
    """What the editor's "Save as scenario" sends: a replay's trace and parameter values, with the
    records and summary the replay (POST …/simulate) gave as the actions it must produce."""
    c = client_as(acme["users"]["designer"])
    trace = [
        {"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": t, "speed_kmh": s}, "arrival_ms": t + 40}
        for t, s in ((1000, 5), (2000, 7), (3000, 10), (4000, 2), (5000, 9.5))
    ]
    trace.insert(2, {"topic": "site/a/forklift/f2/telemetry", "payload": {"ts": 2500}})  # no speed: rejected
    params = {"limit": 6}
    r = c.post("/api/v1/t/acme/simulate", {"graph": graph(), "params": params, "trace": trace}, format="json")
    assert r.status_code == 200, body(r)
    replay = body(r)
    assert [x["ts"] for x in replay["records"]] == [2000, 5000]  # the limit of 6, not the default 8
    assert replay["summary"]["rejected"] and not replay["truncated"]
    scenario = {
        "name": "limit 6",
        "description": "f1 goes over 6 km/h twice; f2 sends no speed.",
        "params": params,
        "trace": trace,
        "expected": replay["records"],
        "expected_summary": replay["summary"],
    }
    one = acme["version"].scenarios[0]
    r = c.post(
        "/api/v1/t/acme/blueprints/overspeed/versions/",
        {"graph": graph(), "scenarios": [one, scenario]},
        format="json",
    )
    assert r.status_code == 201, body(r)
    assert body(r)["scenarios"] == [one, scenario]
    v = BlueprintVersion.objects.get(blueprint=acme["blueprint"], version=body(r)["version"])
    assert v.scenarios[1] == scenario

    # the studio's certification step and `aiot blueprint test` (which also checks the summary) pass it
    result = _certify_scenarios(v, v.scenarios)
    assert result.status == "passed", result.message
    assert result.figures == {"scenarios": 2, "failed": 0}
    package = BlueprintPackage(tmp_path, {"slug": "overspeed"}, v.graph, v.readme)
    for engine in ("reference", "onnx"):
        outcome = run_scenario(package, v.scenarios[1], engine)
        assert outcome.passed, (engine, outcome.difference)

    # a scenario is checked against what it expects: with the default limit the same trace differs
    result = _certify_scenarios(v, [{**scenario, "params": {}}])
    assert result.status == "failed" and "limit 6" in result.message
    assert not run_scenario(package, {**scenario, "params": {}}, "reference").passed

    # the editor's other edits of a draft go through PATCH: expected actions cleared, description changed
    cleared = {**{k: w for k, w in scenario.items() if k != "expected_summary"}, "expected": [], "description": "none"}
    r = c.patch(
        f"/api/v1/t/acme/blueprints/overspeed/versions/{v.version}/",
        {"scenarios": [one, cleared]},
        format="json",
    )
    assert r.status_code == 200 and body(r)["scenarios"][1] == cleared
    r = c.patch(
        f"/api/v1/t/acme/blueprints/overspeed/versions/{v.version}/",
        {"scenarios": [{**scenario, "expected": {"not": "a list"}}]},
        format="json",
    )
    assert r.status_code == 400 and body(r)["error"]["field"] == "scenarios.0.expected"
    for member, wrong in (("expected", [1, 2]), ("description", 5), ("params", ["limit"]), ("expected_summary", "x")):
        r = c.patch(
            f"/api/v1/t/acme/blueprints/overspeed/versions/{v.version}/",
            {"scenarios": [one, {**scenario, member: wrong}]},
            format="json",
        )
        assert r.status_code == 400 and body(r)["error"]["field"] == f"scenarios.1.{member}", member


def test_compile_stores_a_verifiable_bundle_once(acme, client_as):
    c = client_as(acme["users"]["designer"])
    r = c.post("/api/v1/t/acme/blueprints/overspeed/versions/0.1.0/compile", {"params": {"limit": 12}}, format="json")
    assert r.status_code == 202 and body(r)["task_id"]
    again = c.post(
        "/api/v1/t/acme/blueprints/overspeed/versions/0.1.0/compile", {"params": {"limit": 12}}, format="json"
    )
    assert again.status_code == 202
    bundles = body(c.get("/api/v1/t/acme/bundles/"))["results"]
    assert len(bundles) == 2  # the fixture's (default params) and this one, stored once
    mine = next(b for b in bundles if b["params"] == {"limit": 12})
    data = c.get(mine["download_url"]).content
    assert read_bundle(data).manifest["params"] == {"limit": 12}


@pytest.mark.filterwarnings("ignore:Results are not stored in backend:RuntimeWarning")  # eager tasks
def test_a_task_is_answered_to_its_own_tenant_only_whatever_celery_stored(acme, globex, client_as):
    """GET tasks/{id} answers for a task a member of the tenant queued, and 404 for any other id:
    another tenant's (pending, failed with its error text, or with a result naming no tenant),
    and one nobody queued."""
    from celery import states

    from aiot_studio.celery import app

    designer, other = client_as(acme["users"]["designer"]), client_as(globex["users"]["admin"])
    r = designer.post("/api/v1/t/acme/blueprints/overspeed/versions/0.1.0/compile", {"params": {}}, format="json")
    task_id = body(r)["task_id"]
    queued = AuditEvent.objects.get(action="task.queue", object_id=task_id)
    assert queued.tenant == acme["tenant"] and queued.after == {"kind": "compile", "subject": "overspeed 0.1.0"}
    mine, theirs = f"/api/v1/t/acme/tasks/{task_id}", f"/api/v1/t/globex/tasks/{task_id}"

    def seen(client, url) -> tuple[int, dict]:
        r = client.get(url)
        return r.status_code, body(r)

    assert seen(designer, mine)[0] == 200  # eager: nothing stored, so PENDING
    assert seen(other, theirs) == (404, {"error": {"code": "not_found", "message": "not found", "field": None}})
    app.backend.mark_as_failure(task_id, RuntimeError("acme's secret graph is broken"))
    assert "acme's secret" in seen(designer, mine)[1]["error"]
    status, answer = seen(other, theirs)
    assert status == 404 and "secret" not in str(answer)
    # (last: Celery caches a success) a result naming no tenant, as certify_step's
    app.backend.store_result(task_id, {"step": "schema", "status": "passed"}, states.SUCCESS)
    assert seen(designer, mine)[1]["result"] == {"step": "schema", "status": "passed"}
    assert seen(other, theirs)[0] == 404
    nobodys = "0b6c1a3e-4f5d-4c8e-9a7b-2d1e0f9c8b7a"  # no member queued it: not even the tenant's
    assert seen(designer, f"/api/v1/t/acme/tasks/{nobodys}")[0] == 404
    assert seen(other, f"/api/v1/t/globex/tasks/{nobodys}")[0] == 404
    assert seen(client_as(globex["users"]["admin"]), mine)[0] == 404  # and not through Acme's URL either


def test_a_device_downloads_bundles_of_its_own_tenant_only(acme, globex):
    url = f"/api/v1/t/acme/bundles/{acme['bundle'].bundle_id}/download"
    own = APIClient(HTTP_AUTHORIZATION=f"Bearer {acme['device_token']}")
    assert own.get(url).status_code == 200
    other = APIClient(HTTP_AUTHORIZATION=f"Bearer {globex['device_token']}")
    assert other.get(url).status_code == 404
    forged = APIClient(HTTP_AUTHORIZATION=f"Bearer {acme['device_token'][:-4]}AAAA")
    assert forged.get(url).status_code == 401
    assert APIClient().get(url).status_code == 401  # nobody: not authenticated


def test_api_tokens_are_shown_once_hashed_at_rest_revocable_and_expire(acme, client_as):
    admin = client_as(acme["users"]["admin"])
    r = admin.post("/api/v1/t/acme/tokens/", {"name": "ci", "role": "viewer", "expires_in_days": 5}, format="json")
    assert r.status_code == 201
    secret = body(r)["secret"]
    token = ApiToken.objects.get(pk=body(r)["id"])
    assert secret not in (token.secret_hash, token.prefix) and len(token.secret_hash) == 64
    assert "secret" not in body(admin.get("/api/v1/t/acme/tokens/"))[0]
    script = APIClient(HTTP_AUTHORIZATION=f"Bearer {secret}")
    assert script.get("/api/v1/t/acme/blueprints/").status_code == 200
    # the token's role caps its owner's: a viewer token of an admin cannot create
    assert script.post("/api/v1/t/acme/blueprints/", {"slug": "z", "title": "z"}, format="json").status_code == 403
    assert script.get("/api/v1/t/globex/blueprints/").status_code == 404
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert script.get("/api/v1/t/acme/blueprints/").status_code == 401
    ApiToken.objects.filter(pk=token.pk).update(expires_at=None)
    assert admin.delete(f"/api/v1/t/acme/tokens/{token.pk}/").status_code == 204
    r = script.get("/api/v1/t/acme/blueprints/")
    assert r.status_code == 401 and "revoked" in body(r)["error"]["message"]


def test_registering_a_device_shows_its_token_once(acme, client_as):
    r = client_as(acme["users"]["operator"]).post(
        "/api/v1/t/acme/devices/", {"device_id": "gw-9", "group": "dock"}, format="json"
    )
    assert r.status_code == 201 and body(r)["token"].startswith("aiot_dev_")
    listed = body(client_as(acme["users"]["viewer"]).get("/api/v1/t/acme/devices/"))["results"]
    assert {d["device_id"] for d in listed} == {"gw-1", "gw-9"} and all("token" not in d for d in listed)
    bad = client_as(acme["users"]["operator"]).post("/api/v1/t/acme/devices/", {"device_id": "a/b#"}, format="json")
    assert bad.status_code == 400 and body(bad)["error"]["field"] == "device_id"


def test_acknowledging_an_alert(acme, client_as):
    r = client_as(acme["users"]["operator"]).post(f"/api/v1/t/acme/alerts/{acme['alert'].pk}/acknowledge")
    assert r.status_code == 200 and body(r)["acknowledged_by"] == "acme-operator"
    open_alerts = body(client_as(acme["users"]["viewer"]).get("/api/v1/t/acme/alerts/?acknowledged=false"))
    assert open_alerts["count"] == 0


def test_the_last_admin_cannot_leave(acme, client_as):
    admin = client_as(acme["users"]["admin"])
    me = next(m for m in body(admin.get("/api/v1/t/acme/members/")) if m["username"] == "acme-admin")
    r = admin.patch(f"/api/v1/t/acme/members/{me['id']}/", {"role": "viewer"}, format="json")
    assert r.status_code == 409


@pytest.mark.parametrize(
    "payload,content_type,code",
    [
        (b"{not json", "application/json", "parse_error"),
        (b"[" * 5000 + b"]" * 5000, "application/json", "parse_error"),
        (b'{"slug": 5, "title": []}', "application/json", "validation"),
        (b'{"slug": "x", "title": "' + b"y" * 3_000_000 + b'"}', "application/json", "too_large"),
        (b"\xff\xfe", "application/json", "parse_error"),
        # JSON can spell what PostgreSQL and UTF-8 cannot hold: refused up front, on every database.
        (b'{"slug": "x", "title": "a\\u0000b"}', "application/json", "parse_error"),
        (b'{"slug": "x", "title": "ok", "\\ud800": 1}', "application/json", "parse_error"),
    ],
)
def test_bad_bodies_get_a_json_error_naming_what_is_wrong(acme, client_as, payload, content_type, code):
    r = client_as(acme["users"]["designer"]).generic(
        "POST", "/api/v1/t/acme/blueprints/", payload, content_type=content_type
    )
    assert 400 <= r.status_code < 500 and body(r)["error"]["code"] == code, body(r)
    assert body(r)["error"]["message"]
    if b"\\u" in payload:
        assert body(r)["error"]["message"].startswith(("the text at /title ", "the text at /\\ud800 "))


def test_query_strings_and_tokens_no_database_can_hold_are_refused(acme, client_as):
    designer = client_as(acme["users"]["designer"])
    r = designer.get("/api/v1/t/acme/blueprints/?q=a%00b")
    assert r.status_code == 400 and body(r)["error"]["field"] == "q", body(r)
    r = designer.get("/api/v1/t/acme/blueprints/?q=ok")
    assert r.status_code == 200
    r = APIClient().get(
        "/api/v1/t/acme/blueprints/", HTTP_AUTHORIZATION="Bearer aiot_api_\x00\x00\x00\x00\x00\x00\x00\x00_x"
    )
    assert r.status_code == 401 and body(r)["error"]["code"] == "not_authenticated", body(r)


def test_an_accept_header_that_admits_no_json_is_406_and_documented(acme, client_as):
    designer = client_as(acme["users"]["designer"])
    for accept in ("text/html", "SAD+@,tf]*\tvJC"):  # the second, as schemathesis fuzzed it
        r = designer.post(
            "/api/v1/t/acme/blueprints/overspeed/fork/", {"slug": "f", "title": "F"}, format="json", HTTP_ACCEPT=accept
        )
        assert r.status_code == 406 and body(r)["error"]["code"] == "not_acceptable", r.content
    assert designer.get("/api/v1/t/acme/blueprints/", HTTP_ACCEPT="application/*").status_code == 200
    schema = body(designer.get("/api/schema/?format=json"))
    assert all("406" in op["responses"] for ops in schema["paths"].values() for op in ops.values() if "responses" in op)


def test_validation_errors_name_the_field(acme, client_as):
    r = client_as(acme["users"]["designer"]).post(
        "/api/v1/t/acme/blueprints/", {"slug": "Bad Slug!", "title": "x"}, format="json"
    )
    assert r.status_code == 400 and body(r)["error"]["field"] == "slug"


def test_the_audit_log_is_append_only_in_the_model_and_the_database(acme, client_as):
    event = AuditEvent.objects.filter(tenant=acme["tenant"]).first()
    count = AuditEvent.objects.filter(tenant=acme["tenant"]).count()
    with pytest.raises(AppendOnly):
        event.save()
    with pytest.raises(AppendOnly):
        event.delete()
    with pytest.raises(AppendOnly):
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    # Raw SQL, past the model: the database's triggers refuse (each in a savepoint, since on
    # PostgreSQL a refused statement aborts the transaction it ran in).
    statements = [
        ("UPDATE blueprints_auditevent SET action = 'x' WHERE id = %s", [event.pk]),
        ("DELETE FROM blueprints_auditevent WHERE id = %s", [event.pk]),
        ("DELETE FROM blueprints_auditevent", []),
    ]
    for sql, params in statements:
        with pytest.raises(Exception, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    assert AuditEvent.objects.get(pk=event.pk).action == event.action
    assert AuditEvent.objects.filter(tenant=acme["tenant"]).count() == count


def test_the_audit_log_filters_and_paginates(acme, client_as):
    admin = client_as(acme["users"]["admin"])
    everything = body(admin.get("/api/v1/t/acme/audit/?page_size=3"))
    assert everything["count"] > 3 and len(everything["results"]) == 3 and everything["next"]
    members = body(admin.get("/api/v1/t/acme/audit/?action=member."))["results"]
    assert members and all(e["action"].startswith("member.") for e in members)
    bad = admin.get("/api/v1/t/acme/audit/?since=yesterday")
    assert bad.status_code == 400 and body(bad)["error"]["field"] == "since"


def test_me_lists_memberships_with_capabilities(acme, client_as):
    r = client_as(acme["users"]["operator"]).get("/api/v1/auth/me")
    assert body(r)["memberships"] == [
        {"tenant": {"slug": "acme", "name": "Acme"}, "role": "operator", "capabilities": ["operate", "read"]}
    ]


def test_login_with_session_and_csrf(acme):
    c = APIClient(enforce_csrf_checks=True)
    bad = c.post("/api/v1/auth/login", {"username": "acme-viewer", "password": "wrong"}, format="json")
    assert bad.status_code in (401, 403)
    ok = c.post("/api/v1/auth/login", {"username": "acme-viewer", "password": "correct-horse-battery"}, format="json")
    assert ok.status_code == 200
    # a signed-in browser must send the CSRF token on unsafe methods
    no_csrf = c.post("/api/v1/validate", {"graph": {}}, format="json")
    assert no_csrf.status_code == 403
    token = c.cookies["csrftoken"].value
    with_csrf = c.post("/api/v1/validate", {"graph": {}}, format="json", HTTP_X_CSRFTOKEN=token)
    assert with_csrf.status_code == 200


def test_openapi_schema_and_docs_are_served(acme, client_as):
    c = client_as(acme["users"]["viewer"])
    schema = c.get("/api/schema/?format=json")
    assert schema.status_code == 200 and "/api/v1/t/{tenant}/blueprints/" in schema.json()["paths"]
    assert c.get("/api/docs/").status_code == 200


def test_platform_admins_create_tenants(db, client_as, django_user_model):
    root = django_user_model.objects.create_superuser("root", password="x" * 12)
    r = client_as(root).post(
        "/api/v1/tenants/", {"slug": "initech", "name": "Initech", "admin_username": "root"}, format="json"
    )
    assert r.status_code == 201
    assert body(client_as(root).get("/api/v1/tenants/")) == [{"slug": "initech", "name": "Initech"}]
    plain = django_user_model.objects.create_user("plain", password="x" * 12)
    assert client_as(plain).post("/api/v1/tenants/", {"slug": "x", "name": "x"}, format="json").status_code == 403


@pytest.mark.parametrize(
    "when", ["0266-12-31T19:05:55.748851+20:07", "2026-11-22T10:00:00", "0001-01-01T00:00:00+05:00"]
)
def test_audit_dates_with_odd_offsets_are_answered_not_crashed(acme, client_as, when):
    r = client_as(acme["users"]["admin"]).get("/api/v1/t/acme/audit/", {"since": when})
    assert r.status_code in (200, 400), body(r)
