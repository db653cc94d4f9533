"""Every API error as JSON: ``{"error": {"code", "message", "field", "details"}}``.

DRF's views answer through :func:`exception_handler`. What happens before a view is chosen, or
outside DRF — no route matches, a bad Host header, a failed CSRF check, a bug in a middleware —
Django answers through its error handlers, which ``aiot_studio/urls.py`` points here: JSON for
paths under ``/api/``, Django's own pages elsewhere (the browser app's paths)."""

from __future__ import annotations

import logging

from django.core.exceptions import DisallowedHost, RequestDataTooBig
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import csrf, defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_handler

from ..actions.errors import ActionError

log = logging.getLogger("aiot.api")

CODES = {
    400: "validation",
    401: "not_authenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}
SERVER_ERROR = "an unexpected error happened; it has been logged"


def _first(details, prefix: str = "") -> tuple[str | None, str]:
    """The first field path and message in DRF's nested error details."""
    if isinstance(details, dict):
        for key, value in details.items():
            field = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                field = prefix or None
            sub_field, message = _first(value, field or "")
            return sub_field or field, message
    if isinstance(details, list) and details:
        return _first(details[0], prefix)
    return (prefix or None), str(details)


def error_response(status_code: int, code: str, message: str, field: str | None = None, details=None) -> Response:
    body = {"error": {"code": code, "message": message, "field": field}}
    if details is not None:
        body["error"]["details"] = details
    return Response(body, status=status_code)


def exception_handler(exc, context):
    if isinstance(exc, ActionError):
        return error_response(exc.status, exc.code, str(exc), exc.field)
    if isinstance(exc, DjangoValidationError):
        details = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = exceptions.ValidationError(details)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_handler(exc, context)
    if response is None:  # a bug: logged with its traceback, answered as JSON like every error
        log.error("unhandled error in %s", context.get("view").__class__.__name__, exc_info=exc)
        return error_response(500, "server_error", SERVER_ERROR)
    details = exc.detail if isinstance(exc, exceptions.APIException) else None
    code = CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ParseError):
        code = "parse_error"
    if isinstance(details, (dict, list)):
        field, message = _first(details)
        message = f"{field}: {message}" if field else message
    else:
        field, message = None, str(details or exc)
    if response.status_code == status.HTTP_404_NOT_FOUND and not isinstance(details, (dict, list)):
        message = "not found"
    response.data = {"error": {"code": code, "message": message, "field": field}}
    if isinstance(details, (dict, list)):
        response.data["error"]["details"] = details
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _json(status_code: int, code: str, message: str, field: str | None = None) -> JsonResponse:
    return JsonResponse({"error": {"code": code, "message": message, "field": field}}, status=status_code)


def bad_request(request: HttpRequest, exception=None) -> HttpResponse:
    """``handler400``: a request Django refused before any view (e.g. a Host not allowed)."""
    if not _is_api(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, RequestDataTooBig):
        return _json(413, "too_large", "the request body is too large")
    if isinstance(exception, DisallowedHost):  # the Host is not echoed: it is the caller's text
        return _json(400, "validation", "the Host header names a host this studio does not serve", "Host")
    return _json(400, "validation", "bad request")


def permission_denied(request: HttpRequest, exception=None) -> HttpResponse:
    """``handler403``."""
    if not _is_api(request):
        return defaults.permission_denied(request, exception)
    return _json(403, "forbidden", str(exception or "") or "you may not do this")


def not_found(request: HttpRequest, exception=None) -> HttpResponse:
    """``handler404``: no route matches (``/api/v1/nope``)."""
    if not _is_api(request):
        return defaults.page_not_found(request, exception)
    return _json(404, "not_found", "not found")


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: an exception outside DRF's views (Django has logged it with its traceback)."""
    if not _is_api(request):
        return defaults.server_error(request)
    return _json(500, "server_error", SERVER_ERROR)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: DRF checks CSRF itself for session-authenticated API calls; this
    answers when Django's middleware refuses a request under /api/ first."""
    if not _is_api(request):
        return csrf.csrf_failure(request, reason)
    return _json(403, "forbidden", f"CSRF check failed: {reason}" if reason else "CSRF check failed")
