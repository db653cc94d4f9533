"""Reading JSON documents safely: size and depth limits, clear errors, never a traceback."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["MAX_DEPTH", "MAX_DOCUMENT_BYTES", "JsonError", "loads_limited", "max_depth"]

MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64


class JsonError(ValueError):
    """Text that is not a JSON document we accept; the message says why and where."""


def _reject_constant(name: str) -> float:
    raise JsonError(f"{name} is not a JSON number")


def max_depth(text: str) -> int:
    """Nesting depth of brackets outside strings, without recursion (hostile input safe)."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def loads_limited(
    text: str | bytes,
    *,
    what: str = "document",
    max_bytes: int = MAX_DOCUMENT_BYTES,
    depth: int = MAX_DEPTH,
    allow_nan: bool = False,
) -> Any:
    """Parse JSON with limits; raises JsonError naming the line and column of a syntax error."""
    if isinstance(text, bytes):
        if len(text) > max_bytes:
            raise JsonError(f"{what} is {len(text)} bytes; the limit is {max_bytes}")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise JsonError(f"{what} is not UTF-8 (byte {exc.start})") from None
    elif len(text) > max_bytes:
        raise JsonError(f"{what} is {len(text)} characters; the limit is {max_bytes}")
    # Cheap pre-check: only documents with many brackets can be too deep.
    if text.count("[") + text.count("{") > depth and max_depth(text) > depth:
        raise JsonError(f"{what} nests deeper than {depth} levels")
    try:
        if allow_nan:
            return json.loads(text)
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        raise JsonError(f"{what} is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except RecursionError:
        raise JsonError(f"{what} nests too deeply") from None


def is_finite_number(value: Any) -> bool:
    return (type(value) is int) or (type(value) is float and math.isfinite(value))
