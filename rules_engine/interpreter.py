"""The reference interpreter: SPEC §3.2 as one readable loop.

Events are evaluated one at a time, in arrival order. For an event of source *s* and key *k*
every node downstream of *s* is evaluated in topological order; other nodes are read as their
last output for *k* (missing when a source they depend on has gone stale under ``max_age_s``).
State lives per key and per node and is touched only when that node is evaluated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .events import Decoder, Event
from .plan import ModelProvider, Plan

__all__ = ["Interpreter"]


@dataclass(slots=True)
class _Context:
    """What a step may read of the event being evaluated."""

    key: str
    ts: float
    record: dict
    models: ModelProvider | None


class _KeyState:
    __slots__ = ("last_ts", "outputs", "states")

    def __init__(self, initial_outputs: list[Any], n_sources: int):
        self.outputs: list[Any] = list(initial_outputs)
        self.states: list[Any] = [None] * len(initial_outputs)
        self.last_ts: list[float | None] = [None] * n_sources


class _Step:
    """One node's evaluation, prepared for one source: which inputs may be stale, etc."""

    __slots__ = ("action", "index", "inputs", "kind", "node", "step")

    def __init__(self, index, node, step, inputs, action):
        self.index, self.node, self.step, self.inputs, self.action = index, node, step, inputs, action
        self.kind = node.kind


class Interpreter:
    """Evaluates a :class:`Plan` on messages; ``process`` returns the action records."""

    name = "reference"

    def __init__(self, plan: Plan, models: ModelProvider | None = None):
        self.plan = plan
        self.models = models
        self.decoder = Decoder(plan)
        self.stats = self.decoder.stats
        index = {n.id: i for i, n in enumerate(plan.nodes)}
        source_index = {s.id: i for i, s in enumerate(plan.sources)}
        steps = {n.id: n.kind.make_step(n) for n in plan.nodes}
        # For each node, the max_age sources it depends on: (source index, max age in ms).
        self._aging = [
            [
                (source_index[s], plan.by_id[s].params["max_age_s"] * 1000.0)
                for s in sorted(plan.upstream_sources[n.id])
                if plan.by_id[s].params.get("max_age_s")
            ]
            for n in plan.nodes
        ]
        self._per_source: list[list[_Step]] = []
        for src in plan.sources:
            downstream = set(plan.downstream[src.id])
            prepared = []
            for nid in plan.downstream[src.id]:
                node = plan.by_id[nid]
                inputs = [
                    (
                        index[node.inputs[p]],
                        node.inputs[p] not in downstream and bool(self._aging[index[node.inputs[p]]]),
                    )
                    for p in node.fed_ports()
                ]
                prepared.append(_Step(index[nid], node, steps[nid], inputs, node.is_action))
            self._per_source.append(prepared)
        self._keys: dict[str, _KeyState] = {}
        # A const is downstream of no source, so it is never evaluated: its output is there from the start.
        self._initial = [steps[n.id]([], None, None) if n.type == "const" else None for n in plan.nodes]
        self._n_sources = len(plan.sources)
        # observe(node index, key, ts, value) hears every evaluation (the studio's replay charts).
        self.observe: Callable[[int, str, float, Any], None] | None = None

    @property
    def key_count(self) -> int:
        return len(self._keys)

    def process(self, topic: str, payload: Any, arrival_ms: float) -> list[dict]:
        """All action records of one message, source by source."""
        out: list[dict] = []
        for event in self.decoder.decode(topic, payload, arrival_ms):
            out.extend(self.evaluate(event))
        self.stats.actions += len(out)
        return out

    def evaluate(self, event: Event) -> list[dict]:
        ks = self._keys.get(event.key)
        if ks is None:
            ks = self._keys[event.key] = _KeyState(self._initial, self._n_sources)
        ks.last_ts[event.source] = event.ts
        ctx = _Context(event.key, event.ts, event.record, self.models)
        outputs, states = ks.outputs, ks.states
        fired: list[tuple[int, dict]] = []
        for st in self._per_source[event.source]:
            ins = []
            for i, check_age in st.inputs:
                value = outputs[i]
                if check_age and value is not None and self._stale(i, ks, event.ts):
                    value = None
                ins.append(value)
            state = states[st.index]
            if state is None and st.kind.stateful:
                state = states[st.index] = st.kind.new_state(st.node)
            value = st.step(ins, state, ctx)
            outputs[st.index] = value
            if self.observe is not None:
                self.observe(st.index, event.key, event.ts, value)
            if st.action and value is not None:
                fired.append((st.index, value))
        fired.sort(key=lambda pair: pair[0])  # actions of one event in nodes order
        return [record for _, record in fired]

    def _stale(self, node_index: int, ks: _KeyState, now: float) -> bool:
        for source, max_age_ms in self._aging[node_index]:
            last = ks.last_ts[source]
            if last is not None and now - last > max_age_ms:
                return True
        return False
