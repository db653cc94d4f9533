"""``rules_engine.events.loads`` is ``json.loads`` made faster for the usual payload: the same
value or the same exception for any bytes, which this checks differentially; ``loads_line`` the
same for a trace's line of text; a source's topic pattern matches what ``topic_matches`` does."""

from __future__ import annotations

import json
import math
from types import SimpleNamespace

from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.events import Decoder, _SourceDecoder, filter_pattern, loads, loads_line, topic_matches

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def outcome(fn, data: bytes):
    try:
        return ("value", json.dumps(fn(data), sort_keys=True, default=repr))
    except Exception as exc:  # the exception's type and text are what is compared
        return ("error", type(exc).__name__, str(exc))


def same(data: bytes) -> None:
    assert outcome(loads, data) == outcome(json.loads, data), data


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.sampled_from(["", " ", "\n", "x", "}", "{}"]), st.sampled_from(["utf-8", "utf-16", "utf-32"]))
def test_any_document_decodes_as_json_loads_decodes_it(value, tail, encoding):
    text = json.dumps({"v": value}) + tail
    same(text.encode(encoding))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=40))
def test_any_bytes_get_json_loads_verdict(data):
    same(b"{" + data)
    same(data)


def same_line(text: str) -> None:
    assert outcome(loads_line, text) == outcome(json.loads, text), text


@settings(max_examples=400, deadline=None)
@given(JSON_VALUES, st.sampled_from(["", " ", "\n", "\r\n", "\n\n", " \n", "x", "}", "{}", "\n{}"]))
def test_any_line_decodes_as_json_loads_decodes_it(value, tail):
    same_line(json.dumps({"v": value}) + tail)
    same_line(json.dumps(value) + tail)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=40))
def test_any_text_gets_json_loads_verdict(text):
    same_line("{" + text)
    same_line(text)


def test_the_edge_cases_by_name():
    for text in ['{"a": NaN}\n', "{", '{"a": 1}{', "\ufeff{}", '{"a": "\\ud800"}\n', "{}\r\n", "{}\r", "{}\t\n"]:
        same_line(text)
    for data in [b'{"a": NaN}', b'{"a": 1} ', b'{"a": "\\ud800"}', b"{\x00}", b"{", b'{"a": 1}{', b"\xef\xbb\xbf{}"]:
        same(data)
    assert math.isnan(loads(b'{"a": NaN}')["a"])


JSON_NUMBERS = st.from_regex(r"-?(0|[1-9][0-9]{0,24})(\.[0-9]{1,24})?([eE][+-]?[0-9]{1,3})?", fullmatch=True)


@settings(max_examples=600, deadline=None)
@given(JSON_NUMBERS, st.booleans())
def test_any_number_reads_as_json_loads_reads_it(number, nested):
    # Bit for bit: floats are compared through their repr, integers stay integers however large.
    text = f'{{"v": [{number}]}}' if nested else f'{{"v": {number}, "w": 1}}'
    same(text.encode())


def test_integers_beyond_64_bits_stay_integers():
    for n in (2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30, -(10**30)):
        for text in (f'{{"v": {n}}}', f'{{"v": {{"w": [{n}]}}}}', f"[{n}]", str(n)):
            same(text.encode())
        value = loads(f'{{"v": {n}}}'.encode())["v"]
        assert type(value) is int and value == n


def test_deep_documents_get_json_loads_verdict():
    for depth in (1, 50, 199, 200, 201, 500, 990, 1000, 1100, 5000):
        same(b'{"v": ' + b"[" * depth + b"1" + b"]" * depth + b"}")
        same(b"[" * depth + b"]" * depth)
        same(b'{"v": ' + b'{"w": ' * depth + b"1" + b"}" * depth + b"}")


# --- Decoder.decode_bytes: its one-call path for the usual message gives decode's verdicts -----

SOURCES = [  # topic-keyed (the fast path), payload-keyed, two sources on one topic, no ts field
    {"topic": "site/+/forklift/+/telemetry", "key": "topic:3", "schema": {"type": "object", "required": ["v"]}},
    {"topic": "plant/line", "key": "payload:id", "schema": {"type": "object"}},
    {"topic": "both/+", "key": "topic:1", "schema": {"type": "object"}, "ts_field": "t"},
    {"topic": "both/#", "key": "topic:1", "schema": {"type": "object", "properties": {"v": {"type": "number"}}}},
    {"topic": "clock/+", "key": "topic:1", "schema": {"type": "object"}, "ts_field": None},
]
TOPICS = ["site/s1/forklift/f7/telemetry", "site/s1/forklift", "plant/line", "both/a", "clock/c", "other"]
PAYLOADS = st.one_of(
    st.dictionaries(
        st.sampled_from(["v", "id", "ts", "t", "x"]),
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=4),
        max_size=4,
    ).map(lambda d: json.dumps(d).encode()),
    st.binary(max_size=24),
    st.sampled_from([b"{", b"{}", b"{} ", b'{"v":1}x', b'{"v":NaN,"ts":Infinity}', b"\xff{}", b'{"v":"\xed\xa0\x80"}']),
)


class _Forgets(dict):
    def __setitem__(self, key, value) -> None:  # nothing is remembered: every message goes the general way
        pass


def decoder(fast: bool) -> Decoder:
    dec = Decoder(SimpleNamespace(sources=[SimpleNamespace(params=s) for s in SOURCES]))
    if not fast:
        dec._fast = _Forgets()
    return dec


def seen(events) -> list[tuple]:
    return [(e.source, e.key, e.ts, json.dumps(e.record, default=repr)) for e in events]


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(TOPICS), PAYLOADS), max_size=12))
def test_decode_bytes_gives_the_general_paths_events_and_counts(messages):
    fast, general = decoder(True), decoder(False)
    messages = [(TOPICS[0], b'{"v":1,"ts":2.5}'), *messages]
    for topic, data in messages + messages:  # topics seen before take the one-call path
        assert seen(fast.decode_bytes(topic, data, 5.0)) == seen(general.decode_bytes(topic, data, 5.0)), (topic, data)
    assert fast.stats.to_json() == general.stats.to_json()
    assert TOPICS[0] in fast._fast and not general._fast  # the one-call path was there to take


LEVELS = st.sampled_from(["a", "b", "", "$SYS", "$", "x.y", "a+b", "é", "\n", "(.*)"])
FILTERS = st.lists(LEVELS | st.sampled_from(["+", "#"]), min_size=1, max_size=5)


@st.composite
def filters_and_topics(draw):
    """A filter, and a topic that is often one of its instances (wildcards filled in), else any."""
    filter_levels = draw(FILTERS)
    if draw(st.booleans()):
        return filter_levels, draw(st.lists(LEVELS, min_size=1, max_size=6))
    topic: list[str] = []
    for f in filter_levels:
        if f == "#":
            topic += draw(st.lists(LEVELS, max_size=2))
            break
        topic.append(draw(LEVELS) if f == "+" else f)
    return filter_levels, topic or [""]


@settings(max_examples=1000, deadline=None)
@given(filters_and_topics(), st.integers(0, 6))
def test_a_topic_filters_pattern_matches_and_keys_what_topic_matches_does(filter_and_topic, key_level):
    filter_levels, topic_levels = filter_and_topic
    topic = "/".join(topic_levels)
    matches = topic_matches(filter_levels, topic_levels)
    assert (filter_pattern(filter_levels).fullmatch(topic) is not None) == matches
    schema = {"type": "object"}
    source = _SourceDecoder(0, {"topic": "/".join(filter_levels), "key": f"topic:{key_level}", "schema": schema})
    key = topic_levels[key_level] if key_level < len(topic_levels) else None
    assert source.read_topic(topic) == (matches, key if matches else None)
