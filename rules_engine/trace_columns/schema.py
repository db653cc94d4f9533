"""A source's payload schema checked column by column, on the lines of one shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..schema_check import ANNOTATIONS, Predicate, compile_schema
from .shape import Matched, Template
from .words import EXACT

__all__ = ["ColumnSchema"]


class _Leaf:
    """The schema of one payload property, tested on a column of its values."""

    def __init__(self, schema: Any, predicate: Predicate):
        self.predicate = predicate
        self.vector = _vector_form(schema)

    @classmethod
    def of(cls, schema: Any) -> _Leaf | None:
        predicate = compile_schema(schema)
        return None if predicate is None else cls(schema, predicate)

    def on_numbers(self, v: np.ndarray) -> np.ndarray | bool:
        if self.vector is None:  # another keyword: the predicate, once per distinct value
            distinct, index = np.unique(v, return_inverse=True)
            return np.array([self.predicate(x) for x in distinct.tolist()], np.bool_)[index.ravel()]
        types, bounds = self.vector
        ok: np.ndarray | bool = True
        if types is not None and "number" not in types:
            ok = v == np.floor(v) if "integer" in types else False
        for op, c in bounds:
            ok = ok & op(v, c)
        return ok

    def on_strings(self, distinct: list[str], index: np.ndarray) -> np.ndarray:
        return np.array([self.predicate(s) for s in distinct], np.bool_)[index]


def _vector_form(schema: Any) -> tuple[set[str] | None, list] | None:
    """A number property's tests as numpy comparisons: (type names or None, [(op, bound)])."""
    if schema is True:
        return None, []
    if not isinstance(schema, dict):
        return None
    ops = {
        "minimum": np.greater_equal,
        "maximum": np.less_equal,
        "exclusiveMinimum": np.greater,
        "exclusiveMaximum": np.less,
    }
    types, bounds = None, []
    for key, arg in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "type":
            types = {arg} if isinstance(arg, str) else set(arg) if isinstance(arg, list) else None
            if types is None:
                return None
        elif key in ops and type(arg) in (int, float) and abs(arg) <= EXACT and float(arg) == arg:
            bounds.append((ops[key], float(arg)))
        else:
            return None
    return types, bounds


class ColumnSchema:
    """A source's payload schema when it is an object of properties (what telemetry schemas are)."""

    def __init__(self, required: list[str], leaves: dict[str, _Leaf], additional: _Leaf | None):
        self.required, self.leaves, self.additional = required, leaves, additional

    @classmethod
    def of(cls, schema: Any) -> ColumnSchema | None:
        if schema is True:
            return cls([], {}, None)
        if not isinstance(schema, dict):
            return None
        for key in schema:
            if key not in ANNOTATIONS and key not in ("type", "required", "properties", "additionalProperties"):
                return None
        kind = schema.get("type", "object")
        if kind != "object" and not (isinstance(kind, list) and "object" in kind):
            return None
        required, properties = schema.get("required", []), schema.get("properties", {})
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            return None
        if not isinstance(properties, dict):
            return None
        leaves = {}
        for name, sub in properties.items():
            leaf = _Leaf.of(sub)
            if leaf is None:  # a keyword the compiled checks do not have: the usual way
                return None
            leaves[name] = leaf
        additional = _Leaf.of(schema["additionalProperties"]) if "additionalProperties" in schema else None
        if "additionalProperties" in schema and additional is None:
            return None
        return cls(required, leaves, additional)

    def verdict(self, tpl: Template, matched: Matched) -> np.ndarray:
        """Each matched line's payload: valid?"""
        n = len(matched.lines)
        if not set(self.required) <= set(tpl.payload_keys):
            return np.zeros(n, np.bool_)
        ok: np.ndarray | bool = True
        for name in tpl.payload_keys:
            leaf = self.leaves.get(name, self.additional)
            if leaf is None:
                continue
            role = ("payload", name)
            if role in matched.numbers:
                ok = ok & leaf.on_numbers(matched.numbers[role])
            elif role in matched.strings:
                ok = ok & leaf.on_strings(*matched.strings[role])
            else:
                ok = ok & leaf.predicate(tpl.constants[name])
        return np.broadcast_to(np.asarray(ok, np.bool_), (n,))
