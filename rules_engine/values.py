"""Turning JSON values into port values, and port values into JSON text."""

from __future__ import annotations

import json
import math
from json.encoder import c_make_encoder, encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

__all__ = [
    "Unusual",
    "as_number",
    "dumps",
    "json_value",
    "record_template",
    "text_or_unusual",
    "to_jsonable",
    "value_text",
]


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
    t = type(value)
    if t is float:
        return _plain_float(value)
    if t is dict:  # the usual record: flat values, converted in place of a call each
        out = {}
        for k, v in value.items():
            tv = type(v)
            if tv is float:
                v = _plain_float(v)
            elif tv not in _UNCHANGED:
                v = to_jsonable(v)
            out[k] = v
        return out
    if isinstance(value, dict):
        return {k: to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [to_jsonable(v) for v in value]
    return value


_UNCHANGED = frozenset({str, int, bool, type(None)})


def _plain_float(value: float) -> float | int | None:
    if math.isfinite(value) and value == int(value) and abs(value) < 2**63:
        return int(value)
    return value if math.isfinite(value) else None


def json_value(value: Any) -> str:
    """A value written inside a template string: numbers and bools as JSON, text as it is."""
    t = type(value)
    if t is str:
        return value
    if t is float or t is int or t is bool or value is None:  # what json.dumps writes, without its cost
        return _value_text(value)
    if isinstance(value, str):
        return value
    return json.dumps(to_jsonable(value), allow_nan=False)


def dumps(obj: Any) -> str:
    """The one way we write a record: keys sorted at every depth, compact, integral floats bare."""
    if type(obj) is dict:
        try:
            return _flat_text(obj)
        except _Unusual:
            pass
    return _encode(to_jsonable(obj))


class _Unusual(Exception):
    """A value the direct writer leaves to the general one."""


_LITERALS = {True: "true", False: "false", None: "null"}
_INT64 = 2.0**63
_ORDERS: dict[tuple, list[tuple[str, str]]] = {}  # a dict's keys → (key, its text and ":"), sorted
_ORDERS_MAX = 256


def _flat_text(d: dict) -> str:
    """A record of strings, numbers, bools, None and such dicts, written directly: the text the
    general path gives (differentially tested), in less time. The C encoder sorting each small
    dict's keys was most of the cost of an alert."""
    keys = tuple(d)
    order = _ORDERS.get(keys)
    if order is None:
        if any(type(k) is not str for k in keys):
            raise _Unusual
        if len(_ORDERS) >= _ORDERS_MAX:
            _ORDERS.clear()
        order = _ORDERS[keys] = [(k, encode_basestring_ascii(k) + ":") for k in sorted(keys)]
    return "{" + ",".join([key_text + _value_text(d[k]) for k, key_text in order]) + "}"


def _value_text(v: Any) -> str:
    t = type(v)
    if t is str:
        return encode_basestring_ascii(v)
    if t is float:  # to_jsonable's rule (_plain_float): integral floats bare, NaN and ±inf missing
        if v.is_integer():  # finite too
            return int.__repr__(int(v)) if -_INT64 < v < _INT64 else float.__repr__(v)
        return float.__repr__(v) if v - v == 0.0 else "null"
    if t is int:
        return int.__repr__(v)
    if t is bool or v is None:
        return _LITERALS[v]
    if t is dict:
        return _flat_text(v)
    raise _Unusual


# For writers that fall back on their own (generated code): value_text without its fallback,
# raising Unusual for a value dumps writes the general way (a list, a dict holding one).
Unusual = _Unusual
text_or_unusual = _value_text


def value_text(value: Any) -> str:
    """A value's text inside a record, as :func:`dumps` writes it."""
    try:
        return _value_text(value)
    except _Unusual:
        return dumps(value)


def record_template(fixed: dict[str, Any], variable: tuple[str, ...]) -> str:
    """A ``%`` format of ``dumps({**fixed, **variable values})``: the fixed part written once,
    a ``%s`` for the :func:`value_text` of each variable key (``variable`` is sorted)."""
    if list(variable) != sorted(variable) or set(variable) & set(fixed):
        raise ValueError(f"variable keys {variable} must be sorted and not among the fixed ones")
    pieces = []
    for k in sorted([*fixed, *variable]):
        head = encode_basestring_ascii(k) + ":"
        pieces.append(head + "%s" if k in variable else (head + dumps(fixed[k])).replace("%", "%%"))
    return "{" + ",".join(pieces) + "}"


def _default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


# One encoder for every call: json.dumps, and JSONEncoder.encode too, make a new one each time
# (~1 µs a record). No circular check: to_jsonable has walked the value first, and a cycle is a
# RecursionError there.
_c_encoder = (
    c_make_encoder(None, _default, encode_basestring_ascii, None, ":", ",", True, False, False)
    if c_make_encoder is not None
    else None
)
_py_encode = json.JSONEncoder(sort_keys=True, separators=(",", ":"), allow_nan=False).encode


def _encode(value: Any) -> str:
    if _c_encoder is None or type(value) is not dict:
        return _py_encode(value)
    return "".join(_c_encoder(value, 0))
