"""The shape of a trace line (its template), and the lines of a chunk that have it.

Why a line of the template's shape is what ``json.loads`` reads: without backslashes, every ``"``
opens or closes a string. A line with the template's number of quotes, the template's fixed
bytes around its values, and a valid JSON number in each number's place, is the template with
other strings and numbers in it."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..trace import MAX_LINE_BYTES
from .words import EXACT, MAX_STRING, Chunk, distinct_strings, read_numbers

__all__ = ["Matched", "Role", "Template", "lines_like", "match_lines", "template_of"]


class _Pairs(list):
    """A JSON object as its (key, value) pairs, in document order, duplicates kept."""


_NUMBER_SEGMENT = re.compile(rb"(\s*:\s*)(-?[0-9][0-9.eE+-]*)(.*)", re.S)
Role = str | tuple[str, str] | None  # "topic", "arrival", ("payload", name), or None: not read


@dataclass
class Template:
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


def template_of(line: bytes) -> Template | None:
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
    return Template(
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
class Matched:
    """The lines of a chunk that have the template's shape, and their values."""

    lines: np.ndarray  # their indices in the chunk, ascending
    numbers: dict[Role, np.ndarray]
    strings: dict[Role, tuple[list[str], np.ndarray]]
    integers: dict[Role, np.ndarray]  # which of the numbers are JSON integers (a payload key may be one)
    # Set by the reader: each line's source (or _UNMATCHED, _SLOW), key and schema verdict.
    route: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    keys: list[str] = field(default_factory=list)
    key_index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    valid: np.ndarray = field(default_factory=lambda: np.zeros(0, np.bool_))


def match_lines(
    chunk: Chunk, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray, usable: np.ndarray, tpl: Template
) -> Matched:
    lines, at, good = _fixed_bytes(chunk, starts, ends, quotes, usable, tpl)
    anchors = at.T
    numbers, integers = {}, {}
    for role, left, left_offset, right, right_offset in tpl.numbers:
        values, ok, integer = read_numbers(chunk, anchors[:, left] + left_offset, anchors[:, right] + right_offset)
        good &= ok
        if role is not None:
            numbers[role], integers[role] = values, integer
    bounds = {}
    for role, left, left_offset, right, right_offset in tpl.strings:
        start, end = anchors[:, left] + left_offset, anchors[:, right] + right_offset
        good &= (end - start <= MAX_STRING) & ((end > start) if role == "topic" else True)  # a topic is not ""
        bounds[role] = (start, end)
    keep = np.flatnonzero(good)
    strings = {role: distinct_strings(chunk, start[keep], end[keep]) for role, (start, end) in bounds.items()}
    return Matched(
        lines[keep],
        {role: v[keep] for role, v in numbers.items()},
        strings,
        {role: v[keep] for role, v in integers.items()},
    )


def lines_like(
    chunk: Chunk, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray, usable: np.ndarray, tpl: Template
) -> np.ndarray:
    """The lines with the template's quotes and fixed bytes, their values unread: those that
    ``match_lines`` may match (a cheap look at whether a chunk is worth matching)."""
    lines, _, good = _fixed_bytes(chunk, starts, ends, quotes, usable, tpl)
    return lines[good]


def _fixed_bytes(
    chunk: Chunk, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray, usable: np.ndarray, tpl: Template
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The usable lines with the template's number of quotes; their anchors' positions (a row
    per anchor); which of them have the template's fixed bytes."""
    first = np.searchsorted(quotes, starts)
    lines = np.flatnonzero(usable & (np.searchsorted(quotes, ends) - first == tpl.quotes))
    # One row per anchor (the conditions below are and-ed over rows: fast; over columns: not).
    at = quotes[first[lines] + np.clip(tpl.anchors - 1, 0, tpl.quotes - 1)[:, None]]
    at[tpl.anchors == 0] = starts[lines]
    at[tpl.anchors == tpl.quotes + 1] = ends[lines]
    words = chunk.words(at[tpl.fixed_anchor] + tpl.fixed_offset[:, None])
    good = np.logical_and.reduce((words & tpl.fixed_mask[:, None]) == tpl.fixed_word[:, None], axis=0)
    return lines, at, good
