"""Building a bundle from a graph: validate, compile, gather models and schemas, sign."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from rules_engine.plan import Plan
from rules_engine.validation import build_plan

from .bundle import canonical_json, pack, sha256
from .compiler import COMPILER_VERSION, IR_VERSION, OPSET, compile_plan
from .models import OnnxModels

__all__ = ["BuiltBundle", "build_bundle"]


@dataclass
class BuiltBundle:
    data: bytes
    bundle_id: str
    manifest_summary: dict


def _plan_document(plan: Plan, model_files: dict[str, str]) -> dict:
    """The resolved graph, its model refs pointing into the bundle."""
    doc = plan.to_json()
    for node in doc["nodes"]:
        if node["type"] == "model.onnx":
            node["params"] = {**node["params"], "model": model_files[node["params"]["model"]]}
    return doc


def build_bundle(
    doc: object,
    params: object,
    key: Ed25519PrivateKey,
    *,
    base_dir: str | None = None,
    models: OnnxModels | None = None,
    blueprint: dict | None = None,
    progress: Callable[[str, float], None] | None = None,
) -> BuiltBundle:
    """Raises GraphInvalid (every problem) or CompileError; else the signed bundle's bytes.
    ``progress(step, fraction)`` hears of each step: validate, compile, package."""
    report = progress or (lambda step, fraction: None)
    models = models or OnnxModels(base_dir)
    report("validate", 0.05)
    plan = build_plan(doc, params, models=models, base_dir=base_dir)
    report("compile", 0.3)
    logic = compile_plan(plan, models)
    report("package", 0.7)
    files: dict[str, bytes] = {"logic.onnx": logic.to_bytes()}
    model_files: dict[str, str] = {}
    for node in plan.nodes:
        if node.type == "model.onnx":
            data = models.load(node.params["model"]).data
            name = f"models/{sha256(data)}.onnx"
            files[name] = data
            model_files[node.params["model"]] = name
    files["plan.json"] = canonical_json(_plan_document(plan, model_files))
    sources = []
    for s in plan.sources:
        files[f"schemas/{s.id}.json"] = canonical_json(s.params["schema"])
        sources.append(
            {
                "id": s.id,
                "topic": s.params["topic"],
                "key": s.params["key"],
                "ts_field": s.params.get("ts_field"),
                "max_age_s": s.params.get("max_age_s"),
                "schema": f"schemas/{s.id}.json",
            }
        )
    actions = []
    for a in plan.actions:
        entry = {"id": a.id, "kind": "alert" if a.type == "action.alert" else "command"}
        if a.type == "action.alert":
            entry.update(name=a.params["name"], severity=a.params["severity"])
        else:
            entry.update(topic=a.params["topic"])
        actions.append(entry)
    manifest = {
        "blueprint": copy.deepcopy(blueprint) if blueprint else {"slug": None, "version": None},
        "name": plan.name,
        "params": plan.params,
        "compiler": COMPILER_VERSION,
        "opset": OPSET,
        "ir_version": IR_VERSION,
        "sources": sources,
        "actions": actions,
        # Bundles with the same state layout can take over each other's per-key state.
        "state_layout": sha256(canonical_json(logic.layout["states"])),
    }
    data, bundle_id = pack(files, manifest, key)
    summary = {
        "bundle_id": bundle_id,
        "bytes": len(data),
        "files": sorted(files),
        "sources": len(sources),
        "actions": len(actions),
    }
    return BuiltBundle(data, bundle_id, summary)
