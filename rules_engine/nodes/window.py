"""``window.agg``: an aggregate over the last `size` values, or over the last `duration_s`."""

from __future__ import annotations

import math
from collections import deque

from ..registry import NodeKind, NodeProblem, Port, register
from ..types import NUMBER

AGGS = ("mean", "min", "max", "sum", "count")
MAX_SIZE = 10000
MAX_EVENTS = 65536


def aggregate(agg: str, values: list[float]) -> float | None:
    """The aggregate of the values in the window; `count` of none is 0, the others missing."""
    if agg == "count":
        return float(len(values))
    if not values:
        return None
    if agg == "min":
        return min(values)
    if agg == "max":
        return max(values)
    total = 0.0
    for v in values:  # left to right, oldest first: the compiled engine sums in the same order
        total += v
    if agg == "mean":
        total = total / len(values)
    return total if math.isfinite(total) else None


@register
class WindowAgg(NodeKind):
    name = "window.agg"
    group = "state"
    doc = """
    mean, min, max, sum or count of the last `size` non-missing values, or of those with
    ts > now − `duration_s` (keeping at most `max_events`). The current value is included.
    """
    params_schema = {
        "type": "object",
        "required": ["agg"],
        "additionalProperties": False,
        "properties": {
            "agg": {"enum": list(AGGS), "title": "Aggregate"},
            "size": {"type": "integer", "minimum": 1, "maximum": MAX_SIZE, "title": "Size (events)"},
            "duration_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400 * 366, "title": "Duration (s)"},
            "max_events": {
                "type": "integer",
                "minimum": 1,
                "maximum": MAX_EVENTS,
                "default": 256,
                "title": "Most values kept (duration windows)",
            },
        },
    }
    inputs = (Port("in", NUMBER),)
    output = NUMBER
    stateful = True

    def check_params(self, node):
        has_size, has_duration = "size" in node.params, "duration_s" in node.params
        if has_size == has_duration:
            return [
                NodeProblem(
                    "schema", ("params",), "window.agg takes exactly one of size (events) or duration_s (seconds)"
                )
            ]
        return []

    def capacity(self, node) -> int:
        return int(node.params["size"]) if "size" in node.params else int(node.params["max_events"])

    def new_state(self, node):
        return deque(maxlen=self.capacity(node))

    def make_step(self, node):
        agg = node.params["agg"]
        if "size" in node.params:

            def step(ins, window, ev):
                if ins[0] is not None:
                    window.append(ins[0])
                return aggregate(agg, list(window))
        else:
            span_ms = float(node.params["duration_s"]) * 1000.0

            def step(ins, window, ev):
                if ins[0] is not None:
                    window.append((ev.ts, ins[0]))
                since = ev.ts - span_ms
                return aggregate(agg, [v for t, v in window if t > since])

        return step

    def lower(self, node, g, ins):
        x, xm = ins[0]
        width = self.capacity(node)
        vals = g.state("vals", "double", 0.0, width)
        held = g.state("held", "bool", False, width)
        entered = g.unsqueeze(xm)  # a missing value does not enter the window
        vals = g.where(entered, g.shift_in(vals, x, width), vals)
        held = g.where(entered, g.shift_in(held, xm, width), held)
        g.set_state("vals", vals)
        g.set_state("held", held)
        inside = held
        if "duration_s" in node.params:
            times = g.state("times", "double", 0.0, width)
            times = g.where(entered, g.shift_in(times, g.ts, width), times)
            g.set_state("times", times)
            since = g.unsqueeze(g.op("Sub", g.ts, g.const(float(node.params["duration_s"]) * 1000.0)))
            inside = g.and_(held, g.op("Greater", times, since))
        count = g.reduce("ReduceSum", g.op("Cast", inside, to=11))  # 11: DOUBLE
        agg = node.params["agg"]
        if agg == "count":
            return count, g.batch(g.true())
        if agg in ("sum", "mean"):
            # Left to right, oldest first, as the reference sums: CumSum is a sequential running
            # sum (ReduceSum is not: it adds in vectorised lanes, and a float sum's last bits, or
            # all of them under cancellation, depend on the order). Slots not inside add 0.0: exact.
            running = g.op("CumSum", g.where(inside, vals, g.const(0.0)), g.const(1, "int64"))
            total = g.op("Gather", running, g.const(width - 1, "int64"), axis=1)
            value = total if agg == "sum" else g.op("Div", total, count)
        elif agg == "min":
            value = g.reduce("ReduceMin", g.where(inside, vals, g.const(float("inf"))))
        else:
            value = g.reduce("ReduceMax", g.where(inside, vals, g.const(float("-inf"))))
        if agg == "mean":  # the reference checks the sum before dividing
            total_ok = g.finite(total)
            return g.number(value, g.op("Greater", count, g.const(0.0)), total_ok)
        return g.number(value, g.op("Greater", count, g.const(0.0)))
