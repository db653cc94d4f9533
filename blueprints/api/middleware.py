"""Requests whose path or query string no database can hold are refused before any view runs.

PostgreSQL refuses NUL characters in text, and a lone surrogate cannot be encoded as UTF-8;
without this a filter such as ``?q=%00`` would reach the database and fail there, as a 500 on
PostgreSQL and not on SQLite.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, JsonResponse

from rules_engine.document import unstorable_text


class RejectUnstorableText:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            problem = _problem(request)
            if problem is not None:
                field, message = problem
                body = {"error": {"code": "validation", "message": message, "field": field}}
                return JsonResponse(body, status=400)
        return self.get_response(request)


def _problem(request: HttpRequest) -> tuple[str | None, str] | None:
    what = "holds a NUL character or an invalid UTF-8 sequence"
    if unstorable_text(request.path) is not None:
        return None, f"the path {what}"
    for name, values in request.GET.lists():
        if unstorable_text(name) is not None or unstorable_text(values) is not None:
            printable = name.encode("utf-8", "backslashreplace").decode().replace("\x00", "\\u0000")
            return printable, f"the query parameter {printable!r} {what}"
    return None
