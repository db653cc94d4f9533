"""``debounce``: true once the last `count` evaluations were all true; never missing."""

from __future__ import annotations

from ..registry import NodeKind, Port, register
from ..types import BOOL


@register
class Debounce(NodeKind):
    name = "debounce"
    group = "state"
    doc = "true on every evaluation while the run of consecutive trues is ≥ count; false or missing resets it."
    params_schema = {
        "type": "object",
        "required": ["count"],
        "additionalProperties": False,
        "properties": {"count": {"type": "integer", "minimum": 1, "maximum": 1000000, "title": "Count"}},
    }
    inputs = (Port("in", BOOL),)
    output = BOOL
    stateful = True

    def new_state(self, node):
        return [0]  # the run of consecutive trues

    def make_step(self, node):
        count = int(node.params["count"])

        def step(ins, state, ev):
            state[0] = min(state[0] + 1, count) if ins[0] is True else 0
            return state[0] >= count

        return step

    def lower(self, node, g, ins):
        on, _ = g.truth(ins[0])  # known true
        count = g.const(float(node.params["count"]))
        run = g.state("run", "double", 0.0)
        run = g.where(on, g.op("Min", g.op("Add", run, g.const(1.0)), count), g.const(0.0))
        g.set_state("run", run)
        return g.op("GreaterOrEqual", run, count), g.batch(g.true())
