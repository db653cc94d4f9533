"""``read_columns`` reads a trace as ``read_trace`` and ``Decoder`` do: the same events in the
same order with the same values, the same stats, and the same error at the same line, on hostile
traces (hypothesis): numbers of every form, escapes, control characters, other shapes, arrival
times that go backwards, topics of no source or of several, lines split across chunks."""

from __future__ import annotations

import io
import json
import math
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.events import Decoder
from rules_engine.trace import MAX_LINE_BYTES, Message, TraceError, read_trace
from rules_engine.trace_columns import CHUNK_BYTES, Columns, read_columns
from rules_engine.trace_columns import reader as column_reader

TELEMETRY = {
    "type": "object",
    "required": ["speed"],
    "properties": {
        "ts": {"type": "number"},
        "speed": {"type": "number", "minimum": 0, "maximum": 40},
        "count": {"type": "integer", "exclusiveMaximum": 100},
        "zone": {"enum": ["a", "b", "c", "é"]},
        "label": {"type": "string", "maxLength": 4},
        "on": {"type": "boolean"},
        "level": {"enum": [1, 2.5, "x"]},
    },
}
SOURCES = {
    "one": [{"topic": "site/+/dev/+/telemetry", "key": "topic:3", "schema": TELEMETRY}],
    "closed": [
        {
            "topic": "site/+/dev/+/telemetry",
            "key": "topic:3",
            "ts_field": "t2",
            "schema": {**TELEMETRY, "additionalProperties": False},
        }
    ],
    "two": [
        {"topic": "site/+/dev/+/telemetry", "key": "topic:3", "schema": TELEMETRY},
        {"topic": "site/s2/#", "key": "payload:label", "schema": True},
        {"topic": "other/+", "key": "topic:1", "schema": {"type": "object", "properties": {"speed": {"minimum": 3}}}},
    ],
    "not column-wise": [
        {"topic": "site/+/dev/+/telemetry", "key": "topic:3", "schema": {"allOf": [TELEMETRY]}},
    ],
    # Keys from the payload: a string, an integer's text; none from a float, a literal, or absent.
    "keyed by payload": [{"topic": "site/+/dev/+/telemetry", "key": "payload:label", "schema": TELEMETRY}],
    "keyed by a payload number": [{"topic": "site/#", "key": "payload:count", "schema": {"type": "object"}}],
    "keyed by a level not always there": [{"topic": "site/#", "key": "topic:4", "schema": TELEMETRY}],
}


def decoder(sources: str) -> Decoder:
    return Decoder(SimpleNamespace(sources=[SimpleNamespace(params=s) for s in SOURCES[sources]]))


SOURCES["property named ''"] = [
    {
        "topic": "a/+",
        "key": "topic:1",
        "schema": {"type": "object", "properties": {"": {"type": "number"}}, "additionalProperties": False},
    }
]


def _value(v) -> tuple:
    """A payload value as the engines read it: numbers as floats (ints too), others as they are."""
    if type(v) in (int, float):
        try:
            return ("number", repr(float(v)))
        except OverflowError:
            return ("big", v)
    if isinstance(v, (dict, list)):
        return ("json", json.dumps(v, sort_keys=True))
    return (type(v).__name__, v)


def _event(source: int, key: str, ts: float, payload: dict) -> tuple:
    return (source, key, repr(ts), sorted((k, _value(v)) for k, v in payload.items()))


def _rows(c: Columns) -> list[tuple]:
    out = []
    for i in range(len(c)):
        payload = {k: float(v[i]) for k, v in c.numbers.items()}
        payload |= {k: distinct[index[i]] for k, (distinct, index) in c.strings.items()}
        payload |= c.constants
        out.append(_event(c.source, c.keys[c.key_index[i]], float(c.ts[i]), payload))
    return out


def _error(exc: Exception) -> tuple:
    if isinstance(exc, UnicodeDecodeError):
        return ("not UTF-8", exc.start)
    return ("trace", str(exc))


def by_reference(sources: str, data: bytes) -> tuple[list, dict, tuple | None]:
    dec, events, error = decoder(sources), [], None
    try:
        for m in read_trace(io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"), "t.jsonl"):
            events += [_event(e.source, e.key, e.ts, e.record) for e in dec.decode(m.topic, m.payload, m.arrival_ms)]
    except TraceError as exc:
        error = _error(exc)
    return events, dec.stats.to_json(), error


def by_columns(sources: str, data: bytes, chunk: int = CHUNK_BYTES, min_run: int = 1) -> tuple[list, dict, tuple]:
    """The events read as columns, even a line's run (min_run=1): the shortest runs test most."""
    dec, events, error = decoder(sources), [], None
    try:
        for item in read_columns(dec, io.BytesIO(data), "t.jsonl", chunk, min_run):
            if isinstance(item, Message):
                events += [
                    _event(e.source, e.key, e.ts, e.record)
                    for e in dec.decode(item.topic, item.payload, item.arrival_ms)
                ]
            else:
                events += _rows(item)
    except (TraceError, UnicodeDecodeError) as exc:
        error = _error(exc)
    return events, dec.stats.to_json(), error


def check(sources: str, data: bytes, chunk: int = CHUNK_BYTES) -> None:
    got = by_columns(sources, data, chunk)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The text reader fails a block at a time, before lines ahead of the bad byte; ours
        # answers every line before the bad one, then names the byte's place in the trace.
        before = data[: data.rfind(b"\n", 0, exc.start) + 1]
        want = by_reference(sources, before)
        if want[2] is None:
            want = (want[0], want[1], ("not UTF-8", exc.start))
    else:
        want = by_reference(sources, data)
    assert got[2] == want[2], "errors differ"
    assert got[1] == want[1], "stats differ"
    assert got[0] == want[0], "events differ"


# --- hostile traces -----------------------------------------------------------------------------------
NUMBER_TOKENS = [
    "0", "-0", "-0.0", "0.0", "1", "12.5", "39.99", "40", "40.000001", "-3", "7.25e1", "1E-2", "1e+1", "2.5E0",
    "01", "1.", ".5", "+1", "--1", "1e", "1.2.3", "-", "1-2", "0x10", "1_0",
    "9007199254740991", "9007199254740992", "-9007199254740993", "1e400", "-1e400", "5e-324",
    "123456789012345678901234567890", "0.1000000000000000055511151231257827", "3.141592653589793",
    "1.7976931348623157e308", "NaN", "Infinity", "-Infinity", "99", "100", "99.5", "1700000000000",
]  # fmt: skip
STRING_TOKENS = ['"a"', '"b"', '"c"', '"é"', '"d"', '""', '"abcd"', '"abcde"', '"a\\u0062"', '"\\"q"', '"tab\there"',
                 '"x"', '"' + "z" * 300 + '"']  # fmt: skip
LITERALS = ["true", "false", "null"]
TOPICS = ['"site/s1/dev/d1/telemetry"', '"site/s1/dev/d2/telemetry"']
ODD_TOPICS = [
    *TOPICS, '"site/s2/dev/d1/telemetry"', '"site/s1/dev/d3/telemetry"', '"other/x"', '"nobody"', '""', "5",
    '"site/s1/dev/d\\u0031/telemetry"',
]  # fmt: skip
FIELDS = ["ts", "speed", "count", "zone", "label", "on", "level", "extra", "t2"]


@st.composite
def value_token(draw, kind: str) -> str:
    """A value of the field's kind in the trace, and now and then of any kind."""
    if draw(st.integers(0, 30)) == 0:
        kind = draw(st.sampled_from(["number", "string", "literal", "hostile"]))
    if kind == "string":
        return draw(st.sampled_from(STRING_TOKENS))
    if kind == "literal":
        return draw(st.sampled_from(LITERALS))
    if kind == "hostile":
        return draw(st.sampled_from(NUMBER_TOKENS))
    form = draw(st.integers(0, 6))
    if form == 6:
        return draw(st.sampled_from(NUMBER_TOKENS))
    if form == 0:
        return repr(draw(st.floats(allow_nan=False, allow_infinity=False)))
    if form == 1:
        return str(draw(st.integers(-(2**60), 2**60) if draw(st.integers(0, 5)) == 0 else st.integers(-5, 120)))
    return f"{draw(st.floats(-5, 45)):.{draw(st.integers(0, 3))}f}"


@st.composite
def traces(draw) -> bytes:
    """Lines that mostly share a shape (so that runs of them are read as columns), with values of
    every kind, and now and then a line of another shape or a broken one."""
    fields = draw(st.lists(st.sampled_from(FIELDS), min_size=1, max_size=6, unique=True))
    if "speed" not in fields and draw(st.integers(0, 4)):  # the required field, mostly there
        fields.insert(draw(st.integers(0, len(fields))), "speed")
    kinds = {f: draw(st.sampled_from(["number", "number", "string", "literal"])) for f in fields}
    if "speed" in kinds and draw(st.integers(0, 5)):
        kinds["speed"] = "number"
    colon, comma = draw(st.sampled_from([(":", ","), (": ", ", "), (" : ", " ,")]))
    with_arrival = draw(st.booleans())
    arrival = 0
    lines = []
    for _ in range(draw(st.integers(1, 60))):
        topics = ODD_TOPICS if draw(st.integers(0, 5)) == 0 else TOPICS
        topic = draw(st.sampled_from(topics))
        payload = comma.join(f'"{f}"{colon}{draw(value_token(kinds[f]))}' for f in fields)
        parts = [f'"topic"{colon}{topic}', f'"payload"{colon}{{{payload}}}']
        if with_arrival:
            steps = [0, 1, 1, 5, 100] if draw(st.integers(0, 40)) else [-1, -50]  # now and then backwards
            arrival += draw(st.sampled_from(steps))
            token = str(arrival)
            if draw(st.integers(0, 30)) == 0:
                token = draw(st.sampled_from([f"{arrival}.5", "null", '"5"', "1e400", f"{arrival}e0"]))
            parts.append(f'"arrival_ms"{colon}{token}')
        line = "{" + comma.join(parts) + "}"
        odd = draw(st.integers(0, 60))  # now and then a line of another shape, or a broken one
        if odd == 0:
            line = draw(
                st.sampled_from(
                    ["", "   ", '{"topic": "site/s1/dev/d1/telemetry"}',
                     '{"topic": "site/s1/dev/d1/telemetry", "payload": [1]}',
                     '{"topic": "site/s1/dev/d1/telemetry", "payload": {"speed": 1, "speed": 2}}',
                     '{"topic": "site/s1/dev/d1/telemetry", "payload": {"speed": {"deep": 1}}}',
                     '{"payload": {"speed": 1}, "topic": "site/s1/dev/d2/telemetry", "x": [true]}',
                     '{"topic": "site/s1/dev/d1/telemetry", "payload": {"speed": NaN}}']
                )
            )  # fmt: skip
        elif odd == 1 and draw(st.integers(0, 3)) == 0:  # these end the trace
            line = draw(st.sampled_from(["not json", "[1, 2]", line[: draw(st.integers(0, len(line)))]]))
        elif odd == 2 and draw(st.integers(0, 3)) == 0:
            line = line.replace("1", "\x01", 1)
        raw = line.encode("utf-8")
        if odd == 3 and draw(st.integers(0, 3)) == 0:
            raw = raw.replace(b"1", b"\xff", 1)
        ending = b"\r\n" if odd == 4 else b"\r" if odd == 5 else b"\n"
        lines.append(raw + ending)
    if draw(st.booleans()):
        lines[-1] = lines[-1].rstrip(b"\n")
    return b"".join(lines)


@pytest.mark.parametrize("sources", sorted(SOURCES))
@settings(max_examples=150, deadline=None)
@given(data=traces(), chunk=st.sampled_from([64, 300, 1 << 22]))
def test_a_trace_reads_as_read_trace_and_the_decoder_read_it(sources, data, chunk):
    check(sources, data, chunk)


def test_regular_lines_are_read_as_columns_and_only_the_odd_one_as_a_message():
    line = '{"topic":"site/s1/dev/d%d/telemetry","payload":{"ts":%d,"speed":%s,"zone":"a"},"arrival_ms":%d}\n'
    rows = [line % (i % 3, 1000 + i, f"{i * 0.37:.2f}", i) for i in range(100)]
    rows[50] = rows[50].replace('"a"', '"\\u0061"')  # the same value, escaped
    dec = decoder("one")
    items = list(read_columns(dec, io.BytesIO("".join(rows).encode()), "t"))
    assert [type(i).__name__ for i in items] == ["Columns", "Message", "Columns"]
    assert [len(i) for i in items if isinstance(i, Columns)] == [50, 49]
    check("one", "".join(rows).encode())


def test_numbers_read_as_json_loads_reads_them():
    tokens = [t for t in NUMBER_TOKENS if t not in ("NaN", "Infinity", "-Infinity")]
    tokens += [repr(x) for x in (0.1, 1 / 3, 2.0**-1074, 1e22, 1e23, 123456.789e-5, -0.0)]
    line = '{"topic":"site/s/dev/k/telemetry","payload":{"speed":1,"ts":%s}}\n'
    for t in tokens:
        data = (line % "5" + line % t + line % "7").encode()  # the first line's shape, a number in it
        check("one", data)
        events, _, _ = by_columns("one", data)
        try:
            want = float(json.loads(t))
        except (ValueError, OverflowError):
            continue
        if math.isfinite(want):
            assert events[1][2] == repr(want), t


def test_a_line_with_quotes_where_its_shape_has_a_value_is_read_the_usual_way():
    """Its stretches may all match (the last one read from the line's end), but the value between
    them would hold quotes: only the quote count tells it from the shape."""
    shape = '{"topic":"site/s1/dev/d1/telemetry","payload":{"speed":1,"label":"ab"}}\n'
    twice = '{"topic":"site/s1/dev/d1/telemetry","payload":{"speed":1,"label":"a","label":"b"}}\n'
    check("one", (shape + twice + shape).encode())
    events = by_columns("one", (shape + twice).encode())[0]
    assert events[1][3] == [("label", ("str", "b")), ("speed", ("number", "1.0"))]  # json.loads: the last


def test_lines_of_two_shapes_in_turn_are_not_read_a_line_a_batch():
    telemetry = '{"topic":"site/s1/dev/d%d/telemetry","payload":{"speed":%d}}\n'
    door = '{"topic":"site/s1/dev/d%d/telemetry","payload":{"on":true}}\n'
    data = "".join(telemetry % (i % 3, i) + door % (i % 3) for i in range(600)).encode()  # past the probe
    items = list(read_columns(decoder("one"), io.BytesIO(data)))
    assert all(isinstance(i, Message) for i in items)  # batched by the engine as they always were
    check("one", data)
    regular = "".join(telemetry % (i % 3, i % 40) for i in range(3000)).encode()
    assert [type(i).__name__ for i in read_columns(decoder("one"), io.BytesIO(regular))] == ["Columns"]
    check("one", data + regular)  # the probe sees two shapes in turn: the chunk the usual way
    rows = [telemetry % (i % 3, i) for i in range(40)]
    rows[20] = door % 1
    items = list(read_columns(decoder("one"), io.BytesIO("".join(rows).encode())))
    assert [type(i).__name__ for i in items] == ["Columns", "Message", "Columns"]


# --- found in review: each failed before its fix --------------------------------------------------------
def test_a_template_read_past_the_end_of_the_chunk_is_no_crash():
    check("one", b'{"topic":"a/b","payload":{"kkkkkkkkkkkkkkkkk":1}}\n{"topic":"a/b","payload":{"k":1}}\n')
    line = '{"topic":"site/s1/dev/d1/telemetry","payload":{"speed":%d,"label":"%s"}}\n'
    check("one", (line % (1, "abcdefghijklmnopq") + line % (2, "ab")).encode())
    check("one", b'{"payload":{},"topic":"site/s1/dev/d1/telemetry"}\n{"payload":{},"topic":"x"}\n')


def test_a_line_with_a_byte_order_mark_is_not_json():
    line = b'\xef\xbb\xbf{"topic":"site/s1/dev/d1/telemetry","payload":{"speed":1}}\n'
    check("one", line * 2)
    assert by_columns("one", line * 2)[2] == (
        "trace",
        "t.jsonl:1: not JSON: Unexpected UTF-8 BOM (decode using utf-8-sig) at column 1",
    )


def test_a_line_of_the_longest_length_counts_its_newline():
    head = b'{"topic":"site/s1/dev/d1/telemetry","payload":{"speed":1},"pad":"'
    line = head + b"x" * (MAX_LINE_BYTES - len(head) - 2) + b'"}'
    assert len(line) == MAX_LINE_BYTES
    check("one", line + b"\n")  # one byte too long with its newline
    check("one", line[:-3] + b'"}\n')


def test_a_trace_with_no_line_end_in_sight_is_read_the_usual_way(monkeypatch):
    monkeypatch.setattr(column_reader, "LONGEST_LINE", 500)
    line = '{"topic":"site/s1/dev/d1/telemetry","payload":{"speed":1,"label":"é"}}'
    for chunk in (64, 1000):
        check("one", ((line + "\n") * 3 + (line + "\r") * 40 + line).encode(), chunk)  # lines ended by \r alone
        check("one", ((line + "\n") * 3 + '{"topic":"x' + "é" * 400 + '"}\n' + line + "\n").encode(), chunk)


def test_a_property_named_as_nothing_is_a_property():
    check("property named ''", b'{"topic":"a/b","payload":{"":1}}\n' * 2)
    assert by_columns("property named ''", b'{"topic":"a/b","payload":{"":1}}\n' * 2)[1]["accepted"] == 2


def test_lines_ended_by_crlf_are_read_as_columns():
    line = '{"topic":"site/s1/dev/d%d/telemetry","payload":{"speed":%d,"label":"ab"}}\r\n'
    data = "".join(line % (i % 3, i % 45) for i in range(40)).encode()
    items = list(read_columns(decoder("one"), io.BytesIO(data)))
    assert [type(i).__name__ for i in items] == ["Columns"]
    check("one", data)
    check("one", data[:-2] + b"\r")  # a last line ended by \r alone
    check("one", data.replace(b"}\r\n", b"}\r\r\n", 1))  # a lone \r, then a \r\n


@pytest.mark.parametrize("routes", [2, 5, 1 << 20])
def test_a_reader_that_forgets_its_routes_reads_the_same(monkeypatch, routes):
    # The reader remembers topics' routes and keys for the whole trace, up to ROUTES of them;
    # here it forgets them at almost every chunk, or now and then, or never.
    monkeypatch.setattr(column_reader, "ROUTES", routes)
    line = '{"topic":"%s/s1/dev/d%d/telemetry","payload":{"ts":%d,"speed":%d,"label":"x"}}\n'
    data = "".join(line % ("other" if i % 7 == 0 else "site", i % 4, i, i % 9) for i in range(300)).encode()
    for chunk in (300, 1000, CHUNK_BYTES):
        check("two", data, chunk)
        check("one", data, chunk)


@pytest.mark.parametrize(
    ("sources", "label", "count", "keyless"),
    [
        ("keyed by payload", lambda i: f'"k{i % 5}"', lambda i: "1", 0),  # strings
        ("keyed by a payload number", lambda i: '"a"', lambda i: ["7", "7.0", "-0", "1e1", "12", "-3"][i % 6], 20),
        ("keyed by a payload number", lambda i: '"a"', lambda i: "null", 60),  # a literal: no key
    ],
)
def test_keys_from_the_payload_are_read_as_columns(sources, label, count, keyless):
    line = '{"topic":"site/s1/dev/d%d/telemetry","payload":{"ts":%d,"speed":5,"label":%s,"count":%s}}\n'
    data = "".join(line % (i % 3, 1000 + i, label(i), count(i)) for i in range(60)).encode()
    items = list(read_columns(decoder(sources), io.BytesIO(data), "t"))
    assert [type(i).__name__ for i in items] == (["Columns"] if keyless < 60 else [])
    check(sources, data)
    assert by_columns(sources, data)[1]["rejected"] == ({"key": keyless} if keyless else {})
