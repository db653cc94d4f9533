"""The compiled engine's field columns (``edge_compiler.runtime._convert``): its shortcuts for the
usual column (finite floats, known categories) give what reading value by value gives (SPEC §3.3)."""

from __future__ import annotations

import io
import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_compiler.compiler import compile_plan
from edge_compiler.runtime import LogicEngine, _convert, _number
from rules_engine.engines import run_messages
from rules_engine.interpreter import Interpreter
from rules_engine.trace import read_trace
from rules_engine.trace_columns import Columns, read_columns
from rules_engine.validation import build_plan

ENUM = {"aisle": 0.0, "dock": 1.0, "yard": 2.0}


def by_value(raw: list, kind: str) -> tuple[list[float], list[bool]]:
    if kind == "number":
        read = [_number(x) for x in raw]
    elif kind == "bool":
        read = [float(x) if type(x) is bool else None for x in raw]
    else:
        read = [ENUM.get(x) if type(x) is str else None for x in raw]
    return [0.0 if x is None else x for x in read], [x is not None for x in read]


def check(raw: list, kind: str) -> None:
    v, m = _convert(raw, kind, ENUM)
    values, valid = by_value(raw, kind)
    assert v.dtype == np.float64 and m.dtype == np.bool_ and len(v) == len(m) == len(raw)
    assert m.tolist() == valid, raw
    assert [math.copysign(1, x) * abs(x) for x in v.tolist()] == values, raw


RAW = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=3)
    | st.sampled_from(list(ENUM))
    | st.lists(st.integers(), max_size=2)  # unhashable: no category
    | st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)
)


@settings(max_examples=500, deadline=None)
@given(st.lists(RAW, max_size=8), st.sampled_from(["number", "bool", "category"]))
def test_any_column_reads_as_value_by_value(raw, kind):
    check(raw, kind)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1, max_size=8))
def test_finite_float_columns_are_all_valid(raw):
    check(raw, "number")


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(list(ENUM)), min_size=1, max_size=8))
def test_known_category_columns_are_all_valid(raw):
    check(raw, "category")


def test_the_edge_cases_by_name():
    numbers = ([1e308, 1e308], [float("nan")], [math.inf, 1.0], [-math.inf, math.inf], [1, 2.5], [10**400], [], [True])
    for raw in numbers:
        check(raw, "number")
    for raw in (["dock", "yard"], ["dock", "lake"], ["dock", None], [], ["dock", ["dock"]], [{"a": 1}], [True, "yard"]):
        check(raw, "category")
    # the shared all-valid mask cannot be written to by mistake
    _, m = _convert([1.0, 2.0], "number", None)
    assert not m.flags.writeable


def test_a_batch_with_repeated_keys_answers_in_arrival_order():
    """Rows of one batch run in waves of distinct keys; records come back in the trace's order."""
    graph = {
        "format": "aiot.graph/v1",
        "name": "waves",
        "nodes": [
            {
                "id": "s",
                "type": "source.telemetry",
                "params": {
                    "topic": "dev/+/tele",
                    "key": "topic:1",
                    "schema": {"type": "object", "properties": {"ts": {"type": "number"}, "x": {"type": "number"}}},
                },
            },
            {"id": "f", "type": "field", "params": {"path": "x"}},
            {"id": "gt", "type": "compare", "params": {"op": "gt", "value": 10}},
            {"id": "lvl", "type": "action.alert", "params": {"name": "lvl", "mode": "level", "message": "{x}"}},
        ],
        "edges": [
            {"from": "s", "to": "f"},
            {"from": "f", "to": "gt.a"},
            {"from": "gt", "to": "lvl.trigger"},
            {"from": "f", "to": "lvl.x"},
        ],
    }
    keys = "aabcabbbca" * 4
    lines = [
        json.dumps({"topic": f"dev/{k}/tele", "payload": {"ts": i, "x": 11 + i}}) + "\n" for i, k in enumerate(keys)
    ]
    trace = "".join(lines).encode()
    plan = build_plan(graph, {})
    engine = LogicEngine(plan, compile_plan(plan, None).to_bytes())
    assert [type(i) for i in read_columns(engine.decoder, io.BytesIO(trace))] == [Columns]  # one batch
    got = list(engine.process_trace(io.BytesIO(trace)))
    want = list(run_messages(Interpreter(plan, None), read_trace(io.StringIO(trace.decode()))))
    assert len(want) == len(keys)  # every event fires
    assert got == want
