"""The compiled payload check gives exactly jsonschema's verdicts (the reference)."""

from __future__ import annotations

import functools
import json
import math
import re
import types

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from rules_engine import patterns, schema_check
from rules_engine.patterns import SchemaValidator
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


# --- pattern with maxLength: maxLength is tested first, the regex never sees a longer string ----
PATTERN_SCHEMAS = [
    {"type": "string", "maxLength": 12, "pattern": "^FL-[0-9]+$"},
    {"type": "string", "maxLength": 64, "pattern": "^[a-z0-9_-]{1,64}$"},
    {"type": "string", "maxLength": 5, "pattern": "^(dock|aisle|yard)$"},
    {"type": "string", "maxLength": 10, "minLength": 10, "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    {"type": "string", "maxLength": 256, "pattern": "a.*b"},
    {"maxLength": 0, "pattern": "x"},
    {"type": "object", "properties": {"code": {"type": "string", "maxLength": 8, "pattern": "^[A-Z]+$"}}},
    {"type": "array", "items": {"maxLength": 3, "pattern": "a"}},
]
pattern_strings = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="FL-0123456789abdkyrx", max_size=300),
    st.builds(lambda n, tail: "FL-" + "7" * n + tail, st.integers(0, 300_000), st.sampled_from(["", "x"])),
    st.builds(lambda n, tail: "a" * n + tail, st.integers(0, 300_000), st.sampled_from(["", "b", "!"])),
    st.sampled_from(["dock", "aisle", "yard", "2026-12-01", "FL-1", "", "ABC", "ABCDEFGHI"]),
)
pattern_values = st.one_of(
    pattern_strings,
    st.lists(pattern_strings, max_size=3),
    st.fixed_dictionaries({}, optional={"code": pattern_strings}),
    scalars,
)


@pytest.mark.parametrize("schema", PATTERN_SCHEMAS, ids=range(len(PATTERN_SCHEMAS)))
@settings(max_examples=300, deadline=None)
@given(value=pattern_values)
def test_pattern_and_maxlength_give_jsonschemas_verdicts(schema, value):
    expected = Draft202012Validator(schema).is_valid(value)
    check = compile_schema(schema)
    assert check is not None
    assert check(value) == expected
    assert SchemaValidator(schema).is_valid(value) == expected


class Spy:
    """A compiled regex that counts the strings it is run on."""

    def __init__(self, pattern: str):
        self.regex = re.compile(pattern)
        self.seen: list[int] = []

    def search(self, text: str):
        self.seen.append(len(text))
        return self.regex.search(text)


def test_the_compiled_check_tests_maxlength_before_the_pattern(monkeypatch):
    spies: list[Spy] = []

    def spy_compile(pattern, flags=0):
        spies.append(Spy(pattern))
        return spies[-1]

    monkeypatch.setattr(schema_check, "re", types.SimpleNamespace(compile=spy_compile, error=re.error))
    # The pattern comes first in the document: keyword order there must not matter. (A benign
    # pattern: without the fix this test fails on what the regex saw, it does not hang.)
    check = compile_schema({"pattern": "^a+$", "maxLength": 8, "type": "string"})
    monkeypatch.undo()
    assert check is not None
    assert check("a" * 100_000) is False
    assert check("aaaa") is True and check("aaa!") is False
    assert spies[0].seen == [4, 4]  # never the long string


def test_the_reference_validator_skips_the_regex_on_a_string_over_maxlength(monkeypatch):
    seen: list[int] = []
    original = patterns._PATTERN

    def spy(validator, pattern, instance, schema):
        seen.append(len(instance))
        yield from original(validator, pattern, instance, schema)

    monkeypatch.setattr(patterns, "_PATTERN", spy)
    validator = SchemaValidator({"type": "string", "pattern": "^a+$", "maxLength": 8})
    assert not validator.is_valid("a" * 100_000)
    assert [e.validator for e in validator.iter_errors("a" * 100_000)] == ["maxLength"]
    assert validator.is_valid("aaaa") and not validator.is_valid("aaa!")
    assert seen == [4, 4]


def test_the_payload_decoder_uses_the_bounded_validator_when_it_cannot_compile():
    """patternProperties is outside the compiled subset: jsonschema decides, through SchemaValidator."""
    from rules_engine.events import _SourceDecoder

    schema = {
        "type": "object",
        "patternProperties": {"^x_[a-z]+$": {"type": "number"}},
        "properties": {"code": {"type": "string", "maxLength": 8, "pattern": "^a+$"}},
    }
    decoder = _SourceDecoder(0, {"topic": "t", "key": "topic:0", "schema": schema})
    assert compile_schema(schema) is None
    assert getattr(decoder.is_valid, "__self__", None).__class__ is SchemaValidator
    assert not decoder.is_valid({"code": "a" * 100_000})
    assert decoder.is_valid({"code": "aaaa", "x_speed": 3}) and not decoder.is_valid({"x_speed": "3"})
