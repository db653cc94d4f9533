"""The built-in blueprints' ONNX models: opset ≤ 21 and IR 10 (what onnxruntime here loads), small
enough to commit, each used by its blueprint's graph.

That they are what ``blueprints/builtin/training/train.py`` makes is checked by its ``--check``;
not here, because the bytes depend on the scikit-learn version installed."""

from __future__ import annotations

import json

import onnx
import pytest

from tests.engine_cases import BUILTIN

MODELS = sorted(BUILTIN.glob("*/models/*.onnx"))


def test_the_blueprints_with_models_are_those_the_spec_gives_models():
    assert {p.parent.parent.name for p in MODELS} == {"smart-warehouse-safety", "predictive-maintenance"}


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_model_is_ir_10_opset_at_most_21_and_small(path):
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert model.ir_version == 10
    assert {o.domain: o.version for o in model.opset_import}[""] <= 21
    assert path.stat().st_size < 256 * 1024


@pytest.mark.parametrize("path", MODELS, ids=lambda p: p.stem)
def test_every_model_is_used_by_its_graph(path):
    graph = json.loads((path.parent.parent / "graph.json").read_text())
    used = {n["params"]["model"] for n in graph["nodes"] if n["type"] == "model.onnx"}
    assert f"models/{path.name}" in used
