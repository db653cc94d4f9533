"""Turning JSON values into port values, and port values into JSON text."""

from __future__ import annotations

import json
import math
from typing import Any

__all__ = ["as_number", "dumps", "json_value", "to_jsonable"]


def as_number(value: Any) -> float | None:
    """A JSON number as a finite float; anything else (bools included) is missing."""
    if type(value) is float:
        return value if math.isfinite(value) else None
    if type(value) is int:
        try:
            f = float(value)
        except OverflowError:
            return None
        return f if math.isfinite(f) else None
    return None


def finite(x: float) -> float | None:
    """A computed number, or missing when the result is not finite (SPEC §3.1)."""
    return x if math.isfinite(x) else None


def to_jsonable(value: Any) -> Any:
    """Port values and nested payloads as JSON-ready objects: integral floats become ints."""
    if type(value) is float:
        if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
            return int(value)
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


def json_value(value: Any) -> str:
    """A value written inside a template string: numbers and bools as JSON, text as it is."""
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), allow_nan=False)


def dumps(obj: Any) -> str:
    """The one way we write a record: keys sorted at every depth, compact, integral floats bare."""
    return _encode(to_jsonable(obj))


# One encoder for every call: json.dumps with these options would make a new one each time.
_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False).encode
