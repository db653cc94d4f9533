"""One evaluation of the compiled engine, by batch size: what it costs and where it goes.

    .venv/bin/python bench/evaluation.py [--sizes 1,8,40] [--repeat 5]

The warehouse near-miss rule of the edge benchmark (tests/edge/warehouse_rule.graph.json) as a
signed bundle, events as the agent decodes them from the load driver's payloads (50 forklifts,
round robin). For each batch size it prints the whole evaluation (``Evaluator.run``: feeds,
onnxruntime, state, records) and its parts: the feeds, onnxruntime's run alone (through the public
``InferenceSession.run``, which checks the feeds first: ~8 µs the engine itself skips), the records;
microseconds per evaluation and per event, best of ``--repeat`` rounds. Hot figures, in one
process: under the edge benchmark the agent pays about twice as much (docs/performance.md).
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable

from common import ROOT, machine
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_agent.engine import Evaluator
from edge_compiler.build import build_bundle
from edge_compiler.bundle import read_bundle

GRAPH = ROOT / "tests" / "edge" / "warehouse_rule.graph.json"


def best_us(fn: Callable[[], object], rounds: int, calls: int = 2000) -> float:
    for _ in range(200):
        fn()
    best = float("inf")
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - t0) / calls * 1e6)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1,8,40", help="batch sizes (events of distinct keys)")
    ap.add_argument("--repeat", type=int, default=5, help="rounds; the best is kept")
    args = ap.parse_args()
    data = build_bundle(json.loads(GRAPH.read_text()), {}, Ed25519PrivateKey.generate()).data
    evaluator = Evaluator(read_bundle(data), data)
    rng = random.Random(42)
    events = []
    for i in range(50):
        payload = {
            "ts": time.time() * 1000.0,
            "speed_kmh": round(rng.uniform(0, 15), 2),
            "proximity_m": round(rng.uniform(0, 5), 2),
            "zone": rng.choice(["aisle", "dock", "yard"]),
            "seq": i,
        }
        topic = f"site/s{i % 5}/forklift/f{i}/telemetry"
        events += evaluator.decoder.decode_bytes(topic, json.dumps(payload).encode(), 0.0)
    print(machine())
    print("size | evaluation µs | per event µs | feeds µs | onnxruntime µs | records µs | records made")
    for size in (int(s) for s in args.sizes.split(",")):
        print(measure(evaluator, events[:size], args.repeat))


def measure(evaluator: Evaluator, batch: list, rounds: int) -> str:
    runner = evaluator.compiled.runner  # type: ignore[union-attr]
    _, feeds = runner.prepare(batch)
    outputs = {
        **feeds,
        **dict(
            zip(runner.output_names, runner.session.run(runner.output_names, runner.model_feeds(feeds)), strict=True)
        ),
    }
    whole = best_us(lambda: evaluator.run(batch), rounds)
    prepare = best_us(lambda: runner.prepare(batch), rounds)
    feeds = runner.model_feeds(feeds)
    onnx = best_us(lambda: runner.session.run(runner.output_names, feeds), rounds)
    records = best_us(lambda: runner._records(batch, outputs), rounds)
    made = len(runner._records(batch, outputs))
    n = len(batch)
    return f"{n} | {whole:.0f} | {whole / n:.1f} | {prepare:.0f} | {onnx:.0f} | {records:.0f} | {made}"


if __name__ == "__main__":
    main()
