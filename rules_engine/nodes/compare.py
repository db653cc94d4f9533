"""``compare``: two numbers (every op), or two categories or bools (eq, ne) → bool."""

from __future__ import annotations

import operator

from ..registry import NodeKind, NodeProblem, Port, PortTypeError, register
from ..types import ANY, BOOL, NUMBER, PortType

ONNX_OPS = {"lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual", "eq": "Equal", "ne": "Equal"}
OPS = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge, "eq": operator.eq, "ne": operator.ne}


def value_type(value: object) -> PortType:
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, str):
        return PortType("category", (value,))
    return NUMBER


@register
class Compare(NodeKind):
    name = "compare"
    group = "logic"
    doc = """
    a OP b, where b is an input or the fixed `value`. Numbers take every op; categories and
    bools take eq and ne. Missing when either side is missing.
    """
    params_schema = {
        "type": "object",
        "required": ["op"],
        "additionalProperties": False,
        "properties": {
            "op": {"enum": list(OPS), "title": "Operator"},
            "value": {
                "type": ["number", "string", "boolean"],
                "maxLength": 256,
                "title": "Value",
                "description": "compare with this instead of input b",
            },
        },
    }
    inputs = (Port("a", ANY), Port("b", ANY))
    output = BOOL

    def blocked_ports(self, node):
        return {"b": "compare takes b from its `value` param; remove one"} if "value" in node.params else {}

    def ports(self, params, fed):
        if "value" in params and "b" not in fed:
            return [Port("a", ANY)]
        return list(self.inputs)

    def output_type(self, node, in_types):
        self.check_inputs(node, in_types)
        a = in_types["a"]
        fixed = "value" in node.params
        b = value_type(node.params["value"]) if fixed else in_types["b"]
        op = node.params["op"]
        if a.kind != b.kind:
            if fixed:
                raise NodeProblem(
                    "type_mismatch",
                    ("params", "value"),
                    f"{node.id}: a is {a} but value {node.params['value']!r} is {b.kind}",
                )
            raise PortTypeError("b", f"expect {a.kind} like a, got {b}")
        if a.kind != "number" and op not in ("eq", "ne"):
            raise PortTypeError("a", f"{op} needs numbers; {a.kind} takes only eq and ne")
        if fixed and a.kind == "category" and a.enum is not None and node.params["value"] not in a.enum:
            raise NodeProblem(
                "type_mismatch", ("params", "value"), f"{node.params['value']!r} is not one of {', '.join(a.enum)}"
            )
        return BOOL

    def make_step(self, node):
        op = OPS[node.params["op"]]
        if "value" in node.params:
            value = node.params["value"]
            if not isinstance(value, (bool, str)):
                value = float(value)

            def step(ins, state, ev):
                a = ins[0]
                return None if a is None else op(a, value)
        else:

            def step(ins, state, ev):
                a, b = ins
                return None if a is None or b is None else op(a, b)

        return step

    def lower(self, node, g, ins):
        a, am = ins[0]
        if "value" in node.params:
            value = node.params["value"]
            if isinstance(value, bool):
                b = g.const(value, "bool")
            elif isinstance(value, str):
                b = g.category_id(value)
            else:
                b = g.const(float(value))
            valid = am
        else:
            b, bm = ins[1]
            valid = g.and_(am, bm)
        op = node.params["op"]
        out = g.op(ONNX_OPS[op], a, b)
        return (g.not_(out) if op == "ne" else out), valid
