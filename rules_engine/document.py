"""Reading JSON documents safely: size and depth limits, clear errors, never a traceback."""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "JsonError",
    "loads_limited",
    "max_depth",
    "unstorable_text",
]

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


# Text that may hold a NUL or a lone surrogate: a \u0000 or \uD800-\uDFFF escape, or a raw NUL.
_SUSPECT_TEXT = re.compile(r"\\u(?:0000|[dD][89a-fA-F])|\x00")


def unstorable_text(value: Any, source_text: str | None = None) -> str | None:
    """JSON pointer of the first string (key or value) that no database or UTF-8 file can hold.

    PostgreSQL refuses NUL characters in text and jsonb, and a lone surrogate cannot be encoded
    as UTF-8; JSON can spell both. Given the text the value was parsed from, documents that
    cannot contain either are cleared without a walk.
    """
    if source_text is not None and not _SUSPECT_TEXT.search(source_text):
        return None
    stack: list[tuple[str, Any]] = [("", value)]
    while stack:
        pointer, item = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                return pointer
        elif isinstance(item, dict):
            for key, child in item.items():
                child_pointer = f"{pointer}/{_escape(key)}"
                if _bad_text(key):
                    return child_pointer
                stack.append((child_pointer, child))
        elif isinstance(item, list):
            stack.extend((f"{pointer}/{i}", child) for i, child in enumerate(item))
    return None


def _bad_text(text: str) -> bool:
    if "\x00" in text:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _escape(key: str) -> str:
    # The pointer itself must be printable and storable, so the offending characters are spelled out.
    key = key.replace("~", "~0").replace("/", "~1").replace("\x00", "\\u0000")
    return key.encode("utf-8", "backslashreplace").decode()


def is_finite_number(value: Any) -> bool:
    return (type(value) is int) or (type(value) is float and math.isfinite(value))
