"""Compiled (ONNX) engine vs the reference interpreter, on the warehouse blueprint.

    .venv/bin/python bench/compiled.py [--keys 1000] [--events 200000] [--reference-events 20000]
        [--blueprint warehouse|cold-chain]

Prints: compiled replay from a JSONL trace (events/s), the reference interpreter on the same
trace (events/s), their ratio; the compiled core alone on pre-parsed batches (events/s): from
the column batches a replay reads to the fired actions, and to the records as text, and from
decoded events (as the edge agent has them) to the records; and the build time of a generated
200-node graph into a signed bundle.
"""

from __future__ import annotations

import argparse
import gc
import io
import json
import tempfile
from itertools import pairwise
from pathlib import Path

import numpy as np
from common import COLD_CHAIN, WAREHOUSE, cold_chain_trace, machine, pin_to_one_core, timed, warehouse_trace
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_compiler.build import build_bundle
from edge_compiler.compiler import compile_plan
from edge_compiler.models import OnnxModels
from edge_compiler.runtime import LogicEngine
from rules_engine.cli import settle_for_a_replay
from rules_engine.engines import run_trace
from rules_engine.interpreter import Interpreter
from rules_engine.trace import read_trace, write_records
from rules_engine.trace_columns import Columns, read_columns
from rules_engine.validation import build_plan

PREPARED = 256 << 20  # bytes of prepared feeds the "onnx session alone" figure holds

BLUEPRINTS = {"warehouse": (WAREHOUSE, warehouse_trace), "cold-chain": (COLD_CHAIN, cold_chain_trace)}


def replay(engine, trace: Path, limit: int | None = None) -> tuple[int, int]:
    """Replay a JSONL trace as `aiot graph run` does (records written); → (events, records)."""
    out = io.StringIO()
    with trace.open("rb") as f:
        source = f if limit is None else io.BytesIO(b"".join(line for _, line in zip(range(limit), f, strict=False)))
        n = write_records(run_trace(engine, source, str(trace), texts="all"), out)
    return engine.stats.events, n


def generated_graph(n_nodes: int) -> dict:
    """A graph of exactly ``n_nodes`` (at least 6): one source, chains of field → math → window →
    compare → alert, the first chain with as many more math steps as make up the count."""
    props = {f"x{i}": {"type": "number"} for i in range(20)}
    nodes = [
        {
            "id": "src",
            "type": "source.telemetry",
            "params": {"topic": "plant/+/sensor", "key": "topic:1", "schema": {"type": "object", "properties": props}},
        }
    ]
    edges = []
    chains, extra = divmod(n_nodes - 1, 5)
    for i in range(chains):
        f, s, w, c, a = (f"f{i}", f"s{i}", f"w{i}", f"c{i}", f"a{i}")
        steps = [s] + [f"{s}_{k}" for k in range(1, extra + 1)] if i == 0 else [s]
        nodes.append({"id": f, "type": "field", "params": {"path": f"x{i % 20}"}})
        nodes += [{"id": step, "type": "math.scale", "params": {"k": 1.5, "offset": i}} for step in steps]
        nodes += [
            {"id": w, "type": "window.agg", "params": {"agg": "mean", "size": 8}},
            {"id": c, "type": "compare", "params": {"op": "gt", "value": 10 + i}},
            {"id": a, "type": "action.alert", "params": {"name": f"alarm_{i}", "cooldown_s": 5}},
        ]
        path = [f, *steps, w]
        edges += [{"from": "src", "to": f}]
        edges += [{"from": a_, "to": f"{b_}.in"} for a_, b_ in pairwise(path)]
        edges += [{"from": w, "to": f"{c}.a"}, {"from": c, "to": f"{a}.trigger"}]
    assert len(nodes) == n_nodes, (len(nodes), n_nodes)
    return {"format": "aiot.graph/v1", "name": "generated", "nodes": nodes, "edges": edges}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=int, default=1000)
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument(
        "--reference-events",
        type=int,
        default=20_000,
        help="the reference is slow: it replays this prefix of the trace",
    )
    ap.add_argument(
        "--blueprint",
        choices=sorted(BLUEPRINTS),
        default="warehouse",
        help="cold-chain: sources keyed by the payload, a duration window",
    )
    args = ap.parse_args()
    pin_to_one_core()
    directory, make_trace = BLUEPRINTS[args.blueprint]
    graph = json.loads((directory / "graph.json").read_text())
    models = OnnxModels(str(directory))
    plan = build_plan(graph, {}, models=models, base_dir=str(directory))
    logic = compile_plan(plan, models).to_bytes()

    with tempfile.TemporaryDirectory() as tmp:
        trace = make_trace(Path(tmp) / "trace.jsonl", args.keys, args.events)
        settle_for_a_replay()  # as `aiot graph run` and `aiot edge replay` do once their engine is made
        (events_c, records_c), t_c = timed(replay, LogicEngine(plan, logic), trace)
        (events_r, _), t_r = timed(replay, Interpreter(plan, models), trace, args.reference_events)
        # The core alone. Its batches, pre-parsed: the columns a replay reads (the events of one
        # run of lines of one shape), and the decoded events the edge agent evaluates, in waves
        # of distinct keys. They live through the measurement, as start-up objects do (a
        # streaming replay never holds them): out of the collector's sight, which would otherwise
        # walk all of them at each full collection and take a third of the time.
        engine = LogicEngine(plan, logic)
        with trace.open("rb") as f:
            columns = [c for c in read_columns(engine.decoder, f) if isinstance(c, Columns)]
        with trace.open() as f:
            events = [e for m in read_trace(f) for e in engine.decoder.decode(m.topic, m.payload, m.arrival_ms)]
        gc.collect()
        gc.freeze()
        runner = engine.runner
        fires = [a["fire"] for a in runner.layout["actions"]]
        n_columns = sum(len(c) for c in columns)
        fired, t_fire = timed(
            lambda: sum(
                int(np.count_nonzero(t[name])) for c in columns for _, t in runner.evaluate_columns(c) for name in fires
            )
        )
        runner.reset_state()
        texts, t_texts = timed(lambda: sum(len(runner.run_columns(c, texts="all")) for c in columns))
        runner.reset_state()
        batch = args.keys
        waves = [events[i : i + batch] for i in range(0, len(events), batch)]
        _, t_core = timed(lambda: [runner.run_wave(w, texts="all") for w in waves])
        # At most PREPARED bytes of feeds, run in turn as many times as make up every wave: wide
        # states (a duration window's 256 slots a key) would otherwise hold gigabytes.
        first = runner.model_feeds(runner.prepare(waves[0])[1])
        held = max(1, min(len(waves), PREPARED // sum(a.nbytes for a in first.values())))
        feeds = [first] + [runner.model_feeds(runner.prepare(w)[1]) for w in waves[1:held]]
        order = [feeds[i % held] for i in range(len(waves))]
        _, t_onnx = timed(lambda: [runner.session.run(runner.output_names, f) for f in order])

    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    gen = generated_graph(200)
    _, t_build = timed(build_bundle, gen, {}, key)

    replay_c = events_c / t_c
    replay_r = events_r / t_r
    print(f"machine: {machine()}")
    print(
        f"{args.blueprint} blueprint: {len(graph['nodes'])} nodes, {args.keys} keys, {args.events} events "
        f"({records_c} action records)"
    )
    print(f"compiled replay (JSONL → records): {replay_c:,.0f} events/s")
    print(f"reference replay (JSONL → records, first {events_r} events): {replay_r:,.0f} events/s")
    print(f"compiled / reference: {replay_c / replay_r:.1f}x")
    print(f"compiled core (column batches → fired actions, {fired} of them): {n_columns / t_fire:,.0f} events/s")
    print(f"compiled core (column batches → records as text, {texts} of them): {n_columns / t_texts:,.0f} events/s")
    print(f"compiled core (decoded events → records as text, waves of {batch}): {len(events) / t_core:,.0f} events/s")
    print(f"onnx session alone (prepared feeds, batches of {batch}): {len(events) / t_onnx:,.0f} events/s")
    print(f"build of a {len(gen['nodes'])}-node graph into a signed bundle: {t_build:.2f} s")


if __name__ == "__main__":
    main()
