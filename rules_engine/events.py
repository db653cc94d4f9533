"""From messages to events: topic matching, keys, event time, schema checks, reject counts.

Every engine (reference, compiled, the edge agent) decodes messages with this one class, so
they accept and reject exactly the same events.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .patterns import SchemaValidator
from .plan import Plan
from .schema_check import compile_schema

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "REJECT_REASONS",
    "Decoder",
    "Event",
    "Stats",
    "filter_pattern",
    "loads",
    "topic_matches",
]

_NOT_JSON = object()

REJECT_REASONS = ("not_json", "not_object", "schema", "key")
MAX_PAYLOAD_BYTES = 256 * 1024
ROUTE_CACHE = 1 << 16  # topics whose matching sources are remembered (~200 bytes each)

_scan_once = json.JSONDecoder().scan_once  # the scanner json.loads uses, with its defaults


def loads(data: bytes) -> Any:
    """``json.loads(data)``: the same value or the same exception, faster for the usual payload
    (UTF-8, an object, nothing after it). Such bytes are what ``json.loads`` decodes as UTF-8
    (its encoding detection only looks further when the first or second byte is NUL or a BOM),
    and a value that ends at the end of the text needs none of its whitespace skipping; anything
    else is left to ``json.loads`` itself."""
    if len(data) > 1 and data[0] == 0x7B and data[1]:  # '{', and not UTF-16/32
        try:
            text = data.decode("utf-8", "surrogatepass")
            value, end = _scan_once(text, 0)
        except (ValueError, StopIteration, RecursionError):
            return json.loads(data)  # its verdict and its exception
        if end == len(text):
            return value
    return json.loads(data)


def loads_line(text: str) -> Any:
    """``json.loads(text)`` for a line of text: the same value or the same exception, faster for
    the usual line (an object, then at most the line's end)."""
    if text[:1] == "{":
        try:
            value, end = _scan_once(text, 0)
        except (ValueError, StopIteration, RecursionError):
            return json.loads(text)  # its verdict and its exception
        if end == len(text) or text[end:] in ("\n", "\r\n"):
            return value
    return json.loads(text)


def topic_matches(filter_levels: list[str], topic_levels: list[str]) -> bool:
    """MQTT topic filter matching (+ one level, # the rest, $-topics never by a wildcard)."""
    if topic_levels and topic_levels[0].startswith("$") and filter_levels[0] in ("+", "#"):
        return False
    for i, f in enumerate(filter_levels):
        if f == "#":
            return True
        if i >= len(topic_levels):
            return False
        if f != "+" and f != topic_levels[i]:
            return False
    return len(filter_levels) == len(topic_levels)


def filter_pattern(filter_levels: list[str]) -> re.Pattern[str]:
    """A regex that fullmatches the topics ``topic_matches(filter_levels, ...)`` matches, each
    level of the filter before a ``#`` captured (group i + 1 is level i): one C call a topic
    rather than a Python loop over its levels (differentially tested)."""
    parts, rest = [], ""
    for i, f in enumerate(filter_levels):
        if f == "#":  # the rest, the parent level included ("a/#" matches "a")
            rest = ".*" if i == 0 else "(?:/.*)?"
            break
        parts.append("([^/]*)" if f == "+" else "(" + re.escape(f) + ")")
    guard = r"(?!\$)" if filter_levels[0] in ("+", "#") else ""  # $-topics never by a wildcard
    return re.compile(guard + "/".join(parts) + rest, re.DOTALL)


@dataclass(slots=True)
class Event:
    source: int  # index of the source among the plan's sources
    key: str
    ts: float  # epoch milliseconds
    record: dict


@dataclass
class Stats:
    messages: int = 0
    events: int = 0
    accepted: int = 0
    rejected: Counter = field(default_factory=Counter)
    unmatched: int = 0
    actions: int = 0

    def to_json(self) -> dict:
        return {
            "messages": self.messages,
            "events": self.events,
            "accepted": self.accepted,
            "rejected": {r: self.rejected[r] for r in REJECT_REASONS if self.rejected[r]},
            "unmatched": self.unmatched,
            "actions": self.actions,
        }


class _SourceDecoder:
    def __init__(self, index: int, params: dict):
        self.index = index
        self.schema = params["schema"]
        self.filter = params["topic"].split("/")
        self.pattern = filter_pattern(self.filter)
        # A compiled predicate where the schema allows (the same verdicts, ~20x faster), else jsonschema.
        self.is_valid = compile_schema(params["schema"]) or SchemaValidator(params["schema"]).is_valid
        self.ts_field = params.get("ts_field", "ts")
        key = params["key"]
        self.key_level = int(key[6:]) if key.startswith("topic:") else None
        self.key_field = key[8:] if key.startswith("payload:") else None
        # The key's level is captured by the pattern, unless it lies in what a "#" matches.
        fixed = self.filter.index("#") if "#" in self.filter else len(self.filter)
        self._key_group = self.key_level + 1 if self.key_level is not None and self.key_level < fixed else None

    def read_topic(self, topic: str) -> tuple[bool, str | None]:
        """Whether this source reads ``topic``, and the key a ``topic:N`` source takes from it
        (None: a payload key, or too few levels)."""
        m = self.pattern.fullmatch(topic)
        if m is None:
            return False, None
        if self._key_group is not None:
            return True, m.group(self._key_group)
        if self.key_level is None:
            return True, None
        levels = topic.split("/")
        return True, levels[self.key_level] if self.key_level < len(levels) else None

    def payload_key(self, payload: dict) -> str | None:
        """The key a ``payload:FIELD`` source takes from the payload (None: none there, or a topic key)."""
        if self.key_field is None:
            return None
        value = payload.get(self.key_field)
        if type(value) is str:
            return value
        if type(value) is int:
            return str(value)
        return None

    def ts_of(self, payload: dict, arrival_ms: float) -> float:
        if self.ts_field is None:
            return arrival_ms
        value = payload.get(self.ts_field)
        t = type(value)
        if t is int:
            try:
                value = float(value)
            except OverflowError:
                return arrival_ms
            return value if math.isfinite(value) else arrival_ms
        if t is float and math.isfinite(value):
            return value
        return arrival_ms


class Decoder:
    """Turns one message into its events (one per matching source, in ``nodes`` order)."""

    def __init__(self, plan: Plan):
        self.sources = [_SourceDecoder(i, s.params) for i, s in enumerate(plan.sources)]
        self.stats = Stats()
        # topic → [(source, the key its topic gives or None)]: a topic is matched and keyed once,
        # not per message.
        self._routes: dict[str, list[tuple[_SourceDecoder, str | None]]] = {}
        # topic → what decode_bytes needs for a routed topic that one source reads and keys
        self._fast: dict[str, tuple[int, str, Callable[[Any], bool], str | None, _SourceDecoder]] = {}

    def decode_bytes(self, topic: str, data: bytes, arrival_ms: float) -> list[Event]:
        """Like :meth:`decode`, for a payload as it comes off the wire. A payload that is not
        UTF-8 JSON, or larger than MAX_PAYLOAD_BYTES, is rejected as ``not_json``.

        The usual message (a topic one source reads and keys, an object that ``loads`` decodes at
        its first try) is decoded here in one call: this runs for every message the agent reads.
        The rest goes the general way, with the same verdicts (tests/test_events_loads.py)."""
        fast = self._fast.get(topic)
        if fast is not None and 1 < len(data) <= MAX_PAYLOAD_BYTES and data[0] == 0x7B and data[1]:
            try:
                text = data.decode("utf-8", "surrogatepass")
                value, end = _scan_once(text, 0)
            except (ValueError, StopIteration, RecursionError):
                end, text = -1, ""
            if end == len(text):  # loads would return this object
                index, key, is_valid, ts_field, src = fast
                stats = self.stats
                stats.messages += 1
                stats.events += 1
                if not is_valid(value):
                    stats.rejected["schema"] += 1
                    return []
                stats.accepted += 1
                ts = value.get(ts_field) if ts_field is not None else None
                if type(ts) is not float or ts - ts != 0.0:  # not a finite float: the general rule
                    ts = src.ts_of(value, arrival_ms)
                return [Event(index, key, ts, value)]
        payload: Any = _NOT_JSON
        if len(data) <= MAX_PAYLOAD_BYTES:
            # NaN and Infinity tokens are accepted: devices send them. A bare try: contextlib's
            # suppress costs ~1 µs a message here.
            try:  # noqa: SIM105
                payload = loads(data)
            except (ValueError, RecursionError):
                pass
        return self.decode(topic, payload, arrival_ms)

    def route(self, topic: str) -> list[tuple[_SourceDecoder, str | None]]:
        """The sources that read ``topic``, each with the key the topic gives it (None: none)."""
        matched = self._routes.get(topic)
        return self._route(topic) if matched is None else matched

    def match(self, topic: str) -> list[tuple[_SourceDecoder, str | None]]:
        """``route``, not remembered: for a caller that remembers routes its own way."""
        matched = []
        for src in self.sources:
            reads, key = src.read_topic(topic)
            if reads:
                matched.append((src, key))
        return matched

    def _route(self, topic: str) -> list[tuple[_SourceDecoder, str | None]]:
        matched = self.match(topic)
        if len(self._routes) >= ROUTE_CACHE:
            self._routes.clear()
            self._fast.clear()
        self._routes[topic] = matched
        if len(matched) == 1 and matched[0][1] is not None:  # one source, keyed by the topic
            src, key = matched[0]
            self._fast[topic] = (src.index, key, src.is_valid, src.ts_field, src)
        return matched

    def decode(self, topic: str, payload: Any, arrival_ms: float) -> list[Event]:
        stats = self.stats
        stats.messages += 1
        matched = self._routes.get(topic)
        if matched is None:
            matched = self._route(topic)
        if not matched:
            stats.unmatched += 1
            return []
        events = []
        for src, topic_key in matched:
            stats.events += 1
            if type(payload) is not dict:
                stats.rejected["not_json" if payload is _NOT_JSON else "not_object"] += 1
                continue
            if not src.is_valid(payload):
                stats.rejected["schema"] += 1
                continue
            key = topic_key if topic_key is not None else src.payload_key(payload)
            if key is None:
                stats.rejected["key"] += 1
                continue
            stats.accepted += 1
            # The usual time stamp (a finite float: x - x is 0.0 for those alone) without a call.
            ts = payload.get(src.ts_field) if src.ts_field is not None else None
            if type(ts) is not float or ts - ts != 0.0:
                ts = src.ts_of(payload, arrival_ms)
            events.append(Event(src.index, key, ts, payload))
        return events
