"""Differential tests: random valid graphs and hostile traces, compiled engine == reference.

SPEC §6: the compiled ``logic.onnx`` must agree with the reference interpreter — the same action
records (numbers to 1e-9 relative, strings exactly) and the same run summary. Hypothesis builds
graphs constructively, node type by node type, so that every graph is valid by construction (and
the generator is checked against ``validate``), then replays random traces through both engines.
The compiled engine runs each trace with several batch sizes, so that waves of distinct keys and
batch boundaries fall in different places.

Traces are hostile on purpose: repeated keys, values equal to the graph's thresholds, missing
fields, null, NaN and ±Infinity, 1e308 and integers beyond float range, bools and strings where
numbers are expected (the source schema rejects them: the run summaries must agree), non-object
payloads, keys of the wrong type, ``ts`` absent, non-numeric or out of order.

Numbers are compared to 1e-9 relative and strings (messages, topics) exactly, with no extra
tolerance: both engines add a window's values in the same order (oldest first), so even sums with
cancellation agree to the bit.

``AIOT_DIFF_SCALE`` multiplies the number of examples (e.g. 20 for a long local run).
"""

from __future__ import annotations

import io
import itertools
import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, note, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context

from edge_compiler.compiler import compile_plan
from edge_compiler.models import OnnxModels
from edge_compiler.runtime import LogicEngine
from rules_engine.engines import run_messages
from rules_engine.interpreter import Interpreter
from rules_engine.trace import Message
from rules_engine.trace_columns import CHUNK_BYTES
from rules_engine.validation import build_plan, validate
from rules_engine.values import dumps
from tests.engine_cases import diff_records

pytestmark = pytest.mark.filterwarnings("ignore:overflow encountered in cast:RuntimeWarning")  # 1e308 → float32

MODELS_DIR = Path(__file__).resolve().parent / "conformance" / "models"
MODELS = OnnxModels(str(MODELS_DIR))  # linear.onnx: two inputs, y = 2*x1 - x2 + 0.5
BATCHES = (1, 7, 4096)  # one event per call; waves cut by batch boundaries; one call per trace
SCALE = float(os.environ.get("AIOT_DIFF_SCALE", "1"))


def _examples(n: int) -> int:
    return max(1, int(n * SCALE))


SETTINGS = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
}

# --------------------------------------------------------------------------------------------
# Graphs


@dataclass
class FieldSpec:
    path: str
    kind: str  # number | bool | category
    enum: tuple[str, ...] | None = None


@dataclass
class SourceSpec:
    id: str
    topic: str
    key: str
    fields: list[FieldSpec]


@dataclass
class Out:
    """A node output the generator can wire into later nodes."""

    id: str
    kind: str  # number | bool | category
    enum: tuple[str, ...] | None = None
    const: bool = False
    sources: frozenset = frozenset()  # the sources upstream of it


@dataclass
class GraphCase:
    doc: dict
    sources: list[SourceSpec]
    thresholds: list[float] = field(default_factory=list)  # numbers worth hitting exactly

    def __repr__(self) -> str:  # what a failing example prints: the document, pasteable
        return json.dumps(self.doc, sort_keys=True)


# (topic filter, the keys it may take). Several filters overlap, so one message can make two events.
SOURCE_TOPICS = {
    "dev/+/tele": ("topic:1", "payload:id"),
    "dev/#": ("topic:1", "topic:2", "payload:id"),  # topic:2 is absent on dev/k: a key reject
    "dev/+/+": ("topic:1", "topic:2", "payload:id"),
    "fleet/+/status": ("topic:1", "payload:id"),
    "dev/k1/tele": ("topic:1", "payload:id"),
}
# Concrete topics a message may be sent to ({k}: a key); each filter's own come first.
MATCHING = {
    "dev/+/tele": ["dev/{k}/tele"],
    "dev/#": ["dev/{k}/tele", "dev/{k}", "dev/{k}/alt"],
    "dev/+/+": ["dev/{k}/tele", "dev/{k}/alt"],
    "fleet/+/status": ["fleet/{k}/status"],
    "dev/k1/tele": ["dev/k1/tele"],
}
OTHER_TOPICS = ["dev/{k}/tele/x", "misc/{k}", "dev", "fleet/{k}"]
# A field name has one kind in every source (its enum may differ), so overlapping sources mostly agree.
FIELD_KINDS = {
    "x": "number", "y": "number", "z": "number", "m.x": "number",
    "on": "bool", "door": "bool", "mode": "category", "zone": "category",
}  # fmt: skip
FIELD_NAMES = list(FIELD_KINDS)
ENUMS = [("lo", "mid", "hi"), ("aisle", "dock"), ("a",)]

PARAM_NUMBERS = st.one_of(
    st.sampled_from([0, 1, -1, 0.5, 2.5, 10, 100, -3, 0.1]),
    st.integers(-20, 20),
    st.floats(-1000, 1000, allow_nan=False, allow_infinity=False),
)


def _field_schema(f: FieldSpec, nullable: bool, integer: bool) -> dict:
    if f.kind == "category":
        return {"enum": list(f.enum or ())}
    t = "boolean" if f.kind == "bool" else ("integer" if integer else "number")
    return {"type": [t, "null"] if nullable else t}


@st.composite
def sources(draw) -> tuple[list[dict], list[SourceSpec]]:
    n = 2 if draw(st.integers(0, 4)) >= 2 else 1
    topics = draw(st.lists(st.sampled_from(sorted(SOURCE_TOPICS)), min_size=n, max_size=n))
    nodes, specs = [], []
    for i, topic in enumerate(topics):
        key = draw(st.sampled_from(SOURCE_TOPICS[topic]))
        names = draw(st.lists(st.sampled_from(FIELD_NAMES), min_size=1, max_size=4, unique=True))
        props: dict = {}
        required: list[str] = []
        fields = []
        for name in names:
            kind = FIELD_KINDS[name]
            f = FieldSpec(name, kind, draw(st.sampled_from(ENUMS)) if kind == "category" else None)
            fields.append(f)
            sub = _field_schema(f, draw(st.booleans()), kind == "number" and draw(st.integers(0, 9)) == 0)
            if name == "m.x":
                # No "type": object on m, so a non-object m passes the schema and x is missing.
                m = {"properties": {"x": sub}}
                if draw(st.booleans()):
                    m["type"] = "object"
                props["m"] = m
            else:
                props[name] = sub
                if draw(st.integers(0, 4)) == 0:
                    required.append(name)
        if draw(st.integers(0, 3)) == 0:
            props["ts"] = {"type": "number"}  # then a non-number ts is a schema reject
        schema: dict = {"type": "object", "properties": props}
        if required:
            schema["required"] = required
        params: dict = {"topic": topic, "key": key, "schema": schema}
        ts_field = draw(st.sampled_from(["default", "default", "default", "ts", None]))
        if ts_field != "default":
            params["ts_field"] = ts_field
        if draw(st.integers(0, 2)) == 0:
            params["max_age_s"] = draw(st.sampled_from([0.5, 1, 2, 30]))
        sid = f"src{i}"
        nodes.append({"id": sid, "type": "source.telemetry", "params": params})
        specs.append(SourceSpec(sid, topic, key, fields))
    return nodes, specs


OP_TYPES = [
    "math.add", "math.sub", "math.mul", "math.div", "math.abs", "math.neg", "math.scale", "math.clamp",
    "compare", "compare", "compare", "in_set", "logic.and", "logic.or", "logic.not", "logic.select",
    "window.agg", "window.agg", "ewma", "delta", "hysteresis", "debounce",
]  # fmt: skip


class _Builder:
    def __init__(self, draw):
        self.draw = draw
        self.nodes: list[dict] = []
        self.edges: list[dict] = []
        self.outs: list[Out] = []
        self.thresholds: list[float] = []
        self.params: dict = {}
        self.counter = 0

    def new_id(self, prefix: str = "n") -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def node(self, type_: str, params: dict, inputs: dict[str, str], kind: str | None, enum=None, prefix="n") -> str:
        nid = self.new_id(prefix)
        self.nodes.append({"id": nid, "type": type_, "params": params})
        for port, src in inputs.items():
            self.edges.append({"from": src, "to": f"{nid}.{port}"})
        if kind is not None:
            ups = frozenset().union(*(self.sources_of(src) for src in inputs.values()))
            self.outs.append(Out(nid, kind, enum, sources=ups))
        return nid

    def sources_of(self, nid: str) -> frozenset:
        if nid.startswith("src"):
            return frozenset([nid])
        return next(o.sources for o in self.outs if o.id == nid)

    def pick(self, kind: str, *, live: bool = True) -> Out | None:
        """An output of this kind; ``live``: not a const (a node needs one input that is not)."""
        pool = [o for o in self.outs if o.kind == kind and (o.const is False or not live)]
        if not pool:
            return None
        return self.draw(st.sampled_from(pool))

    def number_param(self, name: str | None = None):
        """A number param, recorded as a threshold; sometimes through a blueprint $param."""
        value = self.draw(PARAM_NUMBERS)
        self.thresholds.append(float(value))
        if name is not None and self.draw(st.integers(0, 4)) == 0:
            pname = f"p{len(self.params)}"
            self.params[pname] = {"type": "number", "default": value}
            return {"$param": pname}
        return value

    def second(self, kind: str, first: Out) -> Out:
        """A second operand: any output of the kind (a const too, since ``first`` is live);
        often one from other sources, so that nodes downstream of two sources are common."""
        other = [o for o in self.outs if o.kind == kind and not o.const and o.sources != first.sources]
        if other and self.draw(st.booleans()):
            return self.draw(st.sampled_from(other))
        return self.pick(kind, live=False) or first

    def op(self, type_: str) -> bool:
        """Add one node of this type if the pool allows; False when it does not."""
        d = self.draw
        if type_ in ("math.add", "math.sub", "math.mul", "math.div"):
            a = self.pick("number")
            if a is None:
                return False
            b = self.second("number", a)
            ins = {"a": a.id, "b": b.id} if d(st.booleans()) else {"a": b.id, "b": a.id}
            self.node(type_, {}, ins, "number")
        elif type_ in ("math.abs", "math.neg", "window.agg", "ewma", "delta", "hysteresis", "math.scale", "math.clamp"):
            x = self.pick("number")
            if x is None:
                return False
            params: dict = {}
            kind = "number"
            if type_ == "math.scale":
                if d(st.booleans()):
                    params["k"] = d(st.sampled_from([2, -1, 0.5, 1e-3, 1e300, 3.7, 1 + 1e-9, 1 - 1e-12]))
                if d(st.booleans()):
                    params["offset"] = d(st.one_of(st.sampled_from([1e-50, -2e-112]), PARAM_NUMBERS))
            elif type_ == "math.clamp":
                lo, hi = sorted([d(PARAM_NUMBERS), d(PARAM_NUMBERS)])
                self.thresholds += [float(lo), float(hi)]
                params = {"min": lo, "max": hi}
            elif type_ == "window.agg":
                params["agg"] = d(st.sampled_from(["mean", "min", "max", "sum", "count"]))
                if d(st.booleans()):
                    params["size"] = d(st.integers(1, 6))
                else:
                    params["duration_s"] = d(st.sampled_from([0.001, 0.1, 0.5, 1, 2.5, 10, 1e-12]))
                    if d(st.integers(0, 3)):
                        params["max_events"] = d(st.integers(1, 6))
            elif type_ == "ewma":
                params["alpha"] = d(st.sampled_from([1, 0.5, 0.1, 0.3, 1e-9, 1 - 1e-9]))
            elif type_ == "delta":
                per = d(st.sampled_from([None, "event", "second"]))
                if per:
                    params["per"] = per
            elif type_ == "hysteresis":
                a, b = self.number_param(), self.number_param()
                if d(st.integers(0, 5)):  # mostly on_above ≥ off_below; sometimes crossed
                    a, b = (a, b) if a >= b else (b, a)
                params = {"on_above": a, "off_below": b}
                kind = "bool"
            self.node(type_, params, {"in": x.id}, kind)
        elif type_ == "compare":
            kind = d(st.sampled_from(["number", "number", "number", "category", "bool"]))
            a = self.pick(kind)
            if a is None:
                return False
            if kind == "number":
                op = d(st.sampled_from(["lt", "le", "gt", "ge", "eq", "ne"]))
            else:
                op = d(st.sampled_from(["eq", "ne"]))
            params = {"op": op}
            ins = {"a": a.id}
            if d(st.booleans()):
                if kind == "number":
                    params["value"] = self.number_param("value")
                elif kind == "bool":
                    params["value"] = d(st.booleans())
                else:
                    params["value"] = d(st.sampled_from(a.enum))
            else:
                b = self.second(kind, a)
                ins = {"a": a.id, "b": b.id} if d(st.booleans()) else {"a": b.id, "b": a.id}
            self.node("compare", params, ins, "bool")
        elif type_ == "in_set":
            x = self.pick("category")
            if x is None:
                return False
            values = d(st.lists(st.sampled_from(x.enum), unique=True, max_size=len(x.enum)))
            self.node("in_set", {"values": values}, {"in": x.id}, "bool")
        elif type_ in ("logic.and", "logic.or"):
            first = self.pick("bool")
            if first is None:
                return False
            n = d(st.integers(2, 3))
            ins = [first] + [self.second("bool", first) for _ in range(n - 1)]
            ins = d(st.permutations(ins))
            self.node(type_, {}, {f"in{i + 1}": o.id for i, o in enumerate(ins)}, "bool")
        elif type_ == "logic.not":
            x = self.pick("bool")
            if x is None:
                return False
            self.node("logic.not", {}, {"in": x.id}, "bool")
        elif type_ == "logic.select":
            kind = d(st.sampled_from(["number", "bool", "category"]))
            live = self.pick(kind)
            if live is None:
                return False
            other = self.second(kind, live)
            then, other = (live, other) if d(st.booleans()) else (other, live)
            cond = self.pick("bool", live=False)
            if cond is None:
                return False
            enum = None
            if kind == "category":
                enum = tuple(dict.fromkeys((then.enum or ()) + (other.enum or ())))
            self.node("logic.select", {}, {"cond": cond.id, "then": then.id, "else": other.id}, kind, enum)
        elif type_ == "debounce":
            x = self.pick("bool")
            if x is None:
                return False
            self.node("debounce", {"count": d(st.integers(1, 4))}, {"in": x.id}, "bool")
        elif type_ == "model.onnx":
            a = self.pick("number")
            if a is None:
                return False
            b = self.second("number", a)
            ins = [a, b] if d(st.booleans()) else [b, a]
            params = {"model": "linear.onnx"}
            if d(st.booleans()):
                params["output"] = "y"
            self.node("model.onnx", params, {"in1": ins[0].id, "in2": ins[1].id}, "number")
        else:  # pragma: no cover
            raise AssertionError(type_)
        return True

    def join(self) -> None:
        """One node fed by outputs of two different sources, when there are such outputs."""
        live = [o for o in self.outs if not o.const]
        pairs = [(a, c) for a in live for c in live if a.kind == c.kind and a.sources != c.sources]
        if not pairs:
            return
        a, c = self.draw(st.sampled_from(pairs))
        if a.kind == "bool":
            type_ = self.draw(st.sampled_from(["logic.and", "logic.or", "compare"]))
            if type_ != "compare":
                self.node(type_, {}, {"in1": a.id, "in2": c.id}, "bool")
                return
        else:
            type_ = self.draw(st.sampled_from(["compare", "math.sub"] if a.kind == "number" else ["compare"]))
        if type_ == "math.sub":
            self.node("math.sub", {}, {"a": a.id, "b": c.id}, "number")
        else:
            op = self.draw(st.sampled_from(["lt", "ge", "eq", "ne"] if a.kind == "number" else ["eq", "ne"]))
            self.node("compare", {"op": op}, {"a": a.id, "b": c.id}, "bool")

    def action(self, i: int) -> None:
        d = self.draw
        trigger = self.pick("bool")
        assert trigger is not None
        values = {}
        pool = list(self.outs)
        for name in d(st.lists(st.sampled_from(["v", "w", "speed", "zone"]), unique=True, max_size=2)):
            values[name] = d(st.sampled_from(pool))
        port = next(iter(values), None)
        params: dict = {"mode": d(st.sampled_from(["rising", "level"]))}
        if d(st.booleans()):
            del params["mode"]  # default: rising
        cooldown = d(st.sampled_from([0, 0, 0.5, 1, 2.5, None]))
        if cooldown is not None:
            params["cooldown_s"] = cooldown
        placeholder = f"{{{port}}}" if port else "{ts}"
        if d(st.booleans()):
            type_ = "action.alert"
            params["name"] = d(st.sampled_from(["alarm", "hot {x}", "drift"]))  # braces are literal in a name
            sev = d(st.sampled_from([None, "info", "warning", "critical"]))
            if sev:
                params["severity"] = sev
            msg = d(st.sampled_from([None, "{key} at {ts}", "v={P}", "{{lit}} {P} on {key}", "plain"]))
            if msg is not None:
                params["message"] = msg.replace("{P}", placeholder)
        else:
            type_ = "action.publish"
            params["topic"] = d(st.sampled_from(["cmd/{key}", "cmd/{key}/P", "cmd/all"])).replace("P", placeholder)
            params["payload"] = d(
                st.sampled_from(
                    [
                        {"k": "{key}", "t": "{ts}", "v": "{P}", "s": "v is {P}!", "n": 1, "l": ["{key}", True, None]},
                        {"v": "{P}"},
                        "{P}",
                        "{key}: {P} {{x}}",
                        {},
                    ]
                )
            )
            params["payload"] = json.loads(json.dumps(params["payload"]).replace("{P}", placeholder))
        nid = f"act{i}"
        self.nodes.append({"id": nid, "type": type_, "params": params})
        self.edges.append({"from": trigger.id, "to": f"{nid}.trigger"})
        for name, src in values.items():
            self.edges.append({"from": src.id, "to": f"{nid}.{name}"})


@st.composite
def graphs(draw, models: bool = True) -> GraphCase:
    b = _Builder(draw)
    src_nodes, specs = draw(sources())
    b.nodes += src_nodes
    for spec in specs:  # every source feeds 1-3 field nodes
        for f in draw(st.lists(st.sampled_from(spec.fields), min_size=1, max_size=3, unique_by=lambda f: f.path)):
            b.node("field", {"path": f.path}, {"in": spec.id}, f.kind, f.enum, prefix="f")
    for _ in range(draw(st.integers(0, 2))):
        value = draw(st.one_of(PARAM_NUMBERS, st.booleans(), st.sampled_from(["lo", "dock", "zz"])))
        nid = b.new_id("c")
        b.nodes.append({"id": nid, "type": "const", "params": {"value": value}})
        kind = "bool" if isinstance(value, bool) else "category" if isinstance(value, str) else "number"
        b.outs.append(Out(nid, kind, (value,) if kind == "category" else None, const=True))
    types = OP_TYPES + (["model.onnx", "model.onnx"] if models else [])
    ops = draw(st.lists(st.sampled_from(types), max_size=9))
    for i, type_ in enumerate(ops):
        if i == len(ops) // 2 and len(specs) > 1 and draw(st.integers(0, 3)):
            b.join()  # a node downstream of both sources: stored outputs, max_age_s staleness
        b.op(type_)
    if b.pick("bool") is None:  # an action needs a live bool trigger
        for out in [o for o in b.outs if not o.const]:
            if out.kind == "number":
                b.op("compare") or b.node("hysteresis", {"on_above": 1, "off_below": 0}, {"in": out.id}, "bool")
            elif out.kind == "category":
                b.node("in_set", {"values": [out.enum[0]]}, {"in": out.id}, "bool")
            if b.pick("bool") is not None:
                break
    for i in range(draw(st.integers(1, 3))):
        b.action(i)
    doc = {
        "format": "aiot.graph/v1",
        "name": "generated",
        "params": {"type": "object", "properties": b.params},
        "nodes": draw(st.permutations(b.nodes)),  # nodes order decides source and action order
        "edges": draw(st.permutations(b.edges)),
    }
    return GraphCase(doc, specs, sorted(set(b.thresholds)))


# --------------------------------------------------------------------------------------------
# Traces

KEYS = ["a", "b", "k1", "7", "42", "dev-9"]
SPECIAL_NUMBERS = [
    0, -0.0, 0.5, 1, -1, 1e308, -1e308, 5e-324, 1e16, -1e16,
    math.nan, math.inf, -math.inf, 10**400, -(10**400), 2**53 + 1,
]  # fmt: skip
WRONG_TYPES = [None, True, False, "3", [1], {"v": 1}]


def numbers(thresholds: list[float], hostile: bool):
    """Numbers for a field; ``hostile`` adds specials and values of other types (schema rejects)."""
    options = [st.integers(-5, 5), st.floats(-100, 100, allow_nan=False, allow_infinity=False)]
    if thresholds:
        options = [st.sampled_from(thresholds)] * 3 + options
    if hostile:
        options += [st.sampled_from(SPECIAL_NUMBERS)] * 2 + [st.sampled_from(WRONG_TYPES)]
    return st.one_of(*options)


def _field_value(draw, f: FieldSpec, thresholds: list[float], hostile: bool):
    if f.kind == "number":
        return draw(numbers(thresholds, hostile))
    if f.kind == "bool":
        return draw(st.sampled_from([True, False, True, False, None, 0, 1, "true"] if hostile else [True, False]))
    return draw(st.sampled_from([*(f.enum or ()), *(f.enum or ()), "other", None, 3] if hostile else f.enum))


@st.composite
def payloads(draw, case: GraphCase, source: SourceSpec | None, key: str, arrival: int):
    if draw(st.integers(0, 24)) == 0:
        return draw(st.sampled_from([None, [], [1, 2], "text", 3, 1.5, True]))
    hostile = draw(st.integers(0, 3)) == 0  # else only valid values (and absent fields)
    payload: dict = {}
    for spec in sorted(case.sources, key=lambda s: s is not source):  # the message's own source first
        for f in spec.fields:
            if f.path.replace("m.", "") in payload and f.path != "m.x":
                continue  # the same name in two sources: one value, maybe of the other's type
            if draw(st.integers(0, 9)) == 0:
                continue  # absent
            value = _field_value(draw, f, case.thresholds, hostile)
            if f.path == "m.x":
                payload["m"] = {"x": value} if draw(st.integers(0, 5)) else draw(st.sampled_from([3, None, "m"]))
            else:
                payload[f.path] = value
    if any(s.key == "payload:id" for s in case.sources):
        choice = draw(st.integers(0, 11))
        if choice < 7:
            payload["id"] = key
        elif choice < 9:
            payload["id"] = int(key) if key.isdigit() else key  # 7 and "7" are the same key
        elif choice < 11:
            payload["id"] = draw(st.sampled_from([1.5, 7.0, True, None, {"a": 1}, ["a"]]))
    choice = draw(st.integers(0, 9))
    if choice < 6:
        payload["ts"] = arrival + draw(st.sampled_from([0, 0, 0, 1, 500, -1, -1000, -3000, 0.5]))
    elif choice < 8:
        payload["ts"] = draw(st.sampled_from(["123", True, None, math.nan, math.inf, 10**400, 1e308, -5.0, 2**63]))
    return payload


@st.composite
def traces(draw, case: GraphCase) -> list[Message]:
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=4, unique=True))
    arrival = draw(st.sampled_from([0, 1000, 1_700_000_000_000]))
    messages = []
    length = st.integers(1, 8) if draw(st.integers(0, 3)) == 0 else st.integers(15, 60)
    for _ in range(draw(length)):
        arrival += draw(st.sampled_from([0, 0, 1, 100, 250, 500, 1000, 2000, 5000]))
        key = draw(st.sampled_from(keys))
        spec = None
        if draw(st.integers(0, 9)):
            spec = draw(st.sampled_from(case.sources))
            topic = draw(st.sampled_from(MATCHING[spec.topic]))
        else:
            topic = draw(st.sampled_from(OTHER_TOPICS))
        payload = draw(payloads(case, spec, key, arrival))
        messages.append(Message(topic.format(k=key), payload, float(arrival)))
    return messages


@st.composite
def scenarios(draw, models: bool = True) -> tuple[GraphCase, list[list[Message]]]:
    case = draw(graphs(models))
    return case, draw(st.lists(traces(case), min_size=1, max_size=2))


# --------------------------------------------------------------------------------------------
# The law


def _run_reference(plan, messages):
    engine = Interpreter(plan, MODELS)
    return list(run_messages(engine, messages)), engine.stats.to_json()


def _show(messages: list[Message]) -> str:
    return "\n".join(repr((m.topic, m.payload, m.arrival_ms)) for m in messages)


def _events(plan) -> None:
    """What the generated graph exercises (pytest --hypothesis-show-statistics)."""
    event(f"sources: {len(plan.sources)}")
    crossing = [n for n in plan.nodes if len(plan.upstream_sources[n.id]) > 1 and not n.is_action]
    event(f"a node downstream of two sources: {bool(crossing)}")
    aging = any(s.params.get("max_age_s") for s in plan.sources) and len(plan.sources) > 1
    event(f"max_age_s with two sources: {aging}")
    event(f"model.onnx: {any(n.type == 'model.onnx' for n in plan.nodes)}")


def check_engines_agree(case: GraphCase, traces_: list[list[Message]]) -> None:
    problems = validate(case.doc, {}, models=MODELS)
    assert problems == [], f"the generator made an invalid graph: {[p.to_json() for p in problems]}"
    plan = build_plan(case.doc, {}, models=MODELS, base_dir=str(MODELS_DIR))
    logic = compile_plan(plan, MODELS).to_bytes()
    in_hypothesis = currently_in_test_context()
    if in_hypothesis:
        note(f"graph: {case!r}")
        _events(plan)
    for messages in traces_:
        expected, expected_stats = _run_reference(plan, messages)
        if in_hypothesis:
            event(f"records: {'0' if not expected else '1-9' if len(expected) < 10 else '10+'}")
            event(f"two events for one message: {expected_stats['events'] > expected_stats['messages']}")
        # Records as records, and as the texts a replay writes (a batch's at once, or one by one),
        # read back: those of the reference's records as written (NaN is null there).
        written = _written(expected)
        for batch, texts in zip(BATCHES, (False, "all", True), strict=True):
            engine = LogicEngine(plan, logic, batch=batch)
            got = list(run_messages(engine, messages, texts=texts))
            problem = diff_records(_written(got), written) if texts else diff_records(got, expected)
            where = f"batch={batch}, texts={texts}"
            assert problem is None, f"{where}: compiled vs reference: {problem}\ntrace:\n{_show(messages)}"
            assert engine.stats.to_json() == expected_stats, f"{where}: stats differ"
        trace = _jsonl(messages)
        runs = {}
        for chunk, texts in ((200, "all"), (200, False), (CHUNK_BYTES, False)):  # runs of lines read as columns
            engine = LogicEngine(plan, logic)
            got = runs[chunk, texts] = list(
                engine.process_trace(io.BytesIO(trace), "trace", texts, chunk_bytes=chunk, min_run=1)
            )
            problem = diff_records(_written(got), written) if texts else diff_records(got, expected)
            where = f"trace file, chunk={chunk}"
            assert problem is None, f"{where}: compiled vs reference: {problem}\ntrace:\n{_show(messages)}"
            assert engine.stats.to_json() == expected_stats, f"trace file, chunk={chunk}: stats differ"
        # The texts a batch writes are those dumps writes of the same records, byte for byte.
        assert runs[200, "all"] == [dumps(r) for r in runs[200, False]], f"texts differ\ntrace:\n{_show(messages)}"


def _written(records: list) -> list[dict]:
    """Records as written (those that came as text, as they came), read back."""
    return [json.loads(r if isinstance(r, str) else dumps(r)) for r in records]


def _jsonl(messages: list[Message]) -> bytes:
    """The messages as a trace file: UTF-8 as it is where it can be (escapes send a line the
    usual way, not as columns)."""
    lines = []
    for m in messages:
        line = {"topic": m.topic, "payload": m.payload, "arrival_ms": m.arrival_ms}
        try:
            lines.append(json.dumps(line, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")
        except UnicodeEncodeError:  # a lone surrogate
            lines.append(json.dumps(line).encode() + b"\n")
    return b"".join(lines)


@settings(max_examples=_examples(60), **SETTINGS)
@given(graphs())
def test_generated_graphs_are_valid(case):
    problems = validate(case.doc, {}, models=MODELS)
    assert problems == [], [p.to_json() for p in problems]


@settings(max_examples=_examples(140), **SETTINGS)
@given(scenarios())
def test_compiled_engine_equals_reference(scenario):
    check_engines_agree(*scenario)


# --------------------------------------------------------------------------------------------
# Regressions: minimal cases hypothesis found (each failed on the compiled engine)


def _chain(nodes: list[dict], x_path: str = "x") -> GraphCase:
    """source → field x → nodes in a chain → an alert (level) carrying the last value as v."""
    chain = [
        {"id": "s", "type": "source.telemetry", "params": {"topic": "d/+", "key": "topic:1", "schema": {
            "type": "object", "properties": {"x": {"type": "number"}}}}},
        {"id": "f", "type": "field", "params": {"path": x_path}},
        *nodes,
    ]  # fmt: skip
    edges = [{"from": a["id"], "to": b["id"]} for a, b in itertools.pairwise(chain)]
    doc = {
        "format": "aiot.graph/v1",
        "name": "regression",
        "nodes": [*chain, {"id": "t", "type": "const", "params": {"value": True}},
                  {"id": "a", "type": "action.alert", "params": {"name": "n", "mode": "level", "message": "{v}"}}],
        "edges": [*edges, {"from": "t", "to": "a.trigger"}, {"from": chain[-1]["id"], "to": "a.v"}],
    }  # fmt: skip
    return GraphCase(doc, [])


def test_constants_near_zero_or_one_are_not_dropped():
    """onnxruntime's NoopElimination took x·(1+1e-9) for x·1 and x + 1e-50 for x + 0 (it compares
    the float64 constant as float32): the compiled engine printed 3 for 3.000000003."""
    for params in ({"k": 1 + 1e-9}, {"k": 1 - 1e-12}, {"offset": 1e-50}, {"k": 2, "offset": -2e-112}):
        case = _chain([{"id": "b", "type": "math.abs"}, {"id": "n", "type": "math.scale", "params": params}])
        check_engines_agree(case, [[Message("d/a", {"x": x}, 0.0) for x in (3.0, 0.0, -7.5)]])


def test_window_sum_adds_oldest_first():
    """ReduceSum added the window in vectorised lanes: a mean of three ordinary values came out one
    ulp off (a message read 16.805149955861538, not 16.80514995586154), and under cancellation
    ([1e16, 1, -1e16, 1]) the sum was 0 or 2 against the reference's 1."""
    for window in ({"agg": "mean", "duration_s": 1}, {"agg": "sum", "size": 4}, {"agg": "sum", "duration_s": 9}):
        case = _chain([{"id": "w", "type": "window.agg", "params": window}])
        values = [-63.696651816108925, 115.29161707909384, -1.1795153954002942, 1e16, 1, -1e16, 1, 0.1, 0.2]
        check_engines_agree(case, [[Message("d/a", {"x": x, "ts": 0}, 0.0) for x in values]])
