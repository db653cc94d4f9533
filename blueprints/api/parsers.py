"""JSON request bodies, size-limited before they are read."""

from __future__ import annotations

import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import APIException, ParseError

from rules_engine.document import MAX_DEPTH, max_depth, unstorable_text


class TooLarge(APIException):
    status_code = 413
    default_code = "too_large"
    default_detail = "the request body is too large"


class LimitedJSONParser(parsers.JSONParser):
    """A view may raise its limit with ``max_body_bytes`` (traces, models)."""

    def parse(self, stream, media_type=None, parser_context=None):
        view = (parser_context or {}).get("view")
        limit = getattr(view, "max_body_bytes", settings.API_MAX_BODY_BYTES)
        request = (parser_context or {}).get("request")
        declared = int(request.META.get("CONTENT_LENGTH") or 0) if request is not None else 0
        if declared > limit:
            raise TooLarge(f"the request body is {declared} bytes; the limit here is {limit}")
        data = stream.read(limit + 1) if stream is not None else b""
        if len(data) > limit:
            raise TooLarge(f"the request body is larger than {limit} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError(f"the body is not UTF-8 (byte {exc.start})") from None
        if text.count("[") + text.count("{") > MAX_DEPTH and max_depth(text) > MAX_DEPTH:
            raise ParseError(f"the JSON nests deeper than {MAX_DEPTH} levels")
        try:
            body = json.loads(text, parse_constant=_no_constants)
        except ValueError as exc:
            raise ParseError(f"the body is not valid JSON: {exc}") from None
        bad = unstorable_text(body, text)
        if bad is not None:
            raise ParseError(
                f"the text at {bad or '/'} holds a NUL character or a lone UTF-16 surrogate, which cannot be stored"
            )
        return body


def _no_constants(name: str):
    raise ValueError(f"{name} is not a JSON number")
