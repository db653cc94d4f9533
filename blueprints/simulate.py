"""Replaying a trace through a graph in the studio: the records, and what charts need."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules_engine.cases import case_messages
from rules_engine.interpreter import Interpreter
from rules_engine.plan import ModelProvider, Plan

MAX_TRACE_LINES = 100_000
MAX_POINTS = 5_000  # per charted node
MAX_RECORDS = 10_000


@dataclass
class Simulation:
    records: list[dict] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    series: dict[str, list] = field(default_factory=dict)
    counts: dict[str, dict] = field(default_factory=dict)
    truncated: bool = False

    def to_json(self) -> dict:
        return {
            "records": self.records,
            "summary": self.summary,
            "series": self.series,
            "counts": self.counts,
            "truncated": self.truncated,
        }


def simulate(plan: Plan, models: ModelProvider, trace: list[Any], series: list[str]) -> Simulation:
    """Run the reference interpreter over the trace (a list of trace lines; TraceError names the
    bad line). Every node's evaluations and fires are counted; the chosen nodes' values are kept
    as ``[ts, key, value]`` points (at most MAX_POINTS each)."""
    engine = Interpreter(plan, models)
    ids = [n.id for n in plan.nodes]
    charted = {ids.index(n) for n in series if n in ids}
    evaluated = [0] * len(ids)
    fired = [0] * len(ids)
    points: dict[int, list] = {i: [] for i in charted}
    out = Simulation()
    actions = {i for i, n in enumerate(plan.nodes) if n.is_action}

    def observe(index: int, key: str, ts: float, value: Any) -> None:
        evaluated[index] += 1
        if index in actions:
            if value is not None:
                fired[index] += 1
            return
        if index in charted:
            if len(points[index]) < MAX_POINTS:
                points[index].append([ts, key, value if not isinstance(value, dict) else None])
            else:
                out.truncated = True

    engine.observe = observe
    for message in case_messages(trace, "trace"):
        for record in engine.process(message.topic, message.payload, message.arrival_ms):
            if len(out.records) < MAX_RECORDS:
                out.records.append(record)
            else:
                out.truncated = True
    out.summary = engine.stats.to_json()
    out.series = {ids[i]: p for i, p in points.items()}
    out.counts = {
        ids[i]: {"evaluated": evaluated[i], "fired": fired[i]}
        for i in range(len(ids))
        if evaluated[i] and not plan.nodes[i].is_source
    }
    return out
