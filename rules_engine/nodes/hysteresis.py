"""``hysteresis``: on above one threshold, off below another; never missing."""

from __future__ import annotations

from ..registry import NodeKind, Port, register
from ..types import BOOL, NUMBER


@register
class Hysteresis(NodeKind):
    name = "hysteresis"
    group = "state"
    doc = "turns true when x > on_above, false when x < off_below (strict); starts false; missing keeps it."
    params_schema = {
        "type": "object",
        "required": ["on_above", "off_below"],
        "additionalProperties": False,
        "properties": {
            "on_above": {"type": "number", "title": "On above"},
            "off_below": {"type": "number", "title": "Off below"},
        },
    }
    inputs = (Port("in", NUMBER),)
    output = BOOL
    stateful = True

    def new_state(self, node):
        return [False]

    def make_step(self, node):
        on, off = float(node.params["on_above"]), float(node.params["off_below"])

        def step(ins, state, ev):
            x = ins[0]
            if x is not None:
                if x > on:
                    state[0] = True
                elif x < off:
                    state[0] = False
            return state[0]

        return step

    def lower(self, node, g, ins):
        x, xm = ins[0]
        on = g.state("on", "bool", False)
        up = g.and_(xm, g.op("Greater", x, g.const(float(node.params["on_above"]))))
        down = g.and_(xm, g.op("Less", x, g.const(float(node.params["off_below"]))))
        on = g.where(up, g.true(), g.where(down, g.false(), on))
        g.set_state("on", on)
        return on, g.batch(g.true())
