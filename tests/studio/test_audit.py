"""The audit log is complete: every change goes through an action that writes its entry (who,
tenant, what, when, before and after), including what the bridge, the workers and the management
commands change; machine telemetry is audited by its transitions, not by its heartbeats.

tests/studio/test_roles.py checks the same for every call of the API's role matrix; the
append-only guarantees are in tests/studio/test_api.py."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from blueprints.actions import catalog as catalog_actions
from blueprints.actions import (
    do_install_from_catalog,
    do_record_alert,
    do_record_certification_step,
    do_record_device_statuses,
    do_start_certification,
)
from blueprints.models import AuditEvent, Blueprint, BlueprintVersion, VersionState
from tests.studio.conftest import OVERSPEED_ALERT, SYSTEM

ROOT = Path(__file__).resolve().parents[2]


def entries(tenant, **filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(tenant=tenant, **filters).order_by("id"))


def test_a_device_s_transitions_are_audited_and_its_heartbeats_are_not(acme):
    tenant, device = acme["tenant"], acme["device"]
    seen = AuditEvent.objects.filter(object_type="Device", object_id=str(device.pk))
    already = seen.count()  # its registration
    online = {"state": "online", "bundle": "a" * 64, "events_in": 1}
    do_record_device_statuses(tenant, {"gw-1": online})
    for n in range(2, 12):  # ten heartbeats: same state, same bundle, new counters
        do_record_device_statuses(tenant, {"gw-1": {**online, "events_in": n}})
    do_record_device_statuses(tenant, {"gw-1": {**online, "bundle": "b" * 64}})
    do_record_device_statuses(tenant, {"gw-1": {"state": "offline", "bundle": "b" * 64}})
    made = list(seen.order_by("id"))[already:]
    assert [(e.action, e.before, e.after) for e in made] == [
        ("device.online", {"state": "unknown", "bundle": ""}, {"state": "online", "bundle": "a" * 64}),
        ("device.bundle", {"state": "online", "bundle": "a" * 64}, {"state": "online", "bundle": "b" * 64}),
        ("device.offline", {"state": "online", "bundle": "b" * 64}, {"state": "offline", "bundle": "b" * 64}),
    ]
    assert all(e.actor_label == "system:bridge" and e.tenant_id == tenant.pk for e in made)


def test_a_fleet_coming_online_is_audited_in_one_write(acme, django_assert_max_num_queries):
    from blueprints.actions import do_register_device

    for i in range(2, 30):
        do_register_device(SYSTEM, acme["tenant"], f"gw-{i}")
    statuses = {f"gw-{i}": {"state": "online"} for i in range(1, 30)}
    with django_assert_max_num_queries(3):  # the devices, their statuses, their audit entries
        do_record_device_statuses(acme["tenant"], statuses)
    assert len(entries(acme["tenant"], action="device.online")) == 29


def test_an_alert_received_is_audited(acme):
    alert = do_record_alert(acme["tenant"], "gw-1", {**OVERSPEED_ALERT, "ts": 2000})
    [event] = entries(acme["tenant"], action="alert.receive", object_id=str(alert.pk))
    assert event.actor_label == "system:bridge" and event.object_type == "Alert" and event.before is None
    assert event.after == {
        "device_ref": "gw-1",
        "action": "alarm",
        "name": "overspeed",
        "severity": "warning",
        "key": "f1",
        "ts": 2000.0,
    }


def test_each_certification_step_result_is_audited_with_what_it_replaced(acme):
    cert = do_start_certification(SYSTEM, acme["version"])
    failed = {"step": "schema", "status": "failed", "message": "no", "figures": {"problems": 1}, "repro": {"x": 1}}
    do_record_certification_step(cert, failed)
    do_record_certification_step(cert, {**failed, "status": "passed", "message": "ok", "figures": {}})
    made = entries(acme["tenant"], action="certification.step", object_id=str(cert.pk))
    assert [(e.before, e.after) for e in made] == [
        (None, {"step": "schema", "status": "failed", "message": "no", "figures": {"problems": 1}}),
        (
            {"step": "schema", "status": "failed", "message": "no", "figures": {"problems": 1}},
            {"step": "schema", "status": "passed", "message": "ok", "figures": {}},
        ),
    ]
    assert all(e.actor_label == "system:certification" for e in made)


def test_seed_demo_creates_its_users_through_audited_actions(db):
    call_command("seed_demo", quiet=True, devices=1)
    admin = get_user_model().objects.get(username="admin")
    [event] = AuditEvent.objects.filter(action="user.create", object_id=str(admin.pk))
    assert event.tenant is None and event.actor_label == "system:seed"
    assert event.after == {"username": "admin", "is_superuser": True, "is_active": True}
    made = {e.after["username"] for e in AuditEvent.objects.filter(action="user.create", tenant__slug="demo")}
    assert made == {f"demo-{role}" for role in ("viewer", "operator", "designer", "publisher", "admin")}
    call_command("seed_demo", quiet=True, devices=1)  # idempotent: nothing new, nothing audited twice
    assert AuditEvent.objects.filter(action="user.create").count() == 6


def test_a_catalog_install_is_all_or_nothing_and_its_budget_is_audited(acme, globex, monkeypatch):
    source = acme["version"]
    BlueprintVersion.objects.filter(pk=source.pk).update(state=VersionState.PUBLISHED, budget={"batch": 7})
    source.refresh_from_db()

    def failing_audit(actor, tenant, action, *args, **kwargs):
        if action == "catalog.install":
            raise RuntimeError("the database went away")
        return audit(actor, tenant, action, *args, **kwargs)

    audit = catalog_actions.audit
    monkeypatch.setattr(catalog_actions, "audit", failing_audit)
    before = len(entries(globex["tenant"]))
    with pytest.raises(RuntimeError):
        do_install_from_catalog(SYSTEM, source, globex["tenant"], "speeding")
    assert not Blueprint.objects.filter(tenant=globex["tenant"], slug="speeding").exists()
    assert len(entries(globex["tenant"])) == before

    monkeypatch.setattr(catalog_actions, "audit", audit)
    bp = do_install_from_catalog(SYSTEM, source, globex["tenant"], "speeding")
    assert bp.versions.get().budget == {"batch": 7}
    made = entries(globex["tenant"])[before:]
    assert [e.action for e in made] == ["blueprint.create", "version.create", "catalog.install"]
    assert made[1].after["budget"] == {"batch": 7}


# --- nothing writes past the actions -----------------------------------------------------------
# Where the studio's code may write to the database: the actions (which audit), the models
# themselves and the migrations. Anything else that writes is listed here, with why it is not
# audited; a new write elsewhere fails the test below until it moves into an action (or is listed).
WRITES_OUTSIDE_ACTIONS = {
    (
        "blueprints/api/auth.py",
        "ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)",
    ): "bookkeeping of a token's use (at most once a minute), not a change anyone made",
}
ALLOWED_FOLDERS = ("blueprints/actions/", "blueprints/models/", "blueprints/migrations/")
# Calls that write whatever their receiver (an instance, a manager, a queryset, a cursor)…
WRITE_CALLS = {
    "save",
    "delete",
    "create",
    "bulk_create",
    "bulk_update",
    "get_or_create",
    "update_or_create",
    "create_user",
    "create_superuser",
    "set_password",
    "execute",
    "executemany",
    "raw",
}
# …and `update`, which writes when called on a queryset (a dict's update does not).
QUERYSET_STARTS = {"objects", "filter", "exclude", "all", "select_for_update", "select_related"}


def _receiver_names(node: ast.expr) -> set[str]:
    names = set()
    while isinstance(node, (ast.Attribute, ast.Call)):
        if isinstance(node, ast.Call):
            node = node.func
            continue
        names.add(node.attr)
        node = node.value
    return names


def writes_in(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    source = path.read_text()
    found = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        name = node.func.attr
        if name in WRITE_CALLS or (name == "update" and _receiver_names(node.func.value) & QUERYSET_STARTS):
            found.append(ast.get_source_segment(source, node) or name)
    return found


def test_nothing_outside_the_actions_writes_to_the_database():
    found = {}
    for package in ("blueprints", "aiot_studio"):
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(ALLOWED_FOLDERS):
                continue
            for call in writes_in(path):
                if (rel, call) not in WRITES_OUTSIDE_ACTIONS:
                    found.setdefault(rel, []).append(call)
    assert not found, f"writes outside blueprints/actions/ (move them into a do_* action that audits): {found}"


def test_the_scan_finds_a_write_outside_the_actions(tmp_path):
    """The scan itself: what seed_demo did before its superuser was an action is found."""
    sample = tmp_path / "command.py"
    sample.write_text(
        "User.objects.create_superuser('admin', password='x')\n"
        "Device.objects.filter(pk=1).update(state='x')\n"
        "device.save()\n"
        "cursor.execute('DELETE FROM t')\n"
        "seen.update({1: 2})\n"
    )
    assert writes_in(sample) == [
        "User.objects.create_superuser('admin', password='x')",
        "Device.objects.filter(pk=1).update(state='x')",
        "device.save()",
        "cursor.execute('DELETE FROM t')",
    ]
