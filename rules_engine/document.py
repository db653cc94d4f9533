"""Reading JSON documents safely: size and depth limits, clear errors, never a traceback."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

__all__ = [
    "MAX_DEPTH",
    "MAX_DOCUMENT_BYTES",
    "JsonError",
    "loads_limited",
    "max_depth",
    "schema_references",
    "subschemas",
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
    except JsonError as exc:  # NaN or Infinity, refused by _reject_constant, which cannot say where
        raise JsonError(f"{what} is not valid JSON: {exc}{_where(text, _CONSTANT)}") from None
    except ValueError:  # the one other: an integer literal longer than int() converts
        limit = sys.get_int_max_str_digits()
        raise JsonError(
            f"{what} holds an integer of more than {limit} digits{_where(text, _long_integer(limit))}"
        ) from None
    except RecursionError:
        raise JsonError(f"{what} nests too deeply") from None


# A JSON string (skipped: what it holds is text), or the token searched for, in group 1.
_STRING = r'"(?:[^"\\]|\\.)*"'
_CONSTANT = re.compile(_STRING + r"|(-?Infinity|NaN)")


def _long_integer(digits: int) -> re.Pattern:
    return re.compile(_STRING + rf"|(?<![\w.+-])(-?\d{{{digits + 1},}})(?![.eE\d])")


def _where(text: str, token: re.Pattern) -> str:
    """Where the token first occurs outside strings, as json's errors say it; "" if it does not."""
    for match in token.finditer(text):
        if match.group(1) is not None:
            at = match.start(1)
            line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
            return f" at line {line} column {column}"
    return ""


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


# JSON Schema 2020-12 keywords whose value is a subschema, a list of them, or a map of them.
_SUBSCHEMA = (
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "unevaluatedItems",
    "contains",
    "propertyNames",
    "if",
    "then",
    "else",
    "not",
)
_SUBSCHEMAS = ("allOf", "anyOf", "oneOf", "prefixItems")
_NAMED_SUBSCHEMAS = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")


def subschemas(schema: Any) -> list[tuple[tuple[str, ...], dict]]:
    """Every (sub)schema object of a JSON Schema, with its path, the schema itself first.

    Walks the keywords of ``_SUBSCHEMA``, ``_SUBSCHEMAS`` and ``_NAMED_SUBSCHEMAS`` without
    recursion (hostile documents are safe); values that are not objects are skipped.
    """
    found: list[tuple[tuple[str, ...], dict]] = []
    stack: list[tuple[tuple[str, ...], Any]] = [((), schema)]
    while stack:
        path, item = stack.pop()
        if not isinstance(item, dict):
            continue
        found.append((path, item))
        for key in _SUBSCHEMA + _SUBSCHEMAS:
            sub = item.get(key)
            if isinstance(sub, list):
                stack += [((*path, key, str(i)), s) for i, s in enumerate(sub)]
            elif sub is not None:
                stack.append(((*path, key), sub))
        for key in _NAMED_SUBSCHEMAS:
            named = item.get(key)
            if isinstance(named, dict):
                stack += [((*path, key, str(name)), s) for name, s in named.items()]
    return found


def schema_references(schema: Any) -> list[tuple[str, ...]]:
    """Paths of the ``$ref`` and ``$dynamicRef`` keywords in a JSON Schema a document brings.

    A reference is followed by jsonschema when a payload or a value is checked: a remote one is
    fetched over the network, a local one may loop or recurse as deep as the instance, and none
    of that can be ruled out before running it. Documents therefore write their schemas inline.
    """
    found: list[tuple[str, ...]] = []
    for path, item in subschemas(schema):
        found += [(*path, key) for key in ("$ref", "$dynamicRef") if key in item]
    return sorted(found)
