"""Loading conformance cases and blueprint scenarios, and comparing engines' outputs to them.

A case is a JSON object: ``graph`` (inline, for conformance cases), ``params``, ``trace`` (trace
lines), ``expected`` (action records) and optionally ``expected_summary``. Payload strings
``"__NaN__"``, ``"__Infinity__"`` and ``"__-Infinity__"`` stand for those floats.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_compiler.build import build_bundle
from edge_compiler.bundle import read_bundle
from edge_compiler.models import OnnxModels
from edge_compiler.runtime import LogicEngine
from rules_engine.cases import case_messages, diff_records, same_value  # noqa: F401  (re-exported for tests)
from rules_engine.engines import load_engine, run_messages, run_trace
from rules_engine.validation import build_plan

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "tests" / "conformance"
BUILTIN = ROOT / "blueprints" / "builtin"
TEST_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: bundles are reproducible in tests


def conformance_cases() -> list[Path]:
    return sorted((CONFORMANCE / "cases").glob("*/*.json"))


def scenario_cases() -> list[tuple[Path, Path]]:
    """(graph file, scenario file) of every built-in blueprint scenario."""
    out = []
    for meta in sorted(BUILTIN.glob("*/blueprint.json")):
        spec = json.loads(meta.read_text())
        for rel in spec.get("scenarios", []):
            out.append((meta.parent / "graph.json", meta.parent / rel))
    return out


def run_case(engine_name: str, graph: dict, case: dict, base_dir: Path) -> tuple[list[dict], dict]:
    """Run a case through an engine: ``reference``, ``onnx`` (compiled in memory) or ``bundle``
    (built into a signed bundle, read back and verified, and run as ``aiot edge replay`` runs a
    trace file: read as columns where its lines allow, records written as text)."""
    models = OnnxModels(str(base_dir))
    params = case.get("params") or {}
    messages = case_messages(case["trace"])
    if engine_name == "bundle":
        built = build_bundle(graph, params, TEST_KEY, base_dir=str(base_dir), models=models)
        bundle = read_bundle(built.data, [TEST_KEY.public_key()])
        engine = LogicEngine(bundle.plan(), bundle.logic)
        lines = [
            json.dumps({"topic": m.topic, "payload": m.payload, "arrival_ms": m.arrival_ms}, ensure_ascii=False)
            for m in messages
        ]
        texts = run_trace(engine, io.BytesIO("".join(line + "\n" for line in lines).encode()), "case", texts="all")
        return [json.loads(t) if isinstance(t, str) else t for t in texts], engine.stats.to_json()
    plan = build_plan(graph, params, models=models, base_dir=str(base_dir))
    engine = load_engine(engine_name, plan, models)
    return list(run_messages(engine, messages)), engine.stats.to_json()
