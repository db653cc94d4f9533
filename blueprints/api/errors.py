"""Every API error as JSON: ``{"error": {"code", "message", "field", "details"}}``."""

from __future__ import annotations

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
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
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    429: "throttled",
}


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
        return error_response(500, "server_error", "an unexpected error happened; it has been logged")
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
