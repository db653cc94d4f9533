"""Errors Django answers itself, outside DRF's views — no route, a Host not allowed, a failed CSRF
check, a bug in a middleware — are JSON under /api/, like every API error
(``{"error": {"code", "message", "field"}}``); the browser app's paths keep Django's pages."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from blueprints.api import middleware


def api_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    error = json.loads(response.content)["error"]
    assert set(error) == {"code", "message", "field"} and error["code"] == code and error["message"], error
    return error


def html(response, status: int) -> None:
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("text/html"), response["Content-Type"]


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete", "options"])
@pytest.mark.parametrize("path", ["/api/v1/nope", "/api/v1/", "/api/nope/", "/api/v1/t/acme/nope/deeper"])
def test_a_path_under_api_that_matches_no_route_is_a_json_404(method, path):
    error = api_error(getattr(Client(), method)(path), 404, "not_found")
    assert error == {"code": "not_found", "message": "not found", "field": None}


def test_a_host_not_allowed_is_a_json_400_that_does_not_echo_it():
    error = api_error(Client().get("/api/v1/node-types", HTTP_HOST="evil.example"), 400, "validation")
    assert error["field"] == "Host" and "evil" not in error["message"]


def test_a_bug_in_a_middleware_is_a_json_500(monkeypatch):
    def broken(request):
        raise RuntimeError("a bug before any view")

    monkeypatch.setattr(middleware, "_problem", broken)
    error = api_error(Client(raise_request_exception=False).get("/api/v1/node-types"), 500, "server_error")
    assert "a bug" not in error["message"]  # logged, never shown


@pytest.mark.urls("tests.studio.error_urls")
def test_errors_of_plain_django_views_under_api_are_json(settings):
    client = Client(raise_request_exception=False)
    api_error(client.get("/api/test/boom"), 500, "server_error")
    assert api_error(client.get("/api/test/denied"), 403, "forbidden")["message"] == "plain Django says no"
    refused = api_error(Client(enforce_csrf_checks=True).post("/api/test/plain", {"a": "1"}), 403, "forbidden")
    assert "CSRF" in refused["message"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    api_error(client.post("/api/test/plain", {"a": "x" * 1000}), 413, "too_large")
    assert client.post("/api/test/plain", {"a": "1"}).status_code == 200


@pytest.mark.urls("tests.studio.error_urls")
def test_the_browser_app_s_paths_keep_django_s_pages(settings):
    client = Client(raise_request_exception=False)
    html(client.get("/static/nope.js"), 404)
    html(client.get("/ws/nope"), 404)
    html(client.get("/", HTTP_HOST="evil.example"), 400)
    html(client.get("/test/boom"), 500)
    html(client.get("/test/denied"), 403)
    html(Client(enforce_csrf_checks=True).post("/test/plain", {"a": "1"}), 403)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    html(client.post("/test/plain", {"a": "x" * 1000}), 400)
