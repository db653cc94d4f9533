"""``ewma``: an exponentially weighted moving average."""

from __future__ import annotations

import math

from ..registry import NodeKind, Port, register
from ..types import NUMBER


@register
class Ewma(NodeKind):
    name = "ewma"
    group = "state"
    doc = "first value: itself; then α·x + (1−α)·previous. A missing input keeps the average."
    params_schema = {
        "type": "object",
        "required": ["alpha"],
        "additionalProperties": False,
        "properties": {"alpha": {"type": "number", "exclusiveMinimum": 0, "maximum": 1, "title": "α"}},
    }
    inputs = (Port("in", NUMBER),)
    output = NUMBER
    stateful = True

    def new_state(self, node):
        return [None]  # the average so far

    def make_step(self, node):
        alpha = float(node.params["alpha"])

        def step(ins, state, ev):
            x = ins[0]
            if x is not None:
                prev = state[0]
                value = x if prev is None else alpha * x + (1.0 - alpha) * prev
                state[0] = value if math.isfinite(value) else prev
            return state[0]

        return step

    def lower(self, node, g, ins):
        x, xm = ins[0]
        alpha = float(node.params["alpha"])
        avg = g.state("avg", "double", 0.0)
        has = g.state("has", "bool", False)
        blended = g.op("Add", g.op("Mul", g.const(alpha), x), g.op("Mul", g.const(1.0 - alpha), avg))
        candidate = g.where(has, blended, x)
        ok = g.and_(xm, g.finite(candidate))
        avg, has = g.where(ok, candidate, avg), g.or_(has, ok)
        g.set_state("avg", avg)
        g.set_state("has", has)
        return avg, has
