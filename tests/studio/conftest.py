"""A studio with two named tenants, Acme and Globex, each with one user per role and one of
every object, so that every endpoint can be checked for ownership and roles."""

from __future__ import annotations

import copy
import importlib
import json

import pytest
from rest_framework.test import APIClient

from blueprints.actions import (
    Actor,
    do_add_member,
    do_compile_version,
    do_create_blueprint,
    do_create_tenant,
    do_record_alert,
    do_register_device,
)
from blueprints.models import Tenant
from blueprints.roles import Role
from tests.test_bundle import overspeed_graph

AUDIT_SQLITE = importlib.import_module("blueprints.migrations.0002_audit_append_only").SQLITE

ROLES = list(Role.values)


def pytest_configure(config):
    from django.conf import settings

    # Tests create dozens of users: the production hasher (PBKDF2, by design slow) would dominate.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(items):
    """Schemathesis makes one test per API operation (tests/studio/test_openapi.py) and names it
    ``test[GET /path]``, but on pytest 9 their node ids all lack the ``[GET /path]``: put it back,
    so that each can be selected, rerun and told apart (pytest-xdist needs them distinct)."""
    for item in items:
        label = getattr(item, "operation_label", None)
        node_id = getattr(item, "_id", None)
        if label and node_id is not None and getattr(node_id, "params", "") is None:
            item._id = node_id.with_params(label)


SYSTEM = Actor.system_actor("tests")
PASSWORD = "correct-horse-battery"


def _db_use(request) -> tuple[bool, bool]:
    """(the test uses the database, it does so outside a rolled-back transaction)."""
    marker = request.node.get_closest_marker("django_db")
    names = set(request.fixturenames)
    transactional = bool(marker and marker.kwargs.get("transaction")) or bool(
        names & {"transactional_db", "live_server"}
    )
    return transactional or marker is not None or "db" in names, transactional


@pytest.fixture(autouse=True)
def _audit_guard(request, _django_db_helper):
    """The audit log's DELETE trigger is on for every test. A transactional test ends with a flush
    (DELETE FROM every table on SQLite), which the trigger would refuse: it is lifted just for
    that flush (this teardown runs before it), and put back when the next test starts."""
    from django.db import connection

    uses_db, transactional = _db_use(request)
    if uses_db and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for sql in AUDIT_SQLITE:
                cursor.execute(sql)
    yield
    if transactional and connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_no_delete")


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Unit tests run tasks in-process; tests/studio/test_worker.py uses a real worker."""
    from aiot_studio.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager = False


def graph() -> dict:
    return copy.deepcopy(overspeed_graph())


# What the overspeed graph does with a forklift at 12 km/h (its limit is 8) at ts 1000.
OVERSPEED_ALERT = {
    "action": "alarm",
    "kind": "alert",
    "key": "f1",
    "ts": 1000,
    "name": "overspeed",
    "severity": "warning",
    "message": "overspeed on f1",
    "values": {},
}


def make_tenant(slug: str) -> dict:
    tenant = do_create_tenant(SYSTEM, slug, slug.title())
    users = {}
    for role in ROLES:
        m = do_add_member(SYSTEM, tenant, f"{slug}-{role}", role, password=PASSWORD)
        users[role] = m.user
    bp = do_create_blueprint(
        SYSTEM,
        tenant,
        "overspeed",
        "Overspeed",
        graph=graph(),
        scenarios=[
            {
                "name": "one",
                "trace": [{"topic": "site/a/forklift/f1/telemetry", "payload": {"ts": 1000, "speed_kmh": 12}}],
                "expected": [OVERSPEED_ALERT],  # both engines must give it (test_api.py checks)
            }
        ],
    )
    version = bp.versions.get()
    device, token = do_register_device(SYSTEM, tenant, "gw-1", "Gateway 1", "site-1")
    alert = do_record_alert(tenant, "gw-1", {**OVERSPEED_ALERT, "message": "x"})
    bundle = do_compile_version(SYSTEM, version, {})
    return {
        "tenant": tenant,
        "users": users,
        "blueprint": bp,
        "version": version,
        "device": device,
        "device_token": token,
        "alert": alert,
        "bundle": bundle,
        "member": tenant.memberships.get(user=users["viewer"]),
    }


@pytest.fixture
def acme(db) -> dict:
    return make_tenant("acme")


@pytest.fixture
def globex(db) -> dict:
    return make_tenant("globex")


@pytest.fixture
def client_as():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


def body(response) -> dict:
    return json.loads(response.content or b"{}")


__all__ = ["OVERSPEED_ALERT", "PASSWORD", "ROLES", "SYSTEM", "Tenant", "body", "graph", "make_tenant"]
