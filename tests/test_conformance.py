"""Every engine passes every conformance case and every built-in blueprint scenario."""

from __future__ import annotations

import json

import pytest

from tests.engine_cases import conformance_cases, diff_records, run_case, scenario_cases

ENGINES = ["reference", "onnx", "bundle"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("path", conformance_cases(), ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_conformance_case(engine, path):
    case = json.loads(path.read_text())
    records, summary = run_case(engine, case["graph"], case, path.parent)
    problem = diff_records(records, case["expected"])
    assert problem is None, f"{path.name}: {case.get('description', '')}\n{problem}"
    if "expected_summary" in case:
        assert summary == case["expected_summary"]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "graph_path,path",
    scenario_cases(),
    ids=lambda p: f"{p.parent.parent.name}/{p.stem}" if p.name != "graph.json" else "",
)
def test_blueprint_scenario(engine, graph_path, path):
    case = json.loads(path.read_text())
    graph = json.loads(graph_path.read_text())
    records, summary = run_case(engine, graph, case, graph_path.parent)
    problem = diff_records(records, case["expected"])
    assert problem is None, f"{path.name}: {case.get('description', '')}\n{problem}"
    if "expected_summary" in case:
        assert summary == case["expected_summary"]
