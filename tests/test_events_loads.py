"""``rules_engine.events.loads`` is ``json.loads`` made faster for the usual payload: the same
value or the same exception for any bytes, which this checks differentially."""

from __future__ import annotations

import json
import math

from hypothesis import given, settings
from hypothesis import strategies as st

from rules_engine.events import loads

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


def test_the_edge_cases_by_name():
    for data in [b'{"a": NaN}', b'{"a": 1} ', b'{"a": "\\ud800"}', b"{\x00}", b"{", b'{"a": 1}{', b"\xef\xbb\xbf{}"]:
        same(data)
    assert math.isnan(loads(b'{"a": NaN}')["a"])
