"""Validation: tables of graphs and the exact problems expected; hostile documents; laws."""

from __future__ import annotations

import copy
import json
import sys
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_compiler.models import OnnxModels
from rules_engine import validate
from rules_engine.document import JsonError, loads_limited, unstorable_text
from rules_engine.interpreter import Interpreter
from rules_engine.validation import build_plan
from tests.engine_cases import CONFORMANCE

SOURCE = {
    "id": "src",
    "type": "source.telemetry",
    "params": {
        "topic": "site/+/dev/+/telemetry",
        "key": "topic:3",
        "schema": {
            "type": "object",
            "properties": {
                "ts": {"type": "number"},
                "speed": {"type": "number"},
                "on": {"type": "boolean"},
                "zone": {"enum": ["aisle", "dock", "yard"]},
                "name": {"type": "string"},
            },
        },
    },
}


def graph(*nodes: dict, edges=(), params=None) -> dict:
    doc = {"format": "aiot.graph/v1", "nodes": [copy.deepcopy(SOURCE), *nodes], "edges": list(edges)}
    if params is not None:
        doc["params"] = {"type": "object", "properties": params}
    return doc


def node(nid: str, type_: str, **params) -> dict:
    return {"id": nid, "type": type_, "params": params}


def e(a: str, b: str) -> dict:
    return {"from": a, "to": b}


def codes(doc, params=None) -> set[tuple]:
    return {(p.node, p.path, p.code) for p in validate(doc, params)}


SPEED = node("speed", "field", path="speed")
FAST = node("fast", "compare", op="gt", value=8)
ALARM = node("alarm", "action.alert", name="overspeed")
GOOD_EDGES = [e("src", "speed"), e("speed", "fast.a"), e("fast", "alarm.trigger")]


def with_payload_schema(**properties) -> dict:
    """The valid graph, its source's payload schema given more properties."""
    doc = graph(SPEED, FAST, ALARM, edges=GOOD_EDGES)
    doc["nodes"][0]["params"]["schema"]["properties"].update(properties)
    return doc


TABLE = [
    ("a valid graph has no problems", graph(SPEED, FAST, ALARM, edges=GOOD_EDGES), set()),
    (
        "it rejects a duplicate id",
        graph(SPEED, FAST, ALARM, node("fast", "logic.not"), edges=GOOD_EDGES),
        {("fast", "/nodes/4", "duplicate_id")},
    ),
    (
        "it rejects an unknown type",
        graph(SPEED, FAST, ALARM, node("odd", "math.pow"), edges=GOOD_EDGES),
        {("odd", "/nodes/4", "unknown_type")},
    ),
    (
        "it rejects an unknown port",
        graph(SPEED, FAST, ALARM, edges=[*GOOD_EDGES[:2], e("fast", "alarm.trigger"), e("speed", "fast.c")]),
        {("fast", "/edges/3/to", "unknown_port")},
    ),
    (
        "it rejects an edge into a port fed twice",
        graph(SPEED, FAST, ALARM, edges=[*GOOD_EDGES, e("fast", "alarm.trigger")]),
        {("alarm", "/edges/3/to", "duplicate_input")},
    ),
    (
        "it rejects an unfed input",
        graph(SPEED, FAST, ALARM, edges=[e("src", "speed"), e("fast", "alarm.trigger")]),
        {("fast", "/nodes/2", "unfed_input")},
    ),
    (
        "it rejects a number fed into a bool port",
        graph(SPEED, FAST, ALARM, edges=[e("src", "speed"), e("speed", "fast.a"), e("speed", "alarm.trigger")]),
        {("alarm", "/edges/2/to", "type_mismatch")},
    ),
    (
        "it rejects a cycle, naming its nodes",
        graph(
            SPEED,
            node("a", "math.add"),
            node("b", "math.abs"),
            edges=[e("src", "speed"), e("speed", "a.a"), e("b", "a.b"), e("a", "b")],
        ),
        {("a", "/nodes/2", "cycle")},
    ),
    (
        "it rejects an action that no source reaches",
        graph(
            node("t", "const", value=True), node("n", "logic.not"), ALARM, edges=[e("t", "n"), e("n", "alarm.trigger")]
        ),
        {
            ("n", "/nodes/2", "const_only"),
            ("alarm", "/nodes/3", "const_only"),
            ("alarm", "/nodes/3", "unreachable_action"),
        },
    ),
    (
        "it rejects a $param that is not declared",
        graph(SPEED, node("fast", "compare", op="gt", value={"$param": "limit"}), ALARM, edges=GOOD_EDGES),
        {("fast", "/nodes/2/params/value", "unknown_param")},
    ),
    (
        "it rejects a parameter value outside its schema",
        graph(
            SPEED,
            node("fast", "compare", op="gt", value={"$param": "limit"}),
            ALARM,
            edges=GOOD_EDGES,
            params={"limit": {"type": "number", "minimum": 0, "default": -1}},
        ),
        {(None, "/params/properties/limit", "param_value")},
    ),
    (
        "it rejects a field the source does not declare",
        graph(node("speed", "field", path="velocity"), FAST, ALARM, edges=GOOD_EDGES),
        {("speed", "/nodes/1/params/path", "unknown_field")},
    ),
    (
        "it rejects node params that break the type's schema",
        graph(SPEED, node("fast", "compare", op="bigger", value=8), ALARM, edges=GOOD_EDGES),
        {("fast", "/nodes/2/params/op", "schema")},
    ),
    (
        "it rejects ordering categories",
        graph(
            node("zone", "field", path="zone"),
            node("fast", "compare", op="gt", value="dock"),
            ALARM,
            edges=[e("src", "zone"), e("zone", "fast.a"), e("fast", "alarm.trigger")],
        ),
        {("fast", "/edges/1/to", "type_mismatch")},
    ),
    (
        "it rejects a category value outside the enum",
        graph(
            node("zone", "field", path="zone"),
            node("fast", "compare", op="eq", value="roof"),
            ALARM,
            edges=[e("src", "zone"), e("zone", "fast.a"), e("fast", "alarm.trigger")],
        ),
        {("fast", "/nodes/2/params/value", "type_mismatch")},
    ),
    (
        "it rejects a message placeholder that names no port",
        graph(SPEED, FAST, node("alarm", "action.alert", name="x", message="{speed} km/h"), edges=GOOD_EDGES),
        {("alarm", "/nodes/3/params/message", "unknown_port")},
    ),
    (
        "it rejects a window with neither size nor duration",
        graph(
            SPEED,
            node("w", "window.agg", agg="mean"),
            node("fast", "compare", op="gt", value=8),
            ALARM,
            edges=[e("src", "speed"), e("speed", "w"), e("w", "fast.a"), e("fast", "alarm.trigger")],
        ),
        {("w", "/nodes/2/params", "schema")},
    ),
    (
        "it rejects an edge from a node that does not exist",
        graph(SPEED, FAST, ALARM, edges=[*GOOD_EDGES, e("ghost", "alarm.extra")]),
        {(None, "/edges/3/from", "unknown_port")},
    ),
    (
        "it rejects a $ref in a payload schema, which jsonschema would fetch",
        with_payload_schema(extra={"$ref": "http://127.0.0.1:9/extra.json"}),
        {("src", "/nodes/0/params/schema/properties/extra/$ref", "schema")},
    ),
    (
        "it rejects a $dynamicRef in a payload schema, which may loop",
        with_payload_schema(extra={"anyOf": [{"$dynamicRef": "#"}]}),
        {("src", "/nodes/0/params/schema/properties/extra/anyOf/0/$dynamicRef", "schema")},
    ),
    (
        "it rejects a $ref in the parameter schema",
        graph(
            SPEED,
            node("fast", "compare", op="gt", value={"$param": "limit"}),
            ALARM,
            edges=GOOD_EDGES,
            params={"limit": {"$ref": "#/$defs/limit", "default": 8}},
        ),
        {(None, "/params/properties/limit/$ref", "schema")},
    ),
    (
        "a payload field named $ref is only a name",
        with_payload_schema(**{"$ref": {"type": "number"}}),
        set(),
    ),
]


@pytest.mark.parametrize("title,doc,expected", TABLE, ids=[t[0] for t in TABLE])
def test_validation_table(title, doc, expected):
    assert codes(doc) == expected


def validation_cases():
    return sorted((CONFORMANCE / "validation").glob("*.json"))


@pytest.mark.parametrize("path", validation_cases(), ids=lambda p: p.stem)
def test_shared_validation_case(path):
    case = json.loads(path.read_text())
    models = OnnxModels(str(path.parent))
    got = {(p.node, p.path, p.code) for p in validate(case["graph"], case.get("params"), models=models)}
    expected = {(p["node"], p["path"], p["code"]) for p in case["problems"]}
    assert got == expected, case.get("description")


def test_every_problem_names_its_node_when_it_has_one():
    doc = graph(
        SPEED, node("fast", "compare", op="gt"), node("alarm", "action.alert", name="x"), edges=[e("src", "speed")]
    )
    problems = validate(doc)
    assert problems and all(p.node in {"fast", "alarm"} for p in problems)
    assert all(p.message for p in problems)


def test_it_reports_every_problem_at_once():
    doc = graph(
        node("speed", "field", path="velocity"),
        node("fast", "compare", op="gt", value={"$param": "nope"}),
        node("odd", "no.such"),
        edges=[e("src", "speed"), e("speed", "fast.a")],
    )
    found = {p.code for p in validate(doc)}
    assert {"unknown_field", "unknown_param", "unknown_type"} <= found


# --- hostile documents ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "doc",
    [None, 42, "graph", [], {}, {"format": "aiot.graph/v1"}, {"format": "aiot.graph/v1", "nodes": {}, "edges": 3}],
)
def test_it_reports_a_schema_problem_for_documents_of_the_wrong_shape(doc):
    problems = validate(doc)
    assert problems and all(p.code == "schema" for p in problems)


def test_it_refuses_100000_nodes_quickly():
    doc = {
        "format": "aiot.graph/v1",
        "nodes": [{"id": f"n{i}", "type": "const", "params": {"value": 1}} for i in range(100_000)],
        "edges": [],
    }
    started = time.perf_counter()
    problems = validate(doc)
    assert [p.code for p in problems] == ["schema"] and "100000 nodes" in problems[0].message
    assert time.perf_counter() - started < 5  # a hang would be minutes; this is not a speed test


def test_it_refuses_huge_strings():
    doc = graph(SPEED, node("fast", "compare", op="gt", value="x" * 1_000_000), ALARM, edges=GOOD_EDGES)
    assert any(p.code == "schema" and p.path.startswith("/nodes/2/params/value") for p in validate(doc))


def test_deep_nesting_is_a_json_error_not_a_crash():
    with pytest.raises(JsonError, match="nests deeper"):
        loads_limited("[" * 100_000 + "]" * 100_000)
    deep: dict = {}
    cursor = deep
    for _ in range(5000):
        cursor["x"] = {}
        cursor = cursor["x"]
    doc = graph(SPEED, FAST, ALARM, edges=GOOD_EDGES)
    doc["nodes"][0]["params"]["schema"]["properties"]["deep"] = deep
    assert all(p.code == "schema" for p in validate(doc))


def test_non_json_is_a_clear_error():
    with pytest.raises(JsonError, match="line 1 column"):
        loads_limited("{nodes: []}")


@pytest.mark.parametrize(
    "text,message",
    [
        ('{\n  "a": [1,\n  NaN]}', "g.json is not valid JSON: NaN is not a JSON number at line 3 column 3"),
        (
            '{"a": "NaN", "b": -Infinity}',
            "g.json is not valid JSON: -Infinity is not a JSON number at line 1 column 19",
        ),
        (
            '{"a": "' + "1" * 5000 + '",\n "b": ' + "1" * 5000 + "}",
            f"g.json holds an integer of more than {sys.get_int_max_str_digits()} digits at line 2 column 7",
        ),
    ],
)
def test_constants_and_overlong_integers_are_errors_naming_the_line(text, message):
    with pytest.raises(JsonError) as caught:
        loads_limited(text, what="g.json")
    assert str(caught.value) == message


json_values = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(doc=json_values)
def test_validation_never_raises_on_arbitrary_json(doc):
    assert isinstance(validate(doc), list)


def mutate_strategy():
    base = graph(SPEED, FAST, ALARM, edges=GOOD_EDGES)
    return st.builds(
        lambda path, value: (path, value),
        st.sampled_from(
            [
                "/nodes/1/params/path",
                "/nodes/2/params/op",
                "/nodes/2/params/value",
                "/edges/1/to",
                "/nodes/3/type",
                "/nodes/0/params/key",
            ]
        ),
        json_values,
    ), base


@settings(max_examples=300, deadline=None)
@given(change=mutate_strategy()[0])
def test_validation_never_raises_on_mutated_graphs(change):
    path, value = change
    doc = copy.deepcopy(mutate_strategy()[1])
    *parents, last = path.strip("/").split("/")
    target = doc
    for part in parents:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[last] = value
    assert isinstance(validate(doc), list)


PLAN = build_plan(
    graph(
        SPEED,
        FAST,
        node("alarm", "action.alert", name="x", message="{v} at {ts}"),
        edges=[*GOOD_EDGES, e("speed", "alarm.v")],
    )
)


@settings(max_examples=500, deadline=None)
@given(
    payload=json_values,
    topic=st.sampled_from(["site/a/dev/d1/telemetry", "site/a/dev", "x"]),
    arrival=st.floats(0, 1e13),
)
def test_the_interpreter_never_raises_on_arbitrary_payloads(payload, topic, arrival):
    engine = Interpreter(PLAN)
    records = engine.process(topic, payload, arrival)
    stats = engine.stats
    assert stats.events == stats.accepted + sum(stats.rejected.values())
    assert all(r["kind"] == "alert" for r in records)


def test_an_unknown_type_is_the_one_problem_of_its_edges():
    doc = graph(SPEED, node("fast", "compare.fancy", op="gt"), ALARM, edges=GOOD_EDGES)
    assert codes(doc) == {("fast", "/nodes/2", "unknown_type")}


def test_a_bad_parameter_value_is_the_one_problem_of_the_nodes_using_it():
    doc = graph(
        SPEED,
        node("fast", "compare", op="gt", value={"$param": "limit"}),
        ALARM,
        edges=GOOD_EDGES,
        params={"limit": {"type": "number", "default": 8}},
    )
    assert codes(doc, {"limit": "fast"}) == {(None, "/params/properties/limit", "param_value")}


@pytest.mark.parametrize(
    "text,pointer",
    [
        ('{"a": ["ok", "x\\u0000"]}', "/a/1"),
        ('{"a": {"b\\u0000": 1}}', "/a/b\\u0000"),
        ('{"a/b": "\\udc00"}', "/a~1b"),
        ('["\\ud83d\\ude00", "\\u00e9"]', None),  # a surrogate pair is one character: fine
        ('{"a": "\\\\u0000"}', None),  # an escaped backslash, then the letters u0000: fine
    ],
)
def test_unstorable_text_names_the_string_no_database_can_hold(text, pointer):
    assert unstorable_text(json.loads(text), text) == pointer
    assert unstorable_text(json.loads(text)) == pointer  # the walk alone agrees with the pre-check


# --- regexes a graph's schemas bring (docs/graph-format.md, "Regular expressions") ------------
CODE = "/nodes/0/params/schema/properties/code/pattern"


def with_code(**schema) -> dict:
    """The valid graph, its payload schema given a string property `code` with ``schema``."""
    return with_payload_schema(code={"type": "string", **schema})


def with_param(**schema) -> dict:
    """The valid graph with one declared parameter `p`, a string with ``schema``."""
    return graph(SPEED, FAST, ALARM, edges=GOOD_EDGES, params={"p": {"type": "string", **schema}})


def problems_of(doc, params=None) -> list[tuple]:
    return [(p.node, p.path, p.code, p.message) for p in validate(doc, params)]


NESTED = "a repeated group that itself repeats can take exponential time"
NEEDS_MAX = (
    "a pattern needs a maxLength of at most 4,096 next to it, so that the regular expression only ever runs on "
    "short strings"
)

PATTERN_TABLE = [
    (
        "a nested quantifier",
        with_code(maxLength=64, pattern="^(a+)+$"),
        [("src", CODE, "schema", f"{NESTED}: '^(a+)+$'")],
    ),
    (
        "an optional part inside a repeat is nested too",
        with_code(maxLength=64, pattern="^(a?a?)+$"),
        [("src", CODE, "schema", f"{NESTED}: '^(a?a?)+$'")],
    ),
    (
        "a fixed repeat inside a repeat",
        with_code(maxLength=64, pattern=r"^(?:\d{1,3}\.){3}\d{1,3}$"),
        [("src", CODE, "schema", f"{NESTED}: '^(?:\\d{{1,3}}\\.){{3}}\\d{{1,3}}$'")],
    ),
    (
        "a quantified alternation",
        with_code(maxLength=64, pattern="^(ab|cd)+$"),
        [("src", CODE, "schema", "a repeated alternation (a|b|…)+ can take exponential time: '^(ab|cd)+$'")],
    ),
    (
        "a backreference",
        with_code(maxLength=64, pattern=r"^(a)\1$"),
        [
            (
                "src",
                CODE,
                "schema",
                "backreferences (\\1, (?P=name), (?(1)…)) are not supported: they can take exponential time: "
                "'^(a)\\1$'",
            )
        ],
    ),
    (
        "a repeat in a lookahead",
        with_code(maxLength=64, pattern="^(?=a+)a"),
        [("src", CODE, "schema", "a lookahead or lookbehind holding a repeat can take exponential time: '^(?=a+)a'")],
    ),
    (
        "more than three open-ended repeats",
        with_code(maxLength=64, pattern="^a+b+c+d+$"),
        [
            (
                "src",
                CODE,
                "schema",
                "4 open-ended repeats (+, *, or a maximum over 64) can take polynomial time; at most 3 are "
                "allowed: '^a+b+c+d+$'",
            )
        ],
    ),
    (
        "a pattern over 1,000 characters",
        with_code(maxLength=64, pattern="a" * 1001),
        [("src", CODE, "schema", "the pattern is 1,001 characters long; at most 1,000 are allowed")],
    ),
    (
        "a pattern that does not compile",
        with_code(maxLength=64, pattern="^(a"),
        [
            (
                "src",
                CODE,
                "schema",
                "'^(a' is not a regular expression Python can use: missing ), unterminated subpattern",
            )
        ],
    ),
    (
        "a pattern without maxLength",
        with_code(pattern="^FL-[0-9]+$"),
        [("src", CODE, "schema", NEEDS_MAX)],
    ),
    (
        "a pattern with a maxLength over 4,096",
        with_code(maxLength=5000, pattern="^FL-[0-9]+$"),
        [("src", CODE, "schema", "maxLength is 5,000: next to a pattern it must be at most 4,096")],
    ),
    (
        "overlapping open-ended repeats: cubic",
        with_code(maxLength=4096, pattern="a*a*b"),
        [
            (
                "src",
                CODE,
                "schema",
                "'a*a*b' may try about 6.9e+10 steps on a string of 4,096 characters (at most 1,024 a character "
                "are allowed): lower maxLength, anchor it with ^, or use fewer open-ended repeats such as + and *",
            )
        ],
    ),
    (
        "optional characters in a row: exponential",
        with_code(maxLength=64, pattern="^" + "a?" * 30 + "a" * 30 + "$"),
        [
            (
                "src",
                CODE,
                "schema",
                "'^" + "a?" * 30 + "a" * 16 + "…' may try about 3.5e+10 steps on a string of 64 characters (at most "
                "1,024 a character are allowed): lower maxLength, anchor it with ^, or use fewer open-ended repeats "
                "such as + and *",
            )
        ],
    ),
    (
        "a patternProperties key that nests",
        with_payload_schema(extra={"type": "object", "patternProperties": {"^(x+)+$": {"type": "number"}}}),
        [
            (
                "src",
                "/nodes/0/params/schema/properties/extra/patternProperties/^(x+)+$",
                "schema",
                f"{NESTED}: '^(x+)+$'",
            )
        ],
    ),
    (
        "a patternProperties key that is quadratic on a long name (its pointer escaped)",
        with_payload_schema(extra={"type": "object", "patternProperties": {"a/[0-9]+x": {"type": "number"}}}),
        [
            (
                "src",
                "/nodes/0/params/schema/properties/extra/patternProperties/a~1[0-9]+x",
                "schema",
                "'a/[0-9]+x' can take time that grows faster than the length of a property name; anchor it with "
                "^, or use fewer open-ended repeats such as + and *",
            )
        ],
    ),
    (
        "patterns anywhere in the schema: items, anyOf, propertyNames",
        with_payload_schema(
            tags={"type": "array", "items": {"type": "string", "pattern": "^(a|b)+$"}},
            either={"anyOf": [{"type": "string", "maxLength": 8, "pattern": "(a+)*"}, {"type": "number"}]},
            names={"type": "object", "propertyNames": {"maxLength": 8, "pattern": "(a|bb)+"}},
        ),
        [
            ("src", "/nodes/0/params/schema/properties/either/anyOf/0/pattern", "schema", f"{NESTED}: '(a+)*'"),
            (
                "src",
                "/nodes/0/params/schema/properties/names/propertyNames/pattern",
                "schema",
                "a repeated alternation (a|b|…)+ can take exponential time: '(a|bb)+'",
            ),
            ("src", "/nodes/0/params/schema/properties/tags/items/pattern", "schema", NEEDS_MAX),
        ],
    ),
    (
        # (the audit's own 34-character default is run in a subprocess below: a regression hangs)
        "the audit's parameter schema: problems, and its default never meets the regex",
        with_param(pattern="^(a+)+$", default="aaaaaaaaaa!"),
        [
            (None, "/params/properties/p/pattern", "schema", f"{NESTED}: '^(a+)+$'"),
            (None, "/params/properties/p/pattern", "schema", NEEDS_MAX),
        ],
    ),
    (
        "a parameter's patternProperties key",
        graph(
            SPEED,
            FAST,
            ALARM,
            edges=GOOD_EDGES,
            params={"m": {"type": "object", "default": {}, "patternProperties": {"(a|ab)*c": {}}}},
        ),
        [
            (
                None,
                "/params/properties/m/patternProperties/(a|ab)*c",
                "schema",
                "a repeated alternation (a|b|…)+ can take exponential time: '(a|ab)*c'",
            )
        ],
    ),
    # Allowed: linear, anchored, bounded; and a quadratic one when maxLength keeps it short.
    ("an anchored id", with_code(maxLength=4096, pattern="^FL-[0-9]+$"), []),
    ("a bounded class", with_code(maxLength=64, pattern="^[a-z0-9_-]{1,64}$"), []),
    ("a choice of words", with_code(maxLength=16, pattern="^(dock|aisle|yard)$"), []),
    ("a date", with_code(maxLength=10, pattern=r"^\d{4}-\d{2}-\d{2}$"), []),
    ("an address", with_code(maxLength=4096, pattern=r"^[a-z]+@[a-z]+\.[a-z]+$"), []),
    ("unanchored, quadratic but short", with_code(maxLength=256, pattern="a.*b"), []),
    ("an optional group", with_code(maxLength=4096, pattern="^x(-[0-9]+)?$"), []),
    (
        "a linear patternProperties key",
        with_payload_schema(extra={"type": "object", "patternProperties": {"^x_[a-z]+$": {"type": "number"}}}),
        [],
    ),
    ("a parameter with a good pattern", with_param(maxLength=64, pattern="^[a-z]+$", default="dock"), []),
]


@pytest.mark.parametrize("title,doc,expected", PATTERN_TABLE, ids=[t[0] for t in PATTERN_TABLE])
def test_pattern_table(title, doc, expected):
    assert problems_of(doc) == sorted(expected)


def test_a_parameter_value_longer_than_maxlength_is_refused_without_its_pattern():
    doc = with_param(maxLength=8, pattern="^[a-z]+$", default="dock")
    assert problems_of(doc, {"p": "x" * 9}) == [
        (None, "/params/properties/p", "param_value", f"parameter 'p': {'x' * 9!r} is too long")
    ]
    assert problems_of(doc, {"p": "DOCK"}) == [
        (None, "/params/properties/p", "param_value", "parameter 'p': 'DOCK' does not match '^[a-z]+$'")
    ]


HANG_GUARD = """
import sys
from rules_engine.cli import main
sys.exit(main(sys.argv[1:]))
"""


def run_aiot(*args: str, timeout: float = 120):
    """``aiot`` in a subprocess: a hang fails the test (at ``timeout``) instead of blocking CI."""
    import subprocess

    return subprocess.run(
        [sys.executable, "-c", HANG_GUARD, *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_audit_example_gets_problems_not_a_hang(tmp_path):
    doc = with_param(pattern="^(a+)+$", default="aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!")
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(doc))
    done = run_aiot("graph", "validate", str(path))
    assert done.returncode == 1, done.stderr
    found = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(p["path"], p["code"]) for p in found] == [("/params/properties/p/pattern", "schema")] * 2


def test_a_hostile_payload_pattern_is_refused_before_any_run(tmp_path):
    doc = with_code(maxLength=300_000, pattern="^(a+)+$")
    path, trace = tmp_path / "graph.json", tmp_path / "trace.jsonl"
    path.write_text(json.dumps(doc))
    payload = {"ts": 1, "speed": 9, "code": "a" * 40 + "!"}
    trace.write_text(json.dumps({"topic": "site/a/dev/d1/telemetry", "payload": payload}) + "\n")
    done = run_aiot("graph", "run", str(path), "--trace", str(trace))
    assert done.returncode == 1, done.stderr
    found = [json.loads(line) for line in done.stdout.splitlines()]  # problems, no action record
    assert [(p["path"], p["code"]) for p in found] == [("/nodes/0/params/schema/properties/code/pattern", "schema")] * 2


regex_text = st.text(alphabet="ab()[]{}|*+?.^$\\-,0123456789:=!<>PiIx#", max_size=40) | st.text(max_size=40)


@settings(max_examples=400, deadline=None)
@given(pattern=regex_text, max_length=st.one_of(st.none(), st.integers(-5, 10_000), st.floats(allow_nan=False)))
def test_validation_never_raises_on_arbitrary_patterns(pattern, max_length):
    schema = {"type": "string", "pattern": pattern}
    if max_length is not None:
        schema["maxLength"] = max_length
    for doc in (
        with_payload_schema(code=schema),
        with_payload_schema(extra={"type": "object", "patternProperties": {pattern: {"type": "number"}}}),
        graph(SPEED, FAST, ALARM, edges=GOOD_EDGES, params={"p": {**schema, "default": "ab"}}),
    ):
        problems = validate(doc)  # problems, never an exception (nor a hang)
        assert {p.code for p in problems} <= {"schema", "param_value"}
