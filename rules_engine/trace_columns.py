"""Trace lines decoded straight into columns, for the engines that evaluate batches.

``read_trace`` and ``Decoder`` make Python objects for every line (dicts for the JSON, an Event
for the message): ~6 µs a line, most of a compiled replay's time. A recorded trace's lines mostly
have one shape: the same keys in the same order; only numbers and strings differ. This reader
takes the shape of a line (its *template*), finds with numpy the lines of a chunk that have
exactly that shape, and reads their values as columns. The Decoder's verdicts (routing, schema,
keys, event times, stats) are then made column by column.

Every other line goes the usual way, as a :class:`Message` in its place in the stream: escapes,
control characters, another shape, a number that is not below 2**53 in magnitude, a topic that
several sources read or that keys by payload, arrival times that go backwards. So the events,
their order, the stats and every error are those of ``read_trace`` and ``Decoder``
(tests/test_trace_columns.py checks that on hostile traces).

Why a line of the template's shape is what ``json.loads`` reads: without backslashes, every ``"``
opens or closes a string. A line with the template's number of quotes, the template's keys
between them, the template's bytes between the strings except each number token, and a valid
JSON number in each number's place, is the template with other strings and numbers in it.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np

from .events import Decoder
from .schema_check import ANNOTATIONS, Predicate, compile_schema
from .trace import MAX_LINE_BYTES, Message, read_line

__all__ = ["CHUNK_BYTES", "Columns", "read_columns"]

CHUNK_BYTES = 1 << 22  # lines are read and matched ~4 MB at a time
MAX_STRING = 256  # a longer topic or payload string goes the usual way
EXACT = 2.0**53  # below this, a number's float64 compares with bounds as its JSON value does


@dataclass(slots=True)
class Columns:
    """Accepted events of one source, in arrival order, as columns of their payloads' values."""

    source: int
    keys: list[str]  # distinct keys
    key_index: np.ndarray  # int64: each event's index into keys
    ts: np.ndarray  # float64: each event's time
    numbers: dict[str, np.ndarray] = field(default_factory=dict)  # property → float64 values
    strings: dict[str, tuple[list[str], np.ndarray]] = field(default_factory=dict)  # → (distinct, index)
    constants: dict[str, bool | None] = field(default_factory=dict)  # property → the literal of every event

    def __len__(self) -> int:
        return len(self.ts)


# --- bytes as words ---------------------------------------------------------------------------------
PAD = 16  # zero bytes before and after a chunk, so that a word may be read at any of its bytes
_PADDING = bytes(PAD)


class _Bytes:
    """A chunk's bytes, and every 8 of them that start at each byte as one little-endian uint64."""

    def __init__(self, data: bytes):
        padded = b"".join((_PADDING, data, _PADDING))
        self.data = data
        self.buf = np.frombuffer(padded, np.uint8)[PAD : PAD + len(data)]
        self._words = np.ndarray((len(padded) - 7,), "<u8", padded, 0, (1,))  # overlapping, unaligned

    def words(self, at: np.ndarray) -> np.ndarray:
        """The 8 bytes at each position. A position outside the chunk reads its padding's zeros
        or its last word: only a template's reading past a line's end goes there, and such a
        line has already failed (its end, or the padding, stands where the template has a byte
        that is neither)."""
        return self._words[np.clip(at + PAD, 0, len(self._words) - 1)]


_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)


def _low_bytes(n: np.ndarray) -> np.ndarray:
    """Masks keeping the n (0..8) low bytes of a word."""
    n = np.clip(n, 0, 8).astype(np.uint64)
    return np.where(n == 8, _ONES, (np.uint64(1) << (np.uint64(8) * n)) - np.uint64(1))


# --- JSON numbers, a byte matrix at a time ---------------------------------------------------------
MAX_NUMBER = 16  # a longer number token goes the usual way
# Character classes: 0 the zero padding, 1 '0', 2 '1'-'9', 3 '-', 4 '+', 5 '.', 6 'e'/'E', 7 other.
_CLASS = np.full(256, 7, np.uint8)
_CLASS[0], _CLASS[ord("0")], _CLASS[ord("-")], _CLASS[ord("+")], _CLASS[ord(".")] = 0, 1, 3, 4, 5
_CLASS[ord("1") : ord("9") + 1] = 2
_CLASS[[ord("e"), ord("E")]] = 6
# States of -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? read right-aligned (padding first):
# 0 start, 1 '-', 2 a leading 0, 3 integer digits, 4 '.', 5 fraction digits, 6 'e', 7 exponent
# sign, 8 exponent digits, 9 done (after the end), 10 refused.
_DONE, _REFUSED = 9, 10
_NEXT = np.full((11, 8), _REFUSED, np.uint8)
_NEXT[0, [0, 1, 2, 3]] = [0, 2, 3, 1]
_NEXT[1, [1, 2]] = [2, 3]
_NEXT[2, [0, 5, 6]] = [_DONE, 4, 6]
_NEXT[3, [0, 1, 2, 5, 6]] = [_DONE, 3, 3, 4, 6]
_NEXT[4, [1, 2]] = 5
_NEXT[5, [0, 1, 2, 6]] = [_DONE, 5, 5, 6]
_NEXT[6, [1, 2, 3, 4]] = [8, 8, 7, 7]
_NEXT[7, [1, 2]] = 8
_NEXT[8, [0, 1, 2]] = [_DONE, 8, 8]
_NEXT8 = (8 * _NEXT).ravel()  # indexed by 8 × state + class, gives 8 × the next state
_POWERS = 10.0 ** np.arange(16)  # exact
_INT_POWERS = 10 ** np.arange(16, dtype=np.int64)
_ZEROS = np.uint64(0x3030303030303030)  # "00000000"


def _numbers(chunk: _Bytes, start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """JSON number tokens [start, end) → (their values as float(json.loads(token)) gives them, usable).

    The tokens right-aligned in one or two words, as a byte matrix (zeros before each token):
    checked by a finite automaton a column at a time, and read as integers (a matrix product by
    powers of ten) divided by a power of ten: exact operands, so one correctly rounded division,
    float()'s result. Exponents and 16-character tokens are left to numpy's parser."""
    n, length = len(start), end - start
    usable = (length >= 1) & (length <= MAX_NUMBER)
    wide = bool((length[usable] > 8).any())
    lo = chunk.words(end - 8) & ~_low_bytes(8 - length)
    matrix = np.stack([chunk.words(end - 16) & ~_low_bytes(16 - length), lo], axis=1) if wide else lo[:, None]
    matrix = matrix.view(np.uint8)  # little-endian words: the bytes in the trace's order
    width = matrix.shape[1]
    state = np.zeros(n, np.uint8)  # 8 × the automaton's state
    for column in np.ascontiguousarray(_CLASS[matrix].T):
        state = _NEXT8[state + column]
    usable &= _NEXT8[state] == 8 * _DONE  # the end, after the last column
    # The digits as one integer, the dot (and the padding, and a sign) read as a 0: 8 digits
    # a word at a time (SWAR, as simdjson does), the first digit in the lowest byte.
    digit = ((matrix >= ord("0")) & (matrix <= ord("9"))).view(np.uint64) * np.uint64(0xFF)
    eights = (matrix.view(np.uint64) & digit) | (_ZEROS & ~digit)
    eights = ((eights & np.uint64(0x0F0F0F0F0F0F0F0F)) * np.uint64(2561)) >> np.uint64(8)
    eights = ((eights & np.uint64(0x00FF00FF00FF00FF)) * np.uint64(6553601)) >> np.uint64(16)
    eights = (((eights & np.uint64(0x0000FFFF0000FFFF)) * np.uint64(42949672960001)) >> np.uint64(32)).astype(np.int64)
    digits = eights[:, 0] * 100_000_000 + eights[:, 1] if width == 16 else eights[:, 0]
    # The dot's column, from the words with a 1 in its byte (there is at most one dot).
    dots = (matrix == ord(".")).view(np.uint64)
    has_dot = (dots[:, 0] | dots[:, -1]) != 0
    with np.errstate(divide="ignore"):
        column = np.log2(dots[:, -1]) / 8 + (width - 8)
        if width == 16:
            column = np.where(dots[:, 0] != 0, np.log2(dots[:, 0]) / 8, column)
    fraction = np.where(has_dot, width - 1 - column, 0).astype(np.intp)  # digits after the dot
    scale = _INT_POWERS[fraction]
    after = digits % scale
    mantissa = np.where(has_dot, (digits - after) // 10 + after, digits)  # below 10**15: exact as floats
    values = mantissa / _POWERS[fraction]
    # "-0" is the integer 0 to json.loads, so +0.0 as a float ("-0.0" stays -0.0).
    negative = matrix[np.arange(n), np.clip(width - length, 0, width - 1)] == ord("-")
    values[negative & (has_dot | (mantissa != 0))] *= -1
    exponent = (((matrix | 0x20) == ord("e")).view(np.uint64) != 0).any(axis=1)
    other = usable & ((length > 15) | exponent)
    if other.any():
        rows = np.flatnonzero(other)
        text = np.array([chunk.data[a:b] for a, b in zip(start[rows].tolist(), end[rows].tolist(), strict=True)])
        with np.errstate(over="ignore"):
            values[rows] = text.astype(np.float64)  # correctly rounded, as float() is
    usable &= np.abs(values) < EXACT
    return values, usable


def _distinct(chunk: _Bytes, start: np.ndarray, end: np.ndarray) -> tuple[list[str], np.ndarray]:
    """The strings [start, end) of the rows (UTF-8, at most MAX_STRING bytes): (distinct values,
    each row's index). Rows are told apart by a hash of their words, then checked word by word."""
    length = end - start
    n_words = max(1, -(-int(length.max(initial=0)) // 8))
    words = np.empty((len(start), n_words), np.uint64)
    for j in range(n_words):
        words[:, j] = chunk.words(start + 8 * j) & _low_bytes(length - 8 * j)
    h = length.astype(np.uint64)
    for j in range(n_words):
        h = (h ^ words[:, j]) * np.uint64(0x100000001B3)
        h ^= h >> np.uint64(29)
    _, first, index = np.unique(h, return_index=True, return_inverse=True)
    index = index.ravel()
    if not ((words == words[first[index]]).all() and (length == length[first[index]]).all()):
        first, index = np.unique(  # a collision (never seen): the strings themselves
            np.array([chunk.data[a:b] for a, b in zip(start.tolist(), end.tolist(), strict=True)]),
            return_index=True,
            return_inverse=True,
        )[1:]
        index = index.ravel()
    return [
        chunk.data[a:b].decode("utf-8") for a, b in zip(start[first].tolist(), end[first].tolist(), strict=True)
    ], index


# --- the shape of a line ------------------------------------------------------------------------------
class _Pairs(list):
    """A JSON object as its (key, value) pairs, in document order, duplicates kept."""


_NUMBER_SEGMENT = re.compile(rb"(\s*:\s*)(-?[0-9][0-9.eE+-]*)(.*)", re.S)
Role = str | tuple[str, str] | None  # "topic", "arrival", ("payload", name), or None: not read


@dataclass
class _Template:
    """The shape of a line: stretches of fixed bytes, and between them the values.

    Each stretch is read from an anchor: 0 the line's start, 1..Q its quotes, Q + 1 its end. A
    line with the template's Q quotes whose stretches all match has its quotes where the
    template has them (a stretch holds consecutive quotes), so each value lies between the same
    two stretches: a string's content holds no quote, and a number is checked token by token."""

    quotes: int
    anchors: np.ndarray  # the anchors the stretches are read from
    fixed_anchor: np.ndarray  # the fixed bytes as words: the index of its anchor in anchors, ...
    fixed_offset: np.ndarray  # ... the offset from it, the bytes that count, their value
    fixed_mask: np.ndarray
    fixed_word: np.ndarray
    numbers: list[tuple[Role, int, int, int, int]]  # (role, anchor, offset, anchor, offset): [start, end)
    strings: list[tuple[Role, int, int, int, int]]  # the same, for a string's content
    payload_keys: list[str]
    constants: dict[str, bool | None]
    has_arrival: bool


def _template_of(line: bytes) -> _Template | None:
    """The shape of a trace line whose payload is an object of scalars, else None."""
    if len(line) > MAX_LINE_BYTES or b"\\" in line or any(b < 32 for b in line):
        return None
    try:
        doc = json.loads(line.decode("utf-8"), object_pairs_hook=_Pairs)  # text: no BOM skipped
    except (ValueError, RecursionError):  # UnicodeDecodeError too
        return None
    if type(doc) is not _Pairs:
        return None
    strings: list[tuple[bool, Any]] = []  # document order: (a key?, its text or the value's role)
    numbers: dict[int, Role] = {}  # index of a key in strings → the role of its number value
    constants: dict[str, bool | None] = {}

    def value(v: Any, role: Role) -> bool:
        if type(v) is str:
            strings.append((False, role))
        elif type(v) in (int, float):
            if not abs(v) < EXACT:  # NaN, infinities and huge numbers: the usual way
                return False
            numbers[len(strings) - 1] = role
        elif v is None or type(v) is bool:
            if role in ("topic", "arrival"):
                return False
            if role is not None:
                constants[role[1]] = v
        else:
            return False
        return True

    top = [k for k, _ in doc]
    if len(set(top)) != len(top) or "topic" not in top or "payload" not in top:
        return None
    payload_keys: list[str] = []
    for k, v in doc:
        strings.append((True, k))
        if k == "payload":
            if type(v) is not _Pairs:
                return None
            payload_keys = [pk for pk, _ in v]
            if len(set(payload_keys)) != len(payload_keys):
                return None
            for pk, pv in v:
                strings.append((True, pk))
                if not value(pv, ("payload", pk)):
                    return None
        elif not value(v, "topic" if k == "topic" else "arrival" if k == "arrival_ms" else None):
            return None
    if (False, "topic") not in strings or dict(doc)["topic"] == "":
        return None
    if "arrival_ms" in top and [r for r in numbers.values() if r == "arrival"] == []:
        return None
    quotes = [i for i, b in enumerate(line) if b == 0x22]
    if len(quotes) != 2 * len(strings):
        return None
    q = len(quotes)
    values: list[tuple[Role, bool, int, int]] = []  # (role, a number?, start, end) in the line
    for i, (is_key, what) in enumerate(strings):
        if not is_key:
            values.append((what, False, quotes[2 * i] + 1, quotes[2 * i + 1]))
        if i in numbers:  # the number after this key: between its closing quote and the next quote
            after = quotes[2 * i + 1] + 1
            m = _NUMBER_SEGMENT.fullmatch(line[after : quotes[2 * i + 2] if 2 * i + 2 < q else len(line)])
            if m is None:
                return None
            values.append((numbers[i], True, after + m.start(2), after + m.end(2)))
    values.sort(key=lambda v: v[2])
    # The stretches of fixed bytes around the values, each with its anchor: the first quote in
    # it, the line's start for the first, the line's end for the last.
    bounds = [0, *[x for _, _, a, b in values for x in (a, b)], len(line)]
    anchor_of = {pos: 1 + i for i, pos in enumerate(quotes)}
    stretches = []  # (anchor, its position in the line, start, end)
    for k, (a, b) in enumerate(zip(bounds[::2], bounds[1::2], strict=True)):
        if k == 0:
            anchor, at = 0, 0
        elif k == len(values):
            anchor, at = q + 1, len(line)
        else:
            inside = [pos for pos in quotes if a <= pos < b]
            if not inside:
                return None
            anchor, at = anchor_of[inside[0]], inside[0]
        stretches.append((anchor, at, a, b))
    used = sorted({anchor for anchor, _, _, _ in stretches})
    index = {anchor: i for i, anchor in enumerate(used)}
    fixed = [(index[anchor], pos - at, line[pos]) for anchor, at, a, b in stretches for pos in range(a, b)]
    slots = []
    for k, (role, is_number, a, b) in enumerate(values):
        left, right = stretches[k], stretches[k + 1]  # the value's end is the next stretch's start
        slots.append((role, is_number, index[left[0]], a - left[1], index[right[0]], b - right[1]))
    return _Template(
        quotes=q,
        anchors=np.array(used, np.intp),
        **_as_words(fixed),
        numbers=[(r, la, lo, ra, ro) for r, is_number, la, lo, ra, ro in slots if is_number],
        strings=[(r, la, lo, ra, ro) for r, is_number, la, lo, ra, ro in slots if not is_number and r is not None],
        payload_keys=payload_keys,
        constants=constants,
        has_arrival="arrival_ms" in top,
    )


def _as_words(fixed: list[tuple[int, int, int]]) -> dict[str, np.ndarray]:
    """Fixed bytes (anchor, offset, byte) as words of up to 8 bytes that follow each other."""
    runs: list[tuple[int, int, bytearray]] = []
    for anchor, offset, byte in fixed:
        if runs and runs[-1][0] == anchor and runs[-1][1] + len(runs[-1][2]) == offset and len(runs[-1][2]) < 8:
            runs[-1][2].append(byte)
        else:
            runs.append((anchor, offset, bytearray([byte])))
    return {
        "fixed_anchor": np.array([a for a, _, _ in runs], np.intp),
        "fixed_offset": np.array([o for _, o, _ in runs], np.int64),
        "fixed_mask": np.array([(1 << 8 * len(b)) - 1 for _, _, b in runs], np.uint64),
        "fixed_word": np.array([int.from_bytes(b, "little") for _, _, b in runs], np.uint64),
    }


@dataclass
class _Matched:
    """The lines of a chunk that have the template's shape, and their values."""

    lines: np.ndarray  # their indices in the chunk, ascending
    numbers: dict[Role, np.ndarray]
    strings: dict[Role, tuple[list[str], np.ndarray]]
    # Set by the reader: each line's source (or _UNMATCHED, _SLOW), key and schema verdict.
    route: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keys: list[str] = field(default_factory=list)
    key_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))


def _match(
    chunk: _Bytes, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray, usable: np.ndarray, tpl: _Template
) -> _Matched:
    first = np.searchsorted(quotes, starts)
    lines = np.flatnonzero(usable & (np.searchsorted(quotes, ends) - first == tpl.quotes))
    # One row per anchor (the conditions below are and-ed over rows: fast; over columns: not).
    at = quotes[first[lines] + np.clip(tpl.anchors - 1, 0, tpl.quotes - 1)[:, None]]
    at[tpl.anchors == 0] = starts[lines]
    at[tpl.anchors == tpl.quotes + 1] = ends[lines]
    words = chunk.words(at[tpl.fixed_anchor] + tpl.fixed_offset[:, None])
    good = np.logical_and.reduce((words & tpl.fixed_mask[:, None]) == tpl.fixed_word[:, None], axis=0)
    anchors = at.T
    numbers = {}
    for role, left, left_offset, right, right_offset in tpl.numbers:
        values, ok = _numbers(chunk, anchors[:, left] + left_offset, anchors[:, right] + right_offset)
        good &= ok
        if role is not None:
            numbers[role] = values
    bounds = {}
    for role, left, left_offset, right, right_offset in tpl.strings:
        start, end = anchors[:, left] + left_offset, anchors[:, right] + right_offset
        good &= (end - start <= MAX_STRING) & ((end > start) if role == "topic" else True)  # a topic is not ""
        bounds[role] = (start, end)
    keep = np.flatnonzero(good)
    strings = {role: _distinct(chunk, start[keep], end[keep]) for role, (start, end) in bounds.items()}
    return _Matched(lines[keep], {role: v[keep] for role, v in numbers.items()}, strings)


# --- the schema, column by column ------------------------------------------------------------------
class _Leaf:
    """The schema of one payload property, tested on a column of its values."""

    def __init__(self, schema: Any, predicate: Predicate):
        self.predicate = predicate
        self.vector = _vector_form(schema)

    @classmethod
    def of(cls, schema: Any) -> _Leaf | None:
        predicate = compile_schema(schema)
        return None if predicate is None else cls(schema, predicate)

    def on_numbers(self, v: np.ndarray) -> np.ndarray | bool:
        if self.vector is None:  # another keyword: the predicate, once per distinct value
            distinct, index = np.unique(v, return_inverse=True)
            return np.array([self.predicate(x) for x in distinct.tolist()], np.bool_)[index.ravel()]
        types, bounds = self.vector
        ok: np.ndarray | bool = True
        if types is not None and "number" not in types:
            ok = v == np.floor(v) if "integer" in types else False
        for op, c in bounds:
            ok = ok & op(v, c)
        return ok

    def on_strings(self, distinct: list[str], index: np.ndarray) -> np.ndarray:
        return np.array([self.predicate(s) for s in distinct], np.bool_)[index]


def _vector_form(schema: Any) -> tuple[set[str] | None, list] | None:
    """A number property's tests as numpy comparisons: (type names or None, [(op, bound)])."""
    if schema is True:
        return None, []
    if not isinstance(schema, dict):
        return None
    ops = {
        "minimum": np.greater_equal,
        "maximum": np.less_equal,
        "exclusiveMinimum": np.greater,
        "exclusiveMaximum": np.less,
    }
    types, bounds = None, []
    for key, arg in schema.items():
        if key in ANNOTATIONS:
            continue
        if key == "type":
            types = {arg} if isinstance(arg, str) else set(arg) if isinstance(arg, list) else None
            if types is None:
                return None
        elif key in ops and type(arg) in (int, float) and abs(arg) <= EXACT and float(arg) == arg:
            bounds.append((ops[key], float(arg)))
        else:
            return None
    return types, bounds


class _ColumnSchema:
    """A source's payload schema when it is an object of properties (what telemetry schemas are)."""

    def __init__(self, required: list[str], leaves: dict[str, _Leaf], additional: _Leaf | None):
        self.required, self.leaves, self.additional = required, leaves, additional

    @classmethod
    def of(cls, schema: Any) -> _ColumnSchema | None:
        if schema is True:
            return cls([], {}, None)
        if not isinstance(schema, dict):
            return None
        for key in schema:
            if key not in ANNOTATIONS and key not in ("type", "required", "properties", "additionalProperties"):
                return None
        kind = schema.get("type", "object")
        if kind != "object" and not (isinstance(kind, list) and "object" in kind):
            return None
        required, properties = schema.get("required", []), schema.get("properties", {})
        if not isinstance(required, list) or not all(isinstance(k, str) for k in required):
            return None
        if not isinstance(properties, dict):
            return None
        leaves = {}
        for name, sub in properties.items():
            leaf = _Leaf.of(sub)
            if leaf is None:  # a keyword the compiled checks do not have: the usual way
                return None
            leaves[name] = leaf
        additional = _Leaf.of(schema["additionalProperties"]) if "additionalProperties" in schema else None
        if "additionalProperties" in schema and additional is None:
            return None
        return cls(required, leaves, additional)

    def verdict(self, tpl: _Template, matched: _Matched) -> np.ndarray:
        """Each matched line's payload: valid?"""
        n = len(matched.lines)
        if not set(self.required) <= set(tpl.payload_keys):
            return np.zeros(n, np.bool_)
        ok: np.ndarray | bool = True
        for name in tpl.payload_keys:
            leaf = self.leaves.get(name, self.additional)
            if leaf is None:
                continue
            role = ("payload", name)
            if role in matched.numbers:
                ok = ok & leaf.on_numbers(matched.numbers[role])
            elif role in matched.strings:
                ok = ok & leaf.on_strings(*matched.strings[role])
            else:
                ok = ok & leaf.predicate(tpl.constants[name])
        return np.broadcast_to(np.asarray(ok, np.bool_), (n,))


# --- the reader --------------------------------------------------------------------------------------
LONGEST_LINE = 4 * MAX_LINE_BYTES + 4  # bytes: a line longer than this has more characters than allowed


class _Joined(io.RawIOBase):
    """Bytes already read, then the rest of a file."""

    def __init__(self, head: bytes, f: IO[bytes]):
        self.head, self.f = memoryview(head), f

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.f.read(len(b))
        b[: len(data)] = data
        return len(data)


MIN_RUN = 16  # a shorter run of lines of the shape is read the usual way, batched with its neighbours


def _long_runs(fast: np.ndarray, min_run: int) -> np.ndarray:
    """Which lines are in a run of at least ``min_run`` lines of the shape: each run is one batch
    (one evaluation a wave), so lines of two shapes in turn must not make a batch of each line."""
    starts = fast & ~np.concatenate(([False], fast[:-1]))
    run = np.cumsum(starts)  # each line's run (of either kind), numbered by the fast runs begun
    lengths = np.bincount(run, weights=fast)
    return lengths[run] >= min_run


_UNMATCHED, _SLOW = -1, -2  # routes of a line that is no event, and of one that goes the usual way


class _Reader:
    def __init__(self, decoder: Decoder, where: str, chunk_bytes: int, min_run: int):
        self.decoder, self.where, self.chunk_bytes, self.min_run = decoder, where, chunk_bytes, min_run
        self.schemas = [_ColumnSchema.of(src.schema) for src in decoder.sources]
        self.previous = 0.0  # the last message's arrival
        self.line = 0  # lines before the chunk, as the text reader counts them
        self.offset = 0  # bytes before the chunk

    def chunks(self, f: IO[bytes]) -> Iterator[Columns | Message]:
        pending: list[bytes] = []  # the start of a line not ended yet
        size = 0
        while True:
            block = f.read(self.chunk_bytes)
            if not block:
                if pending:
                    yield from self.chunk(b"".join(pending))
                return
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                pending.append(block)
                size += len(block)
                if size > LONGEST_LINE:  # no line end in sight: a line too long, or lines ended by \r
                    yield from self.rest(b"".join(pending), f)
                    return
                continue
            data = b"".join([*pending, block[:cut]]) if pending else block[:cut]
            pending, size = ([block[cut:]], len(block) - cut) if cut < len(block) else ([], 0)
            yield from self.chunk(data)

    def rest(self, head: bytes, f: IO[bytes]) -> Iterator[Message]:
        """The trace from here on (``head``, then the rest of ``f``) read as ``read_trace`` reads it."""
        text = io.TextIOWrapper(io.BufferedReader(_Joined(head, f)), encoding="utf-8")
        for number, line in enumerate(text, start=self.line + 1):
            message = read_line(line, self.previous, self.where, number)
            if message is not None:
                self.previous = message.arrival_ms
                yield message

    def chunk(self, data: bytes) -> Iterator[Columns | Message]:
        """Whole lines (the last may lack its newline): runs of the template's shape as Columns,
        any other line as its Message."""
        if not data.isascii():
            try:
                data.decode("utf-8")
            except UnicodeDecodeError as exc:
                good = data.rfind(b"\n", 0, exc.start) + 1  # up to the line with the bad byte
                if good:
                    yield from self.chunk(data[:good])
                at = self.offset + exc.start - good  # in the trace
                raise UnicodeDecodeError(exc.encoding, data, at, at + exc.end - exc.start, exc.reason) from None
        chunk = _Bytes(data)
        buf = chunk.buf
        ends = np.flatnonzero(buf == 0x0A)
        newlines = len(ends)
        if data[-1:] != b"\n":
            ends = np.append(ends, len(data))
        starts = np.empty_like(ends)
        starts[0], starts[1:] = 0, ends[:-1] + 1
        n = len(ends)
        # A line's end: its newline, or the \r before it (the text reader reads "\r\n" as "\n").
        crlf = np.zeros(n, np.bool_)
        if b"\r" in data:
            crlf[:newlines] = (buf[np.maximum(ends[:newlines] - 1, 0)] == 0x0D) & (ends[:newlines] > starts[:newlines])
        text_ends = ends - crlf
        usable = text_ends - starts + (ends < len(data)) <= MAX_LINE_BYTES  # with its newline, as read_line counts
        if np.count_nonzero(buf < 0x20) != newlines + np.count_nonzero(crlf) or b"\\" in data:
            bad = np.flatnonzero((buf < 0x20) | (buf == 0x5C))  # escapes, control characters
            bad = bad[(buf[bad] != 0x0A) & ~np.isin(bad, text_ends[crlf])]
            usable[np.searchsorted(ends, bad)] = False
        tpl, matched, source = None, None, None
        for i in np.flatnonzero(usable)[:3].tolist():  # the shape of one of the first lines
            tpl = _template_of(data[starts[i] : text_ends[i]])
            if tpl is not None:
                matched = _match(chunk, starts, text_ends, np.flatnonzero(buf == 0x22), usable, tpl)
                source = self._route(tpl, matched)
                break
        fast = np.zeros(n + 1, np.bool_)  # n: the end, never fast
        if matched is not None:
            fast[matched.lines[matched.route != _SLOW]] = True
            fast[:-1] &= _long_runs(fast[:-1], self.min_run)
        usual = np.flatnonzero(~fast)
        i = 0
        while i < n:
            if fast[i]:
                stop = int(usual[np.searchsorted(usual, i)])
                i += yield from self.run(tpl, matched, source, i, stop)
                if i == stop:
                    continue  # else the arrival at line i goes backwards: the usual way says so
            yield from self.usual(data[starts[i] : ends[i] + 1], i)
            i += 1
        self.line += n
        self.offset += len(data)

    def _route(self, tpl: _Template, matched: _Matched) -> int | None:
        """Route the matched lines by topic: the one source of this chunk's events, and for each
        line that source, _UNMATCHED, or _SLOW (a topic several sources read, one keyed by the
        payload, one of another source, a source whose schema is not column-wise)."""
        topics, index = matched.strings["topic"]
        route = np.empty(len(topics), np.int64)
        key_of_topic = np.full(len(topics), -1, np.int64)
        keys: dict[str, int] = {}
        source = None
        for i, topic in enumerate(topics):
            sources = self.decoder.route(topic)
            route[i] = _UNMATCHED if not sources else _SLOW
            if len(sources) != 1 or sources[0][1] is None:
                continue
            src, key = sources[0]
            if source in (None, src.index) and self.schemas[src.index] is not None:
                source = route[i] = src.index
                key_of_topic[i] = keys.setdefault(key, len(keys))
        matched.route, matched.keys, matched.key_index = route[index], list(keys), key_of_topic[index]
        if source is not None:
            matched.valid = self.schemas[source].verdict(tpl, matched)
        return source

    def run(self, tpl: _Template, matched: _Matched, source: int | None, start: int, stop: int):
        """Lines [start, stop) of the chunk, each of the template's shape and routed; → how many
        were read (fewer when an arrival time goes backwards)."""
        a, b = np.searchsorted(matched.lines, [start, stop]).tolist()
        if tpl.has_arrival:
            arrival = matched.numbers["arrival"]
            back = np.flatnonzero(np.diff(arrival[a:b], prepend=self.previous) < 0)
            if len(back):
                b = a + int(back[0])
                if a == b:
                    return 0
        stats = self.decoder.stats
        stats.messages += b - a
        route = matched.route[a:b]
        events = route >= 0
        n_events = int(np.count_nonzero(events))
        stats.unmatched += b - a - n_events
        if n_events:
            stats.events += n_events
            accepted = a + np.flatnonzero(events & matched.valid[a:b])
            stats.rejected["schema"] += n_events - len(accepted)
            stats.accepted += len(accepted)
            if len(accepted):
                yield self._columns(tpl, matched, source, accepted)
        if tpl.has_arrival:
            self.previous = float(arrival[b - 1])
        return b - a

    def _columns(self, tpl: _Template, matched: _Matched, source: int, rows: np.ndarray) -> Columns:
        ts_field = self.decoder.sources[source].ts_field
        if ("payload", ts_field) in matched.numbers:
            ts = matched.numbers["payload", ts_field][rows]
        elif tpl.has_arrival:
            ts = matched.numbers["arrival"][rows]
        else:
            ts = np.full(len(rows), self.previous)
        return Columns(
            source=source,
            keys=matched.keys,
            key_index=matched.key_index[rows],
            ts=ts,
            numbers={role[1]: v[rows] for role, v in matched.numbers.items() if type(role) is tuple},
            strings={role[1]: (d, i[rows]) for role, (d, i) in matched.strings.items() if type(role) is tuple},
            constants=tpl.constants,
        )

    def usual(self, raw: bytes, index: int) -> Iterator[Message]:
        """Line ``index`` of the chunk as ``read_trace`` reads it (whose text reader splits lines
        at \\r too)."""
        text = raw.decode("utf-8")
        pieces = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        lines = [p + "\n" for p in pieces[:-1]] + ([pieces[-1]] if pieces[-1] else [])
        for k, line in enumerate(lines):
            message = read_line(line, self.previous, self.where, self.line + index + 1 + k)
            if message is not None:
                self.previous = message.arrival_ms
                yield message
        self.line += max(0, len(lines) - 1)


def read_columns(
    decoder: Decoder, f: IO[bytes], where: str = "<trace>", chunk_bytes: int = CHUNK_BYTES, min_run: int = MIN_RUN
) -> Iterator[Columns | Message]:
    """A JSON-lines trace as batches of decoded events (:class:`Columns`) and, for lines of any
    other shape, messages for ``decoder.decode``, in the trace's order. Stats of the batches are
    counted in ``decoder.stats``; those of the messages when they are decoded."""
    return _Reader(decoder, where, chunk_bytes, min_run).chunks(f)
