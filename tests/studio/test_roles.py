"""Every endpoint × every role: allowed or 403, exactly as SPEC §8 says; another tenant's
objects are 404 for every verb and role. Every tenant-scoped operation of the URLconf has a row.

The world (two tenants, and in Acme one object of every kind: a certified and a published
version, a blueprint installed from the catalog, a task, deployments, a token…) is built once per
module, through the actions, inside a transaction rolled back at the end; each test runs in a
savepoint of it, and each call of the matrix in a savepoint of its own."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLResolver, get_resolver, resolve

from blueprints import tasks
from blueprints.actions import (
    Actor,
    do_create_api_token,
    do_create_version,
    do_fork_blueprint,
    do_install_package,
    do_publish_version,
    do_register_device,
)
from blueprints.actions import deployments as deploy_actions
from blueprints.models import AuditEvent
from blueprints.package import BlueprintPackage
from blueprints.roles import ROLE_CAPABILITIES
from tests.studio.conftest import OVERSPEED_ALERT, ROLES, SYSTEM, body, graph, make_tenant

# GET tasks/{id} reads Celery's result store, which eager tasks (these tests') leave empty.
pytestmark = pytest.mark.filterwarnings("ignore:Results are not stored in backend:RuntimeWarning")

# (name, method, url, request body, capability). {t} is the tenant; {...} are its objects (see
# `world`); a body value that is exactly "{name}" becomes that object's value.
ENDPOINTS = [
    ("blueprints.list", "get", "/api/v1/t/{t}/blueprints/", None, "read"),
    ("blueprints.create", "post", "/api/v1/t/{t}/blueprints/", {"slug": "new-one", "title": "New"}, "edit"),
    ("blueprints.get", "get", "/api/v1/t/{t}/blueprints/overspeed/", None, "read"),
    ("blueprints.update", "patch", "/api/v1/t/{t}/blueprints/overspeed/", {"title": "Renamed"}, "edit"),
    ("blueprints.fork", "post", "/api/v1/t/{t}/blueprints/overspeed/fork", {"slug": "forked"}, "edit"),
    ("blueprints.upgrades", "get", "/api/v1/t/{t}/blueprints/installed/upgrades", None, "read"),
    ("blueprints.upgrade", "post", "/api/v1/t/{t}/blueprints/installed/upgrade", {"catalog_id": "{published}"}, "edit"),
    ("versions.list", "get", "/api/v1/t/{t}/blueprints/overspeed/versions/", None, "read"),
    ("versions.create", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/", {"graph": graph()}, "edit"),
    ("versions.get", "get", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/", None, "read"),
    ("versions.update", "patch", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/", {"readme": "hi"}, "edit"),
    ("versions.compile", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/compile", {}, "edit"),
    ("versions.submit", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/submit", {}, "edit"),
    ("versions.certify", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/certify", {}, "publish"),
    (
        "versions.certification",
        "get",
        "/api/v1/t/{t}/blueprints/catalogued/versions/0.2.0/certification",
        None,
        "read",
    ),
    (
        "versions.certification_report",
        "get",
        "/api/v1/t/{t}/blueprints/catalogued/versions/0.2.0/certification/report",
        None,
        "read",
    ),
    ("versions.publish", "post", "/api/v1/t/{t}/blueprints/catalogued/versions/0.3.0/publish", {}, "publish"),
    ("versions.deprecate", "post", "/api/v1/t/{t}/blueprints/catalogued/versions/0.2.0/deprecate", {}, "publish"),
    (
        "simulate",
        "post",
        "/api/v1/t/{t}/simulate",
        {"blueprint": "overspeed", "version": "0.1.0", "scenario": "one"},
        "edit",
    ),
    ("tasks.get", "get", "/api/v1/t/{t}/tasks/{task}", None, "read"),
    ("bundles.list", "get", "/api/v1/t/{t}/bundles/", None, "read"),
    ("bundles.get", "get", "/api/v1/t/{t}/bundles/{bundle}/", None, "read"),
    ("bundles.download", "get", "/api/v1/t/{t}/bundles/{bundle}/download", None, "read"),
    ("devices.list", "get", "/api/v1/t/{t}/devices/", None, "read"),
    ("devices.create", "post", "/api/v1/t/{t}/devices/", {"device_id": "gw-new"}, "operate"),
    ("devices.get", "get", "/api/v1/t/{t}/devices/gw-1/", None, "read"),
    ("devices.update", "patch", "/api/v1/t/{t}/devices/gw-1/", {"name": "Dock"}, "operate"),
    ("devices.rotate", "post", "/api/v1/t/{t}/devices/gw-1/rotate-token", {}, "operate"),
    ("alerts.list", "get", "/api/v1/t/{t}/alerts/", None, "read"),
    ("alerts.get", "get", "/api/v1/t/{t}/alerts/{alert}/", None, "read"),
    ("alerts.acknowledge", "post", "/api/v1/t/{t}/alerts/{alert}/acknowledge", {}, "operate"),
    ("deployments.list", "get", "/api/v1/t/{t}/deployments/", None, "read"),
    (
        "deployments.create",
        "post",
        "/api/v1/t/{t}/deployments/",
        {"bundle": "{bundle}", "group": "line-3", "strategy": "all"},
        "operate",
    ),
    ("deployments.get", "get", "/api/v1/t/{t}/deployments/{deployment}/", None, "read"),
    ("deployments.pause", "post", "/api/v1/t/{t}/deployments/{deployment}/pause", {}, "operate"),
    ("deployments.resume", "post", "/api/v1/t/{t}/deployments/{paused}/resume", {}, "operate"),
    ("deployments.rollback", "post", "/api/v1/t/{t}/deployments/{deployment}/rollback", {}, "operate"),
    ("members.list", "get", "/api/v1/t/{t}/members/", None, "admin"),
    (
        "members.create",
        "post",
        "/api/v1/t/{t}/members/",
        {"username": "newbie", "role": "viewer", "password": "long-enough-1"},
        "admin",
    ),
    ("members.get", "get", "/api/v1/t/{t}/members/{member}/", None, "admin"),
    ("members.update", "patch", "/api/v1/t/{t}/members/{member}/", {"role": "operator"}, "admin"),
    ("tokens.list", "get", "/api/v1/t/{t}/tokens/", None, "admin"),
    ("tokens.create", "post", "/api/v1/t/{t}/tokens/", {"name": "ci"}, "admin"),
    ("tokens.get", "get", "/api/v1/t/{t}/tokens/{token}/", None, "admin"),
    ("audit.list", "get", "/api/v1/t/{t}/audit/", None, "admin"),
    ("devices.delete", "delete", "/api/v1/t/{t}/devices/gw-1/", None, "operate"),
    ("members.delete", "delete", "/api/v1/t/{t}/members/{member}/", None, "admin"),
    ("tokens.delete", "delete", "/api/v1/t/{t}/tokens/{token}/", None, "admin"),
    ("blueprints.delete", "delete", "/api/v1/t/{t}/blueprints/overspeed/", None, "edit"),
]
IDS = [e[0] for e in ENDPOINTS]
# The objects a URL or a body names, beyond the tenant.
OBJECTS = ("bundle", "alert", "member", "token", "task", "deployment", "paused", "published")

# Certification must not fail on time on a busy machine (the performance step is tested elsewhere).
GENEROUS = {"p99_ms_per_batch": 10_000, "batch": 100}
SCENARIO = {
    "name": "one",
    "trace": [{"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 1000, "speed_kmh": 12}}],
    "expected": [OVERSPEED_ALERT],
}


def certified(version) -> str:
    """Certify a version the way the API does (the tasks run eagerly); it must pass. The task id."""
    cert, task_id = tasks.start_certification(SYSTEM, version)
    cert.refresh_from_db()
    assert cert.state == "certified", [(s["step"], s["status"], s.get("message")) for s in cert.steps]
    version.refresh_from_db()
    return task_id


def build_acme() -> dict:
    world = make_tenant("acme")
    tenant = world["tenant"]
    # A catalogued blueprint: 0.1.0 a draft, 0.2.0 published, 0.3.0 certified; "installed" was
    # forked from its 0.1.0, so 0.2.0 is an upgrade for it.
    package = BlueprintPackage(
        root=Path(),  # nothing is read from disk: the package is in memory
        meta={"slug": "catalogued", "title": "Catalogued", "version": "0.1.0", "budget": GENEROUS},
        graph=graph(),
        readme="",
        scenarios={"scenarios/one.json": SCENARIO},
    )
    catalogued = do_install_package(SYSTEM, tenant, package)
    do_fork_blueprint(SYSTEM, catalogued, "installed", "Installed")
    published = do_create_version(SYSTEM, catalogued, graph(), version="0.2.0")
    certify_task = certified(published)
    do_publish_version(SYSTEM, published)
    certified(do_create_version(SYSTEM, catalogued, graph(), version="0.3.0"))
    # Deployments: one under way (site-1, whose gw-1 never reports, so it stays a canary), one
    # paused (line-2); line-3 has a device and no deployment, for a new one.
    do_register_device(SYSTEM, tenant, "gw-2", group="line-2")
    do_register_device(SYSTEM, tenant, "gw-3", group="line-3")
    bundle = world["bundle"].bundle_id
    deployment = deploy_actions.do_create_deployment(SYSTEM, tenant, bundle, "site-1", "canary")
    paused = deploy_actions.do_create_deployment(SYSTEM, tenant, bundle, "line-2", "canary")
    deploy_actions.do_pause_deployment(SYSTEM, paused)
    token, _ = do_create_api_token(Actor(user=world["users"]["admin"]), tenant, "deploy-script")
    task = tasks.start_compile(SYSTEM, world["version"], {"limit": 5})
    return {
        **world,
        "token": token,
        "task": task,
        "certify_task": certify_task,
        "deployment": deployment,
        "paused": paused,
        "published": published,
    }


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Acme with one object of every kind, and Globex: built once, rolled back at the end."""
    from aiot_studio.celery import app

    with django_db_blocker.unblock(), pytest.MonkeyPatch.context() as patch:
        # Deploy commands would go to a broker: none here (gw-1 never comes online anyway).
        patch.setattr(deploy_actions, "publish_once", lambda url, commands, client_id: None)
        app.conf.task_always_eager = app.conf.task_eager_propagates = True
        atomic = transaction.atomic()
        atomic.__enter__()
        try:
            yield {"acme": build_acme(), "globex": make_tenant("globex")}
        finally:
            transaction.set_rollback(True)
            atomic.__exit__(None, None, None)
            app.conf.task_always_eager = False


def values(tenant: dict) -> dict:
    """What the placeholders of ENDPOINTS stand for in this tenant's world."""
    out = {"t": tenant["tenant"].slug}
    for name in OBJECTS:
        if name in tenant:
            obj = tenant[name]
            out[name] = obj.bundle_id if name == "bundle" else obj if isinstance(obj, str) else obj.pk
    return out


def url_for(template: str, placeholders: dict) -> str:
    return template.format(**placeholders)


def fill(data, placeholders: dict):
    if isinstance(data, dict):
        return {k: fill(v, placeholders) for k, v in data.items()}
    if isinstance(data, str) and data.startswith("{") and data.endswith("}") and data[1:-1] in placeholders:
        return placeholders[data[1:-1]]
    return data


def call(client, method: str, url: str, data):
    return getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)


@pytest.mark.parametrize("name,method,template,data,capability", ENDPOINTS, ids=IDS)
def test_role_matrix(world, db, client_as, name, method, template, data, capability):
    """Each role calls the endpoint on the same world (a savepoint undoes each call)."""
    acme = world["acme"]
    placeholders = values(acme)
    wrong = {}
    for role in ROLES:
        savepoint = transaction.savepoint()
        response = call(
            client_as(acme["users"][role]), method, url_for(template, placeholders), fill(data, placeholders)
        )
        transaction.savepoint_rollback(savepoint)
        allowed = capability in ROLE_CAPABILITIES[role]
        if allowed and (response.status_code in (401, 403, 404, 405, 409) or response.status_code >= 500):
            wrong[role] = (response.status_code, body(response))
        if not allowed and (response.status_code != 403 or body(response)["error"]["code"] != "forbidden"):
            wrong[role] = (response.status_code, body(response))
    assert not wrong, f"{name} needs {capability}: {wrong}"


@pytest.mark.parametrize("name,method,template,data,capability", ENDPOINTS, ids=IDS)
def test_another_tenants_objects_are_404(world, db, client_as, name, method, template, data, capability):
    """Globex's admin (who may do everything in Globex) gets 404 for everything of Acme."""
    placeholders = values(world["acme"])
    response = call(
        client_as(world["globex"]["users"]["admin"]), method, url_for(template, placeholders), fill(data, placeholders)
    )
    assert response.status_code == 404, (response.status_code, body(response))
    assert body(response)["error"]["code"] == "not_found"


BY_ID = [e for e in ENDPOINTS if any(f"{{{name}}}" in e[2] for name in OBJECTS)]


@pytest.mark.parametrize("name,method,template,data,capability", BY_ID, ids=[e[0] for e in BY_ID])
def test_another_tenants_object_ids_are_404_in_your_own_tenant(
    world, db, client_as, name, method, template, data, capability
):
    """…and under its own tenant's URL, an id of Acme's (a bundle, an alert, a task…) is 404 too."""
    acme, globex = values(world["acme"]), values(world["globex"])
    placeholders = {**acme, "t": globex["t"]}
    assert all(acme[k] != globex.get(k) for k in OBJECTS if f"{{{k}}}" in template), "the ids must differ"
    response = call(
        client_as(world["globex"]["users"]["admin"]), method, url_for(template, placeholders), fill(data, placeholders)
    )
    assert response.status_code == 404, (response.status_code, body(response))
    assert body(response)["error"]["code"] == "not_found"


# The bundle download also admits devices (no user): test_api.py covers its anonymous and device cases.
USER_ENDPOINTS = [e for e in ENDPOINTS if e[0] != "bundles.download"]


@pytest.mark.parametrize("name,method,template,data,capability", USER_ENDPOINTS, ids=[e[0] for e in USER_ENDPOINTS])
def test_anonymous_callers_are_401(world, db, client, name, method, template, data, capability):
    placeholders = values(world["acme"])
    response = call(client, method, url_for(template, placeholders), fill(data, placeholders))
    assert response.status_code in (401, 403) and body(response)["error"]["code"] in ("not_authenticated", "forbidden")


CHANGES = [e for e in ENDPOINTS if e[1] != "get"]
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?(\w+)"?', re.IGNORECASE)
# Not the studio's data: the sign-in session, and the audit log itself.
NOT_AUDITED = {"django_session", AuditEvent._meta.db_table}
# A table a call may write without an entry for one of its own rows, because the entry of
# another object of the same call says it.
COVERED_BY = {
    "blueprints_blueprint": {"BlueprintVersion"},  # a new version bumps updated_at; an upgrade sets
    # forked_from (catalog.upgrade's entry has the from, before and after)
    "blueprints_blueprintversion": {"Blueprint"},  # a deleted blueprint's drafts go with it
    "blueprints_bundle": {"Blueprint"},  # …its bundles forget the deleted version (SET NULL)
    "blueprints_certification": {"Blueprint"},  # …and the cascade's DELETE runs (drafts have none)
    "blueprints_deploymenttarget": {"Deployment", "Device"},  # a deployment's devices; a device's deletion
    "blueprints_alert": {"Device"},  # a deleted device's alerts keep its id (device_ref)
    "blueprints_apitoken": {"Membership"},  # a removed member's tokens stop (member.remove counts them)
}


@pytest.mark.parametrize("name,method,template,data,capability", CHANGES, ids=[e[0] for e in CHANGES])
def test_every_change_the_api_makes_is_audited(world, db, client_as, name, method, template, data, capability):
    """Every table a call writes has an audit entry of that call for one of its objects (or for the
    object whose entry covers it, see COVERED_BY): an endpoint that writes past the actions fails."""
    acme = world["acme"]
    placeholders = values(acme)
    table_of = {model.__name__: model._meta.db_table for model in apps.get_models()}
    savepoint = transaction.savepoint()
    last = AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with CaptureQueriesContext(connection) as queries:
        response = call(
            client_as(acme["users"]["admin"]), method, url_for(template, placeholders), fill(data, placeholders)
        )
    audited = set(AuditEvent.objects.filter(pk__gt=last).values_list("object_type", flat=True))
    transaction.savepoint_rollback(savepoint)
    assert response.status_code < 400, (response.status_code, body(response))
    written = {m.group(1) for q in queries.captured_queries if (m := WRITE.match(q["sql"]))} - NOT_AUDITED
    unaudited = sorted(
        table for table in written - {table_of[t] for t in audited} if not COVERED_BY.get(table, set()) & audited
    )
    assert not unaudited, f"{name} wrote {unaudited} with audit entries only for {sorted(audited)}"


def test_a_certification_task_is_its_tenant_s_alone(world, db, client_as):
    """The first step of a certification (whose result names no tenant) is Acme's task."""
    url = f"/api/v1/t/{{t}}/tasks/{world['acme']['certify_task']}"
    assert client_as(world["acme"]["users"]["viewer"]).get(url.format(t="acme")).status_code == 200
    assert client_as(world["globex"]["users"]["admin"]).get(url.format(t="globex")).status_code == 404


def tenant_operations() -> dict[tuple, str]:
    """Every operation (view, method) under /api/v1/t/<tenant>/ in the URLconf, with its label."""

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p.callback

    out = {}
    for route, view in walk(get_resolver().url_patterns):
        if not route.startswith("api/v1/t/<slug:tenant>/"):
            continue
        verbs = ("get", "post", "put", "patch", "delete")  # HEAD and OPTIONS follow GET and the route
        if hasattr(view, "actions"):  # a viewset's route: the methods it maps
            methods = [m for m in view.actions if m in verbs]
        else:  # an APIView, or a function made one by @api_view
            methods = [m for m in verbs if hasattr(view.view_class, m)]
        for method in methods:
            out[(view, method)] = f"{method.upper()} /{route}"
    return out


def test_every_tenant_scoped_operation_has_a_row_in_the_matrix():
    """A new endpoint under /t/{tenant}/ without a row here fails: add it to ENDPOINTS."""
    operations = tenant_operations()
    placeholders = {"t": "acme", "bundle": "0" * 64, **{k: 1 for k in OBJECTS if k != "bundle"}}
    rows: dict[tuple, str] = {}
    for name, method, template, *_ in ENDPOINTS:
        match = resolve(url_for(template, placeholders))
        key = (match.func, method)
        assert key in operations, f"{name}: {method.upper()} {template} is no tenant-scoped operation"
        assert key not in rows, f"{name} and {rows.get(key)} are the same operation"
        rows[key] = name
    missing = sorted(label for key, label in operations.items() if key not in rows)
    assert not missing, f"operations without a row in ENDPOINTS: {missing}"
    assert len(rows) == len(operations) == len(ENDPOINTS)
