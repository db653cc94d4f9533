"""``const``: a fixed value (number, bool or category)."""

from __future__ import annotations

from ..registry import NodeKind, register
from ..types import BOOL, NUMBER, category


@register
class Const(NodeKind):
    name = "const"
    group = "fields"
    doc = "A fixed value: a number, a bool, or a string (a category of one value)."
    params_schema = {
        "type": "object",
        "required": ["value"],
        "additionalProperties": False,
        "properties": {"value": {"type": ["number", "boolean", "string"], "maxLength": 256, "title": "Value"}},
    }

    def output_type(self, node, in_types):
        value = node.params["value"]
        if isinstance(value, bool):
            return BOOL
        if isinstance(value, str):
            return category([value])
        return NUMBER

    def make_step(self, node):
        value = node.params["value"]
        if not isinstance(value, (bool, str)):
            value = float(value)
        return lambda ins, state, ev: value

    def lower(self, node, g, ins):
        value = node.params["value"]
        if isinstance(value, bool):
            v = g.const(value, "bool")
        elif isinstance(value, str):
            v = g.category_id(value)
        else:
            v = g.const(float(value))
        return g.batch(v), g.batch(g.true())
