"""Graph → ONNX: the whole rule graph as one model over a batch of events of distinct keys.

Inputs: ``src`` (which source each event came from), ``ts`` (event time, ms), one value/mask
pair per ``field`` node, and every per-key state tensor. Outputs: every state tensor after the
batch, and per action its fire mask and the values of its inputs. The host gathers state rows
by key before the call and scatters them back after (see ``runtime.py``).

Each rule node is lowered by its own node type (``NodeKind.lower``); this module only wires
them: which rows evaluate a node (those whose source is upstream of it), the last outputs that
other branches read, and ``max_age_s`` staleness.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import onnx
from onnx import compose, helper, version_converter

from rules_engine.plan import Plan, PlanNode
from rules_engine.types import PortType

from .lower import Lowering, Val
from .models import OnnxModels

__all__ = ["COMPILER_VERSION", "IR_VERSION", "OPSET", "CompileError", "CompiledLogic", "compile_plan"]

COMPILER_VERSION = "aiot-compiler/1"
OPSET = 21
ML_OPSET = 3
IR_VERSION = 10


class CompileError(ValueError):
    """A plan the compiler cannot lower; the message names the node."""


@dataclass
class CompiledLogic:
    model: onnx.ModelProto
    layout: dict  # what the runtime needs to feed and read the model (also in its metadata)

    def to_bytes(self) -> bytes:
        return self.model.SerializeToString(deterministic=True)


class _Compiler(Lowering):
    def __init__(self, plan: Plan, models: OnnxModels | None):
        super().__init__()
        self.plan = plan
        self.models = models
        self.categories: dict[str, int] = {}
        self.fields: list[dict] = []
        self.actions: list[dict] = []
        self.opsets: dict[str, int] = {"": OPSET}
        self._field_node_source: dict[str, int] = {}

    # --- services node types call ---------------------------------------------------------------
    def category_id(self, text: str) -> str:
        """Categories travel as float64 ids into one table shared by the whole graph."""
        if text not in self.categories:
            self.categories[text] = len(self.categories)
        return self.const(float(self.categories[text]))

    def field(self, node: PlanNode) -> Val:
        out = node.out_type
        assert out is not None
        for value in out.enum or ():
            self.category_id(value)
        self.fields.append(
            {
                "node": node.id,
                "source": self._field_node_source[node.id],
                "path": node.params["path"].split("."),
                "kind": out.kind,
                "v": f"field/{node.id}/v",
                "m": f"field/{node.id}/m",
            }
        )
        v = self.input(f"field/{node.id}/v", "double")
        m = self.input(f"field/{node.id}/m", "bool")
        if out.kind == "bool":
            v = self.op("Cast", v, to=onnx.TensorProto.BOOL)
        return v, m

    def merge_model(self, node: PlanNode, row: str) -> str:
        """Splice the node's ONNX model into the graph; ``row`` is [B, N] float64. → its output."""
        if self.models is None:
            raise CompileError(f"{node.id}: model.onnx needs the model files")
        loaded = self.models.load(node.params["model"])
        model = onnx.load_model_from_string(loaded.data)
        default = next((o.version for o in model.opset_import if o.domain in ("", "ai.onnx")), OPSET)
        if default != OPSET:
            model = version_converter.convert_version(model, OPSET)
        for o in model.opset_import:
            if o.domain not in ("", "ai.onnx"):
                if o.domain in self.opsets and self.opsets[o.domain] != o.version:
                    raise CompileError(
                        f"{node.id}: models use {o.domain} opsets {o.version} and {self.opsets[o.domain]}"
                    )
                self.opsets[o.domain] = o.version
        prefix = f"{node.id}/model/"
        model = compose.add_prefix(model, prefix)
        graph = model.graph
        init_names = {i.name for i in graph.initializer}
        (model_input,) = [i for i in graph.input if i.name not in init_names]
        elem = model_input.type.tensor_type.elem_type
        self.op("Cast", row, to=elem, out=model_input.name)
        self.nodes.extend(graph.node)
        self.initializers.extend(graph.initializer)
        output = node.params.get("output") or loaded.info.outputs[0]
        return prefix + output

    def action(self, node: PlanNode, fire: str, values: dict[str, Val]) -> None:
        # The layout names the tensors to read after a run: outputs, or inputs (a field's value
        # passed through unchanged is read from the feeds, at no cost to the model).
        spec = {"node": node.id, "fire": self.expose(self.and_(self.active, fire), "bool"), "values": []}
        for port, (v, m) in values.items():
            kind = node.in_types[port].kind
            dtype = "bool" if kind == "bool" else "double"
            spec["values"].append({"port": port, "kind": kind, "v": self.expose(v, dtype), "m": self.expose(m, "bool")})
        self.actions.append(spec)

    # --- wiring ---------------------------------------------------------------------------------
    def compile(self) -> CompiledLogic:
        plan = self.plan
        src = self.input("src", "int64")
        source_index = {s.id: i for i, s in enumerate(plan.sources)}
        is_source = {}
        for s in plan.sources:
            self.scope = s.id
            if len(plan.sources) == 1:  # every event is of it: no test, no row left out
                is_source[s.id] = self.batch(self.true())
            else:
                is_source[s.id] = self.op("Equal", src, self.const(source_index[s.id], "int64"))
        for n in plan.nodes:
            if n.type == "field":
                self._field_node_source[n.id] = source_index[n.inputs["in"]]

        active_cache: dict[frozenset, str] = {}

        def active_of(nid: str) -> str:
            ups = plan.upstream_sources[nid]
            if not ups:  # a const: its value holds on every row
                return self.batch(self.true())
            if ups not in active_cache:
                self.scope = nid
                active_cache[ups] = self.or_(*[is_source[s] for s in sorted(ups, key=source_index.get)])
            return active_cache[ups]

        # A node's last output is kept per key when some consumer is evaluated without it.
        consumers: dict[str, list[str]] = {n.id: [] for n in plan.nodes}
        for n in plan.nodes:
            for s in n.inputs.values():
                consumers[s].append(n.id)
        stored = {
            nid
            for nid, cs in consumers.items()
            if plan.upstream_sources[nid]
            and not plan.by_id[nid].is_source
            and any(plan.upstream_sources[c] != plan.upstream_sources[nid] for c in cs)
        }
        # Sources whose age matters: a stored output depends on them and they have max_age_s.
        aging = {
            s.id: float(s.params["max_age_s"]) * 1000.0
            for s in plan.sources
            if s.params.get("max_age_s") and any(s.id in plan.upstream_sources[n] for n in stored)
        }
        last_ts = {}
        for sid in aging:
            self.scope, self.active = sid, is_source[sid]
            self.state("last_ts", "double", float("nan"))
            self.set_state("last_ts", self.ts)
            last_ts[sid] = self.state_updates[f"{sid}.last_ts"]

        reads: dict[str, Val] = {}  # what consumers see of each node
        for nid in plan.order:
            node = plan.by_id[nid]
            if node.is_source:
                reads[nid] = ("", "")
                continue
            self.scope, self.active = nid, active_of(nid)
            ins = [reads[node.inputs[p]] for p in node.fed_ports()]
            out = node.kind.lower(node, self, ins)
            if node.is_action:
                continue
            if nid not in stored:
                reads[nid] = out
                continue
            dtype = "bool" if node.out_type == PortType("bool") else "double"
            prev_v = self.state("out_v", dtype, False if dtype == "bool" else 0.0)
            prev_m = self.state("out_m", "bool", False)
            self.set_state("out_v", out[0])
            self.set_state("out_m", out[1])
            stale = [
                self.op("Greater", self.op("Sub", self.ts, last_ts[s]), self.const(aging[s]))
                for s in sorted(plan.upstream_sources[nid], key=source_index.get)
                if s in aging
            ]
            kept_m = self.and_(prev_m, self.not_(self.or_(*stale))) if stale else prev_m
            reads[nid] = (self.where(self.active, out[0], prev_v), self.where(self.active, out[1], kept_m))

        for spec in self.states:
            dtype = {"double": "double", "bool": "bool", "int64": "int64"}[spec.dtype]
            self.scope = spec.name.split(".")[0]
            self.output(f"state_out/{spec.name}", self.state_updates[spec.name], dtype, spec.width)

        layout = {
            "format": "aiot.logic-layout/v1",
            "sources": [s.id for s in plan.sources],
            "fields": self.fields,
            "categories": sorted(self.categories, key=self.categories.get),
            "states": [s.to_json() for s in self.states],
            "actions": sorted(self.actions, key=lambda a: plan.by_id[a["node"]].index),
        }
        self.prune()
        graph = helper.make_graph(self.nodes, "aiot_logic", self.inputs, self.outputs, self.initializers)
        opsets = [helper.make_opsetid(d, v) for d, v in sorted(self.opsets.items())]
        model = helper.make_model(
            graph,
            opset_imports=opsets,
            producer_name="aiot-studio",
            producer_version=COMPILER_VERSION,
            doc_string=f"rule graph: {plan.name}",
        )
        model.ir_version = IR_VERSION
        helper.set_model_props(model, {"aiot.layout": json.dumps(layout, sort_keys=True, separators=(",", ":"))})
        return CompiledLogic(model, layout)


def compile_plan(plan: Plan, models: OnnxModels | None = None, *, check: bool = True) -> CompiledLogic:
    """Lower a valid plan to one ONNX model; ``onnx.checker`` runs with full checking."""
    logic = _Compiler(plan, models).compile()
    if check:
        try:
            onnx.checker.check_model(logic.model, full_check=True)
        except onnx.checker.ValidationError as exc:
            raise CompileError(f"the compiled graph does not pass onnx.checker: {str(exc).splitlines()[0]}") from None
    return logic
