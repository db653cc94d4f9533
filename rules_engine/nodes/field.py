"""``field``: one value of a source's record, typed by the source's schema."""

from __future__ import annotations

import math

from ..registry import NodeKind, NodeProblem, Port, PortTypeError, register
from ..types import BOOL, NUMBER, RECORD, category


def schema_at(schema: object, path: list[str]) -> dict | None:
    """The sub-schema a dotted path declares (through nested ``properties``), or None."""
    for part in path:
        if not isinstance(schema, dict):
            return None
        props = schema.get("properties")
        if not isinstance(props, dict) or part not in props:
            return None
        schema = props[part]
    return schema if isinstance(schema, dict) else None


def field_type(sub: dict):
    """number/integer → number, boolean → bool, an enum of strings → category; else None."""
    enum = sub.get("enum")
    if isinstance(enum, list) and enum and all(isinstance(v, str) for v in enum):
        return category(enum)
    types = sub.get("type")
    types = [types] if isinstance(types, str) else types if isinstance(types, list) else []
    types = [t for t in types if t != "null"]
    if types and all(t in ("number", "integer") for t in types):
        return NUMBER
    if types == ["boolean"]:
        return BOOL
    return None


@register
class Field(NodeKind):
    name = "field"
    group = "fields"
    doc = """
    One value of the record: `path` is dotted (`engine.temp_c`). Its type comes from the
    source's schema. A value that is absent, null, of another type, outside the enum, NaN or
    infinite is missing.
    """
    params_schema = {
        "type": "object",
        "required": ["path"],
        "additionalProperties": False,
        "properties": {
            "path": {
                "type": "string",
                "pattern": r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$",
                "maxLength": 256,
                "title": "Field path",
            }
        },
    }
    inputs = (Port("in", RECORD, "the source's record"),)

    def output_type(self, node, in_types):
        record = in_types["in"]
        if record.kind != "record":
            raise PortTypeError("in", f"expect record, got {record}")
        path = node.params["path"]
        sub = schema_at(record.schema, path.split("."))
        if sub is None:
            raise NodeProblem("unknown_field", ("params", "path"), f"the source's schema declares no field {path!r}")
        out = field_type(sub)
        if out is None:
            raise NodeProblem(
                "type_mismatch",
                ("params", "path"),
                f"field {path!r} is not a number, integer, boolean or enum of strings",
            )
        return out

    def make_step(self, node):
        parts = node.params["path"].split(".")
        kind = node.out_type.kind
        enum = frozenset(node.out_type.enum or ())

        def lookup(record):
            value = record
            for part in parts:
                if type(value) is not dict:
                    return None
                value = value.get(part)
            return value

        if kind == "number":

            def step(ins, state, ev):
                v = lookup(ins[0])
                t = type(v)
                if t is float:
                    return v if math.isfinite(v) else None
                if t is int:
                    try:
                        f = float(v)
                    except OverflowError:
                        return None
                    return f if math.isfinite(f) else None
                return None
        elif kind == "bool":

            def step(ins, state, ev):
                v = lookup(ins[0])
                return v if type(v) is bool else None
        else:

            def step(ins, state, ev):
                v = lookup(ins[0])
                return v if type(v) is str and v in enum else None

        return step

    def lower(self, node, g, ins):
        return g.field(node)
