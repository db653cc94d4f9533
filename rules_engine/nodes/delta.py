"""``delta``: the change since the previous value, per event or per second of event time."""

from __future__ import annotations

import math

from ..registry import NodeKind, Port, register
from ..types import NUMBER


@register
class Delta(NodeKind):
    name = "delta"
    group = "state"
    doc = """
    x − previous x (`per` event), or that per second of event time (`per` second). The first
    value, a missing input, and a time step ≤ 0 give missing.
    """
    params_schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {"per": {"enum": ["event", "second"], "default": "event", "title": "Per"}},
    }
    inputs = (Port("in", NUMBER),)
    output = NUMBER
    stateful = True

    def new_state(self, node):
        return [None, None]  # previous value, its event time

    def make_step(self, node):
        per_second = node.params["per"] == "second"

        def step(ins, state, ev):
            x = ins[0]
            if x is None:
                return None
            prev, prev_ts = state
            state[0], state[1] = x, ev.ts
            if prev is None:
                return None
            change = x - prev
            if per_second:
                dt = ev.ts - prev_ts
                if dt <= 0:
                    return None
                change = change / (dt / 1000.0)
            return change if math.isfinite(change) else None

        return step

    def lower(self, node, g, ins):
        x, xm = ins[0]
        prev = g.state("prev", "double", 0.0)
        prev_ts = g.state("prev_ts", "double", 0.0)
        has = g.state("has", "bool", False)
        change = g.op("Sub", x, prev)
        masks = [xm, has]
        if node.params["per"] == "second":
            dt = g.op("Sub", g.ts, prev_ts)
            change = g.op("Div", change, g.op("Div", dt, g.const(1000.0)))
            masks.append(g.op("Greater", dt, g.const(0.0)))
        g.set_state("prev", g.where(xm, x, prev))
        g.set_state("prev_ts", g.where(xm, g.ts, prev_ts))
        g.set_state("has", g.or_(has, xm))
        return g.number(change, *masks)
