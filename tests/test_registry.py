"""The node-type registry: complete, exportable, and every type covered by conformance cases."""

from __future__ import annotations

import json
from collections import Counter

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
