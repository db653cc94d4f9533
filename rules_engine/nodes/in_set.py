"""``in_set``: whether a category is one of a set of values."""

from __future__ import annotations

from ..registry import NodeKind, NodeProblem, Port, register
from ..types import BOOL, category


@register
class InSet(NodeKind):
    name = "in_set"
    group = "logic"
    doc = "true when the category is one of `values`; missing when it is missing."
    params_schema = {
        "type": "object",
        "required": ["values"],
        "additionalProperties": False,
        "properties": {
            "values": {
                "type": "array",
                "items": {"type": "string", "maxLength": 256},
                "maxItems": 1000,
                "uniqueItems": True,
                "title": "Values",
            }
        },
    }
    inputs = (Port("in", category()),)
    output = BOOL

    def output_type(self, node, in_types):
        self.check_inputs(node, in_types)
        enum = in_types["in"].enum
        if enum is not None:
            unknown = [v for v in node.params["values"] if v not in enum]
            if unknown:
                raise NodeProblem(
                    "type_mismatch",
                    ("params", "values"),
                    f"{', '.join(map(repr, unknown))} not in the category ({', '.join(enum)})",
                )
        return BOOL

    def make_step(self, node):
        values = frozenset(node.params["values"])
        return lambda ins, state, ev: None if ins[0] is None else ins[0] in values

    def lower(self, node, g, ins):
        x, m = ins[0]
        hits = [g.op("Equal", x, g.category_id(v)) for v in node.params["values"]]
        return (g.or_(*hits) if hits else g.batch(g.false())), m
