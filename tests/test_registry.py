"""The node-type registry: complete, exportable, and every type covered by conformance cases."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from jsonschema import Draft202012Validator

from rules_engine import export_registry, kinds
from rules_engine.registry import NodeKind
from tests.engine_cases import conformance_cases

SPEC_TYPES = {
    "source.telemetry",
    "field",
    "const",
    "math.add",
    "math.sub",
    "math.mul",
    "math.div",
    "math.abs",
    "math.neg",
    "math.scale",
    "math.clamp",
    "compare",
    "in_set",
    "logic.and",
    "logic.or",
    "logic.not",
    "logic.select",
    "window.agg",
    "ewma",
    "delta",
    "hysteresis",
    "debounce",
    "model.onnx",
    "action.alert",
    "action.publish",
}


def test_every_node_type_of_the_spec_is_registered():
    assert set(kinds()) == SPEC_TYPES


def test_every_node_type_has_docs_a_valid_params_schema_a_step_and_a_lowering():
    for name, kind in kinds().items():
        assert kind.doc.strip(), name
        Draft202012Validator.check_schema(kind.params_schema)
        assert type(kind).make_step is not NodeKind.make_step, name
        if name != "source.telemetry":  # sources become the compiled graph's inputs
            assert type(kind).lower is not NodeKind.lower, name


def test_the_export_is_json_and_names_ports_types_and_groups():
    export = json.loads(json.dumps(export_registry()))
    assert export["format"] == "aiot.node-types/v1"
    by_type = {t["type"]: t for t in export["node_types"]}
    assert [p["name"] for p in by_type["compare"]["inputs"]] == ["a", "b"]
    assert by_type["logic.and"]["variadic"] == {"prefix": "in", "type": {"kind": "bool"}, "min": 2}
    assert by_type["action.alert"]["open_ports"]["type"] == {"kind": "any"}
    assert by_type["field"]["inputs"][0]["type"] == {"kind": "record"}
    groups = {g["id"] for g in export["groups"]}
    assert all(t["group"] in groups for t in export["node_types"])


def test_every_node_type_has_at_least_three_conformance_cases():
    used = Counter()
    for path in conformance_cases():
        graph = json.loads(path.read_text())["graph"]
        for t in {n["type"] for n in graph["nodes"]}:
            used[t] += 1
    thin = {t: used[t] for t in SPEC_TYPES if used[t] < 3}
    assert not thin, f"node types with fewer than 3 conformance cases: {thin}"


FRONTEND_FIXTURE = Path(__file__).resolve().parent.parent / "frontend" / "src" / "__fixtures__" / "node-types.json"
REGENERATE = (
    '.venv/bin/python -c "import json; from rules_engine import export_registry; '
    'print(json.dumps(export_registry(), indent=1))" > frontend/src/__fixtures__/node-types.json'
)


def _first_difference(a, b, where: str = "") -> str:
    """Where two JSON values first differ, as a path and the two values."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{where}/{k}: {'missing from the fixture' if k not in a else 'not in the export'}"
            if a[k] != b[k]:
                return _first_difference(a[k], b[k], f"{where}/{k}")
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _first_difference(x, y, f"{where}/{i}")
        if len(a) != len(b):
            return f"{where}: {len(a)} items in the fixture, {len(b)} in the export"
    return f"{where or '/'}: the fixture has {json.dumps(a)[:200]}, the export {json.dumps(b)[:200]}"


def test_the_frontend_fixture_is_the_registry_export():
    """The studio's component tests run against frontend/src/__fixtures__/node-types.json: it must be
    what the API serves (GET /api/v1/node-types), or they test a registry that does not exist."""
    fixture = json.loads(FRONTEND_FIXTURE.read_text(encoding="utf-8"))
    export = json.loads(json.dumps(export_registry()))
    assert fixture == export, (
        f"{FRONTEND_FIXTURE.relative_to(FRONTEND_FIXTURE.parents[3])} differs from "
        f"rules_engine.export_registry() (first at {_first_difference(fixture, export)}). "
        f"Regenerate it from the repository root with:\n  {REGENERATE}\n"
        "then run the frontend tests (cd frontend && npm test)."
    )
