"""The compiled payload check gives exactly jsonschema's verdicts (the reference)."""

from __future__ import annotations

import functools
import json
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from rules_engine.schema_check import compile_schema
from tests.engine_cases import BUILTIN, CONFORMANCE

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([0, 1, -1, 0.0, 1.0, 2.5, 8, 8.0, 40, 40.0001, 1e308, "aisle", "dock", "", "x" * 70, True])
    | st.text(max_size=8)
)
values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3), max_leaves=10
)

PROPS = {
    "ts": {"type": "number"},
    "speed": {"type": "number", "minimum": 0, "maximum": 40},
    "n": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
    "on": {"type": "boolean"},
    "zone": {"enum": ["aisle", "dock", "yard"]},
    "mixed": {"enum": [1, "1", None, True]},
    "name": {"type": "string", "minLength": 1, "maxLength": 64, "pattern": "^[a-z]"},
    "maybe": {"type": ["number", "null"]},
    "fixed": {"const": 8},
    "nested": {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "number"}},
        "additionalProperties": False,
    },
    "list": {"type": "array", "items": {"type": "number"}, "minItems": 1, "maxItems": 3},
    "either": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
    "one": {"oneOf": [{"type": "number"}, {"type": "integer"}]},
    "neither": {"not": {"type": "string"}},
}
SCHEMAS = [
    {"type": "object", "required": ["ts", "speed"], "properties": PROPS},
    {"type": "object", "properties": PROPS, "additionalProperties": {"type": "number"}, "minProperties": 1},
    {"type": "object", "allOf": [{"required": ["zone"]}, {"properties": {"zone": {"enum": ["yard"]}}}]},
    True,
    {"type": "object", "maxProperties": 2},
    # Keyword order in the document is free: required properties are read only once tested.
    {"properties": PROPS, "required": ["ts", "nested", "zone"]},
    {"properties": {"nested": PROPS["nested"], "speed": PROPS["speed"]}, "required": ["nested"], "type": "object"},
]
payloads = st.one_of(
    values,
    st.fixed_dictionaries({}, optional=dict.fromkeys(PROPS, values)),
    st.fixed_dictionaries(
        {"ts": values, "speed": values}, optional={k: scalars for k in PROPS if k not in ("ts", "speed")}
    ),
)


@pytest.mark.parametrize("schema", SCHEMAS, ids=range(len(SCHEMAS)))
@settings(max_examples=400, deadline=None)
@given(payload=payloads)
def test_the_compiled_check_agrees_with_jsonschema(schema, payload):
    check = compile_schema(schema)
    assert check is not None
    assert check(payload) == Draft202012Validator(schema).is_valid(payload)


@functools.cache
def shipped_schemas():

    out = []
    for path in [*CONFORMANCE.glob("cases/*/*.json"), *BUILTIN.glob("*/graph.json")]:
        doc = json.loads(path.read_text())
        graph = doc.get("graph", doc)
        out += [n["params"]["schema"] for n in graph["nodes"] if n["type"] == "source.telemetry"]
    return out


@settings(max_examples=300, deadline=None)
@given(payload=payloads, index=st.integers(0, 10_000))
def test_every_shipped_source_schema_compiles_and_agrees(payload, index):
    schemas = shipped_schemas()
    schema = schemas[index % len(schemas)]
    check = compile_schema(schema)
    assert check is not None, schema
    assert check(payload) == Draft202012Validator(schema).is_valid(payload)


@pytest.mark.parametrize(
    "schema",
    [{"$ref": "#/$defs/x"}, {"multipleOf": 3}, {"patternProperties": {}}, {"if": {}, "then": {}}, {"enum": [[1]]}],
)
def test_keywords_outside_the_subset_fall_back_to_jsonschema(schema):
    assert compile_schema(schema) is None


def test_nan_and_bools_behave_as_in_jsonschema():
    schema = {"type": "object", "properties": {"x": {"type": "number", "minimum": 0}, "i": {"type": "integer"}}}
    check = compile_schema(schema)
    for payload in ({"x": math.nan}, {"x": True}, {"i": 3.0}, {"i": True}, {"i": math.inf}, {"x": -0.0}):
        assert check(payload) == Draft202012Validator(schema).is_valid(payload), payload
