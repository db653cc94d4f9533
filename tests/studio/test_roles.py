"""Every endpoint × every role: allowed or 403, exactly as SPEC §8 says; another tenant's
objects are 404 for every verb and role."""

from __future__ import annotations

import pytest
from django.db import transaction

from blueprints.roles import ROLE_CAPABILITIES
from tests.studio.conftest import ROLES, body, graph

# (name, method, url, request body, capability). {t} is the tenant; {...} fields of its objects.
ENDPOINTS = [
    ("blueprints.list", "get", "/api/v1/t/{t}/blueprints/", None, "read"),
    ("blueprints.create", "post", "/api/v1/t/{t}/blueprints/", {"slug": "new-one", "title": "New"}, "edit"),
    ("blueprints.get", "get", "/api/v1/t/{t}/blueprints/overspeed/", None, "read"),
    ("blueprints.update", "patch", "/api/v1/t/{t}/blueprints/overspeed/", {"title": "Renamed"}, "edit"),
    ("blueprints.fork", "post", "/api/v1/t/{t}/blueprints/overspeed/fork", {"slug": "forked"}, "edit"),
    ("versions.list", "get", "/api/v1/t/{t}/blueprints/overspeed/versions/", None, "read"),
    ("versions.create", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/", {"graph": graph()}, "edit"),
    ("versions.get", "get", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/", None, "read"),
    ("versions.update", "patch", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/", {"readme": "hi"}, "edit"),
    ("versions.compile", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/compile", {}, "edit"),
    ("versions.submit", "post", "/api/v1/t/{t}/blueprints/overspeed/versions/0.1.0/submit", {}, "edit"),
    (
        "simulate",
        "post",
        "/api/v1/t/{t}/simulate",
        {"blueprint": "overspeed", "version": "0.1.0", "scenario": "one"},
        "edit",
    ),
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
    ("members.list", "get", "/api/v1/t/{t}/members/", None, "admin"),
    (
        "members.create",
        "post",
        "/api/v1/t/{t}/members/",
        {"username": "newbie", "role": "viewer", "password": "long-enough-1"},
        "admin",
    ),
    ("members.update", "patch", "/api/v1/t/{t}/members/{member}/", {"role": "operator"}, "admin"),
    ("tokens.list", "get", "/api/v1/t/{t}/tokens/", None, "admin"),
    ("tokens.create", "post", "/api/v1/t/{t}/tokens/", {"name": "ci"}, "admin"),
    ("audit.list", "get", "/api/v1/t/{t}/audit/", None, "admin"),
    ("devices.delete", "delete", "/api/v1/t/{t}/devices/gw-1/", None, "operate"),
    ("members.delete", "delete", "/api/v1/t/{t}/members/{member}/", None, "admin"),
    ("blueprints.delete", "delete", "/api/v1/t/{t}/blueprints/overspeed/", None, "edit"),
]


def url_for(template: str, world: dict) -> str:
    return template.format(
        t=world["tenant"].slug, bundle=world["bundle"].bundle_id, alert=world["alert"].pk, member=world["member"].pk
    )


def call(client, method: str, url: str, data):
    return getattr(client, method)(url, data, format="json") if data is not None else getattr(client, method)(url)


@pytest.mark.parametrize("name,method,template,data,capability", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_role_matrix(acme, client_as, name, method, template, data, capability):
    """Each role calls the endpoint on the same world (a savepoint undoes each call)."""
    wrong = {}
    for role in ROLES:
        savepoint = transaction.savepoint()
        response = call(client_as(acme["users"][role]), method, url_for(template, acme), data)
        transaction.savepoint_rollback(savepoint)
        allowed = capability in ROLE_CAPABILITIES[role]
        if allowed and (response.status_code in (401, 403, 404, 405) or response.status_code >= 500):
            wrong[role] = (response.status_code, body(response))
        if not allowed and (response.status_code != 403 or body(response)["error"]["code"] != "forbidden"):
            wrong[role] = (response.status_code, body(response))
    assert not wrong, f"{name} needs {capability}: {wrong}"


@pytest.mark.parametrize("name,method,template,data,capability", ENDPOINTS, ids=[e[0] for e in ENDPOINTS])
def test_another_tenants_objects_are_404(acme, globex, client_as, name, method, template, data, capability):
    """Globex's admin (who may do everything in Globex) gets 404 for everything of Acme."""
    response = call(client_as(globex["users"]["admin"]), method, url_for(template, acme), data)
    assert response.status_code == 404, (response.status_code, body(response))
    assert body(response)["error"]["code"] == "not_found"


# The bundle download also admits devices (no user): test_api.py covers its anonymous and device cases.
USER_ENDPOINTS = [e for e in ENDPOINTS if e[0] != "bundles.download"]


@pytest.mark.parametrize("name,method,template,data,capability", USER_ENDPOINTS, ids=[e[0] for e in USER_ENDPOINTS])
def test_anonymous_callers_are_401(acme, client, name, method, template, data, capability):
    response = call(client, method, url_for(template, acme), data)
    assert response.status_code in (401, 403) and body(response)["error"]["code"] in ("not_authenticated", "forbidden")
