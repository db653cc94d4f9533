"""``math.*``: arithmetic on numbers. Missing in, missing out; non-finite results are missing."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from ..registry import NodeKind, NodeProblem, Port, register
from ..types import NUMBER

A, B, IN = Port("a", NUMBER), Port("b", NUMBER), Port("in", NUMBER)
isfinite = math.isfinite


class Binary(NodeKind):
    group = "math"
    inputs = (A, B)
    output = NUMBER
    op: Callable[[float, float], float]
    onnx_op: str

    def lower(self, node, g, ins):
        (a, am), (b, bm) = ins
        return g.number(g.op(self.onnx_op, a, b), am, bm)

    def make_step(self, node):
        op = type(self).op

        def step(ins, state, ev):
            a, b = ins
            if a is None or b is None:
                return None
            try:
                r = op(a, b)
            except (ZeroDivisionError, OverflowError):
                return None
            return r if isfinite(r) else None

        return step


@register
class Add(Binary):
    name = "math.add"
    doc = "a + b"
    op = operator.add
    onnx_op = "Add"


@register
class Sub(Binary):
    name = "math.sub"
    doc = "a − b"
    op = operator.sub
    onnx_op = "Sub"


@register
class Mul(Binary):
    name = "math.mul"
    doc = "a × b"
    op = operator.mul
    onnx_op = "Mul"


@register
class Div(Binary):
    name = "math.div"
    doc = "a ÷ b; missing when b is 0"
    op = operator.truediv
    onnx_op = "Div"


class Unary(NodeKind):
    group = "math"
    inputs = (IN,)
    output = NUMBER

    def fn(self, node) -> Callable[[float], float]:
        raise NotImplementedError

    def make_step(self, node):
        fn = self.fn(node)

        def step(ins, state, ev):
            x = ins[0]
            if x is None:
                return None
            r = fn(x)
            return r if isfinite(r) else None

        return step

    def lower(self, node, g, ins):
        x, m = ins[0]
        return g.number(self.lower_value(node, g, x), m)

    def lower_value(self, node, g, x: str) -> str:
        raise NotImplementedError


@register
class Abs(Unary):
    name = "math.abs"
    doc = "|x|"

    def fn(self, node):
        return abs

    def lower_value(self, node, g, x):
        return g.op("Abs", x)


@register
class Neg(Unary):
    name = "math.neg"
    doc = "−x"

    def fn(self, node):
        return operator.neg

    def lower_value(self, node, g, x):
        return g.op("Neg", x)


@register
class Scale(Unary):
    name = "math.scale"
    doc = "k·x + offset: unit conversions and calibration"
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "k": {"type": "number", "default": 1, "title": "Factor"},
            "offset": {"type": "number", "default": 0, "title": "Offset"},
        },
    }

    def fn(self, node):
        k, offset = float(node.params["k"]), float(node.params["offset"])
        return lambda x: k * x + offset

    def lower_value(self, node, g, x):
        return g.op("Add", g.op("Mul", g.const(float(node.params["k"])), x), g.const(float(node.params["offset"])))


@register
class Clamp(Unary):
    name = "math.clamp"
    doc = "x limited to [min, max]"
    params_schema = {
        "type": "object",
        "required": ["min", "max"],
        "additionalProperties": False,
        "properties": {"min": {"type": "number", "title": "Min"}, "max": {"type": "number", "title": "Max"}},
    }

    def check_params(self, node):
        if node.params["min"] > node.params["max"]:
            return [NodeProblem("schema", ("params", "min"), "min must not be greater than max")]
        return []

    def fn(self, node):
        lo, hi = float(node.params["min"]), float(node.params["max"])
        return lambda x: min(max(x, lo), hi)

    def lower_value(self, node, g, x):
        low = g.op("Max", x, g.const(float(node.params["min"])))
        return g.op("Min", low, g.const(float(node.params["max"])))
