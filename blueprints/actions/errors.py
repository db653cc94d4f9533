"""What actions raise: the API turns each into its status and JSON error."""

from __future__ import annotations


class ActionError(Exception):
    status = 400
    code = "validation"

    def __init__(self, message: str, field: str | None = None):
        self.field = field
        super().__init__(message)


class Invalid(ActionError):
    status, code = 400, "validation"


class Forbidden(ActionError):
    status, code = 403, "forbidden"


class NotFound(ActionError):
    status, code = 404, "not_found"


class Conflict(ActionError):
    status, code = 409, "conflict"
