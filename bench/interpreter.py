"""The reference interpreter's speed on the warehouse blueprint, replaying a JSONL trace.

.venv/bin/python bench/interpreter.py [--keys 200] [--events 100000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

from common import WAREHOUSE, machine, pin_to_one_core, timed, warehouse_trace
from compiled import replay

from edge_compiler.models import OnnxModels
from rules_engine.interpreter import Interpreter
from rules_engine.validation import build_plan


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--keys", type=int, default=200)
    ap.add_argument("--events", type=int, default=100_000)
    args = ap.parse_args()
    pin_to_one_core()
    graph = json.loads((WAREHOUSE / "graph.json").read_text())
    models = OnnxModels(str(WAREHOUSE))
    plan = build_plan(graph, {}, models=models, base_dir=str(WAREHOUSE))
    with tempfile.TemporaryDirectory() as tmp:
        trace = warehouse_trace(Path(tmp) / "trace.jsonl", args.keys, args.events)
        engine = Interpreter(plan, models)
        (events, records), seconds = timed(replay, engine, trace)
    print(f"machine: {machine()}")
    print(f"warehouse blueprint: {len(graph['nodes'])} nodes, {args.keys} keys, {events} events, {records} records")
    print(f"reference interpreter (JSONL → records): {events / seconds:,.0f} events/s ({seconds:.2f} s)")
    print(f"keys held: {engine.key_count}")


if __name__ == "__main__":
    main()
