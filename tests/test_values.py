"""``values.dumps`` writes flat records directly; the text must be the general encoder's, always."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.values import dumps, to_jsonable


def reference(obj) -> str:
    return json.dumps(to_jsonable(obj), sort_keys=True, separators=(",", ":"), allow_nan=False)


scalars = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 2.0**63, -(2.0**63), 2.0**63 - 1024, 1e300, 1796098642213.123, 5e-324]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.booleans(),
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["aisle", "é", "\u2028", "\x00", '"\\', "\ud800"]),
)
keys = st.one_of(st.text(max_size=6), st.sampled_from(["ts", "key", "values", "a", "b", "é"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.dictionaries(keys, inner, max_size=5), st.lists(inner, max_size=3)),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, values, max_size=8))
def test_dumps_writes_what_the_general_encoder_writes(record):
    assert dumps(record) == reference(record)


def test_records_with_keys_the_direct_writer_leaves_alone_are_still_written_the_same():
    for record in ({1: "a", 2: 2.0}, {"a": (1.0, 2)}, {"a": [1.5, {"b": math.nan}]}, {"z": {"y": {3: 1}}}):
        assert dumps(record) == reference(record)


def test_the_same_keys_in_another_order_are_sorted_alike():
    assert dumps({"b": 1, "a": 2.5}) == dumps({"a": 2.5, "b": 1}) == '{"a":2.5,"b":1}'


class _Node:
    def __init__(self, node_id: str, params: dict):
        self.id, self.params = node_id, params


class _Ported(_Node):
    """A node whose fed ports are the values' names (as in a plan): its writers may use them."""

    def __init__(self, node_id: str, params: dict, values: dict):
        super().__init__(node_id, params)
        self.ports = ["trigger", *values]

    def fed_ports(self) -> list[str]:
        return self.ports


class _KeyTs:
    def __init__(self, key: str, ts: float):
        self.key, self.ts = key, ts


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=8),
    st.text(min_size=1, max_size=8),
    st.sampled_from(["info", "warning", "critical"]),
    st.sampled_from(["{key} at {ts}: {p} / {q}", "100% {p}", "{{literal}} {q}", "plain", "forklift {key} 5% near"]),
    st.dictionaries(st.sampled_from(["p", "q"]), values, min_size=2),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1767258000000.0, 1796098642213.123]),
)
def test_an_alert_written_as_text_is_the_record_dumps_writes(node_id, name, severity, message, values, key, ts):
    from rules_engine.nodes.actions import Alert

    node = _Node(node_id, {"name": name, "severity": severity, "message": message})
    ev = _KeyTs(key, ts)
    assert Alert().make_text(node)(values, ev) == dumps(Alert().make_record(node)(values, ev))


@settings(max_examples=300, deadline=None)
@given(
    st.text(min_size=1, max_size=8),
    st.sampled_from(["site/{key}/cmd", "100%/{p}", "{{x}}/{q}", "plain"]),
    st.sampled_from(
        [
            {"stop": True, "speed": "{p}", "why": "{q} at {ts} on {key}"},
            {"list": ["{p}", 1, None, {"deep": "{q}"}], "pct": "5% {key}", "n%s": 1.0, "%": "{{%}}"},
            {"b": {"z": "{ts}", "a": [2.5, True, "x"]}, "a": "{key}"},
            "{p} and {q}",
            "{p}",
            {"v": "{p}"},
        ]
    ),
    st.dictionaries(st.sampled_from(["p", "q"]), values, min_size=2),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from([1767258000000.0, 1796098642213.123]),
)
def test_a_command_written_as_text_is_the_record_dumps_writes(node_id, topic, payload, values, key, ts):
    from rules_engine.nodes.actions import Publish

    for node in (
        _Node(node_id, {"topic": topic, "payload": payload}),
        _Ported(node_id, {"topic": topic, "payload": payload}, values),
    ):
        text, record = Publish().make_text(node), Publish().make_record(node)
        for ev in (_KeyTs(key, ts), _KeyTs(key, -ts), _KeyTs(key + "x", ts), _KeyTs(key, ts)):  # keys again
            assert text(values, ev) == dumps(record(values, ev))


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["{key} at {ts}: {p} / {q}", "100% {p}", "{{literal}} {q}", "plain", "forklift {key} 5% near"]),
    st.dictionaries(st.sampled_from(["p", "q"]), values, min_size=2),
    st.text(max_size=6),
    st.floats(allow_nan=True, allow_infinity=True),
)
def test_a_message_rendered_for_an_event_is_the_template_rendered_with_its_key_and_time(text, values, key, ts):
    from rules_engine.templates import Template

    template = Template(text)
    try:
        want = template.render({**values, "key": key, "ts": ts})
    except Exception as exc:  # e.g. NaN as JSON: the same error either way
        want = type(exc)
    try:
        got = template.event_renderer()(values, key, ts)
    except Exception as exc:
        got = type(exc)
    assert got == want


@settings(max_examples=500, deadline=None)
@given(scalars | st.integers() | st.floats())
def test_a_scalar_in_a_template_is_written_as_json_dumps_writes_it(value):
    import json

    from rules_engine.values import json_value, to_jsonable

    want = value if isinstance(value, str) else json.dumps(to_jsonable(value), allow_nan=False)
    assert json_value(value) == want


# --- a batch's records written at once (rules_engine.text_columns) ------------------------------
numbers = st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    [0.0, -0.0, 2.0**63, -(2.0**63), 2.0**63 - 1024, -(2.0**63) + 1024, 1e16, 0.1, 5e-324, 1767258000000.0]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(numbers, st.booleans()), max_size=20))
def test_a_column_of_numbers_is_written_as_each_value_alone(column):
    import numpy as np

    from rules_engine.text_columns import number_texts
    from rules_engine.values import value_text

    values = np.array([v for v, _ in column], np.float64)
    valid = np.array([ok for _, ok in column], np.bool_)
    assert number_texts(values, valid) == [value_text(v if ok else None) for v, ok in column]
    assert number_texts(values) == [value_text(v) for v, _ in column]


# Each port of a record of the compiled engine is a number, a bool or a category (a string), or
# missing (None); a row per record.
port_values = {
    "p": numbers | st.none(),
    "q": st.booleans() | st.none(),
    "r": st.sampled_from(["aisle", "é", '"\\%', "", "%s"]) | st.none(),
}


def _text_columns(rows: list[dict], keys: list[str], times: list[float]):
    import numpy as np

    from rules_engine.text_columns import TextColumns, bool_texts, escaped, number_texts

    def column(port):
        present = np.array([r[port] is not None for r in rows], np.bool_)
        return [0.0 if r[port] is None else float(r[port]) for r in rows], present

    p, p_ok = column("p")
    q, q_ok = column("q")
    r_bare = ["null" if r["r"] is None else r["r"] for r in rows]
    r_json = ["null" if r["r"] is None else escaped([r["r"]])[0] for r in rows]
    values = {"p": number_texts(np.array(p), p_ok), "q": bool_texts(np.array(q), q_ok), "r": r_json}
    ts = number_texts(np.array(times, np.float64))
    return TextColumns(len(rows), values, {"r": r_bare}, escaped(keys), keys, ts)


batches = st.lists(
    st.tuples(st.fixed_dictionaries(port_values), st.text(max_size=6), numbers),
    min_size=1,
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["{key} at {ts}: {p} / {q} in {r}", "100% {p}", "{{literal}} {r}", "plain", "%s {key} 5% near"]),
    batches,
)
def test_a_batch_of_alerts_is_written_as_each_record_alone(message, batch):
    from rules_engine.nodes.actions import Alert

    values = [v for v, _, _ in batch]
    node = _Ported("alert_1", {"name": "near", "severity": "warning", "message": message}, values[0])
    texts = Alert().make_texts(node, ["r", "p", "q"])
    columns = _text_columns(values, [k for _, k, _ in batch], [t for _, _, t in batch])
    record = Alert().make_record(node)
    assert texts(columns) == [dumps(record(v, _KeyTs(k, t))) for v, k, t in batch]


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["site/{key}/cmd", "100%/{p}", "{{x}}/{r}", "plain", "{r}/{q}/{ts}"]),
    st.sampled_from(
        [
            {"stop": True, "speed": "{p}", "why": "{r} at {ts} on {key}"},
            {"list": ["{p}", 1, None, {"deep": "{q}"}], "pct": "5% {key}", "n%s": 1.0, "%": "{{%}}"},
            {"b": {"z": "{ts}", "a": [2.5, True, "x"]}, "a": "{key}", "c": "{r}"},
            "{p} and {q}",
            "{p}",
            {"v": "{p}", "w": "{q}", "x": "{r}"},
        ]
    ),
    batches,
)
def test_a_batch_of_commands_is_written_as_each_record_alone(topic, payload, batch):
    from rules_engine.nodes.actions import Publish

    values = [v for v, _, _ in batch]
    node = _Ported("cmd_1", {"topic": topic, "payload": payload}, values[0])
    texts = Publish().make_texts(node, ["p", "q", "r"])
    columns = _text_columns(values, [k for _, k, _ in batch], [t for _, _, t in batch])
    record = Publish().make_record(node)
    assert texts(columns) == [dumps(record(v, _KeyTs(k, t))) for v, k, t in batch]


def test_a_batch_writer_needs_the_values_to_be_the_nodes_ports():
    from rules_engine.nodes.actions import Alert, Publish

    alert = _Ported("a", {"name": "n", "severity": "info", "message": "m"}, {"p": 1.0})
    command = _Ported("c", {"topic": "t", "payload": "{p}"}, {"p": 1.0})
    assert Alert().make_texts(alert, ["p"]) is not None and Publish().make_texts(command, ["p"]) is not None
    assert Alert().make_texts(alert, ["p", "q"]) is None and Publish().make_texts(command, []) is None
    assert Alert().make_texts(_Node("a", alert.params), ["p"]) is None  # a node that does not know its ports
