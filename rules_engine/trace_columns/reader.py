"""Reading a trace file in chunks: runs of lines of one shape as :class:`Columns`, any other
line as its :class:`Message`, in the trace's order, with the Decoder's stats."""

from __future__ import annotations

import io
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field
from typing import IO

import numpy as np

from ..events import Decoder
from ..trace import MAX_LINE_BYTES, Message, read_line
from .schema import ColumnSchema
from .shape import Matched, Template, lines_like, match_lines, template_of
from .words import Chunk

__all__ = ["CHUNK_BYTES", "MIN_RUN", "Columns", "read_columns"]

CHUNK_BYTES = 1 << 22  # lines are read and matched ~4 MB at a time


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
PROBE_LINES = 256  # lines of a chunk matched first, to tell whether matching the rest is worth it


def _long_runs(fast: np.ndarray, min_run: int) -> np.ndarray:
    """Which lines are in a run of at least ``min_run`` lines of the shape: each run is one batch
    (one evaluation a wave), so lines of two shapes in turn must not make a batch of each line."""
    starts = fast & ~np.concatenate(([False], fast[:-1]))
    run = np.cumsum(starts)  # each line's run (of either kind), numbered by the fast runs begun
    lengths = np.bincount(run, weights=fast)
    return lengths[run] >= min_run


_UNMATCHED, _SLOW = -1, -2  # routes of a line that is no event, and of one that goes the usual way
_NO_KEY, _PAYLOAD_KEY = -1, -2  # key ids of an event with no key, and of one whose payload has it
ROUTES = 1 << 18  # topics whose routes and keys a reader remembers (~300 bytes each: ~75 MB)


class _Reader:
    def __init__(self, decoder: Decoder, where: str, chunk_bytes: int, min_run: int):
        self.decoder, self.where, self.chunk_bytes, self.min_run = decoder, where, chunk_bytes, min_run
        self.schemas = [ColumnSchema.of(src.schema) for src in decoder.sources]
        self.previous = 0.0  # the last message's arrival
        self.line = 0  # lines before the chunk, as the text reader counts them
        # Topics routed, and their keys, for the whole trace: a chunk routes only new topics.
        self.routes: dict[str, tuple[int, int]] = {}
        self.keys: list[str] = []
        self.key_ids: dict[str, int] = {}
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
        yield from self._text_lines(text, self.line + 1)

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
        chunk = Chunk(data)
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
            tpl = template_of(data[starts[i] : text_ends[i]])
            if tpl is not None:
                break
        fast = np.zeros(n + 1, np.bool_)  # n: the end, never fast
        if tpl is not None:
            quotes = np.flatnonzero(buf == 0x22)
            if self._worth_matching(chunk, starts, text_ends, quotes, usable, tpl):
                matched = match_lines(chunk, starts, text_ends, quotes, usable, tpl)
                source = self._route(tpl, matched)
                fast[matched.lines[matched.route != _SLOW]] = True
                fast[:-1] &= _long_runs(fast[:-1], self.min_run)
        usual, fast_lines = np.flatnonzero(~fast), np.flatnonzero(fast)
        i = 0
        while i < n:
            if fast[i]:
                stop = int(usual[np.searchsorted(usual, i)])
                i += yield from self.run(tpl, matched, source, i, stop)
                if i == stop:
                    continue
                stop = i + 1  # the arrival at line i goes backwards: the usual way says so
            else:  # up to the next line of the shape
                at = np.searchsorted(fast_lines, i)
                stop = int(fast_lines[at]) if at < len(fast_lines) else n
            yield from self.usual(data[starts[i] : ends[stop - 1] + 1], i, stop - i)
            i = stop
        self.line += n
        self.offset += len(data)

    def _worth_matching(
        self, chunk: Chunk, starts: np.ndarray, ends: np.ndarray, quotes: np.ndarray, usable: np.ndarray, tpl: Template
    ) -> bool:
        """Whether the first lines of the chunk look like a run of the template's shape long
        enough to be read as columns (their quotes and fixed bytes): lines of two shapes in turn
        do not, and the chunk is then read the usual way without matching all of it."""
        if len(starts) <= PROBE_LINES:
            return True
        first = slice(0, PROBE_LINES)
        fits = np.zeros(PROBE_LINES, np.bool_)
        fits[lines_like(chunk, starts[first], ends[first], quotes, usable[first], tpl)] = True
        return bool(_long_runs(fits, self.min_run).any())

    def _route(self, tpl: Template, matched: Matched) -> int | None:
        """Route the matched lines by topic: the one source of this chunk's events, and for each
        line that source, _UNMATCHED, or _SLOW (a topic several sources read, one of another
        source, a source whose schema is not column-wise); and each event's key (-1: none)."""
        topics, index = matched.strings["topic"]
        routes, known = self.routes, self.routes.get
        if len(routes) + len(self.keys) + len(topics) > ROUTES:
            routes.clear()
            self.keys.clear()
            self.key_ids.clear()
        source_of, key_of = np.empty(len(topics), np.int64), np.empty(len(topics), np.int64)
        for i, topic in enumerate(topics):
            route = known(topic)
            if route is None:
                route = routes[topic] = self._route_topic(topic)
            source_of[i], key_of[i] = route
        routed = source_of[source_of >= 0]
        source = int(routed[0]) if len(routed) else None
        route = np.where((source_of >= 0) & (source_of != source), _SLOW, source_of)[index]
        line_keys = np.where(route >= 0, key_of[index], _NO_KEY)
        from_payload = line_keys == _PAYLOAD_KEY
        if source is not None and from_payload.any():
            line_keys[from_payload] = self._payload_keys(source, matched)[from_payload]
        # The chunk's keys, numbered in it from 0 (each batch's states are looked up per key).
        key_ids, key_index = np.unique(line_keys, return_inverse=True)
        if len(key_ids) and key_ids[0] == _NO_KEY:  # lines that are no event of the source, or have no key
            key_ids, key_index = key_ids[1:], key_index - 1
        keys = self.keys
        matched.route, matched.keys, matched.key_index = route, [keys[k] for k in key_ids.tolist()], key_index.ravel()
        if source is not None:
            matched.valid = self.schemas[source].verdict(tpl, matched)
        return source

    def _route_topic(self, topic: str) -> tuple[int, int]:
        """A topic's route (its one column-wise source, _UNMATCHED or _SLOW), and its key's id
        (_NO_KEY: too few levels for the source's key; _PAYLOAD_KEY: the payload has it)."""
        sources = self.decoder.match(topic)
        if not sources:
            return _UNMATCHED, _NO_KEY
        src, key = sources[0]
        if len(sources) != 1 or self.schemas[src.index] is None:
            return _SLOW, _NO_KEY
        if key is None:
            return src.index, _NO_KEY if src.key_field is None else _PAYLOAD_KEY
        return src.index, self._key_id(key)

    def _payload_keys(self, source: int, matched: Matched) -> np.ndarray:
        """Each matched line's key taken from its payload, as the Decoder takes it (a string, or
        an integer's text), as an id; _NO_KEY where there is none (a float, a literal, absent)."""
        role = ("payload", self.decoder.sources[source].key_field)
        ids = np.full(len(matched.lines), _NO_KEY, np.int64)
        if role in matched.strings:
            distinct, index = matched.strings[role]
            ids[:] = np.array([self._key_id(k) for k in distinct], np.int64)[index]
        elif role in matched.numbers:
            integer = matched.integers[role]
            distinct, index = np.unique(matched.numbers[role][integer], return_inverse=True)
            ids[integer] = np.array([self._key_id(str(int(k))) for k in distinct.tolist()], np.int64)[index]
        return ids

    def _key_id(self, key: str) -> int:
        key_id = self.key_ids.get(key)
        if key_id is None:
            key_id = self.key_ids[key] = len(self.keys)
            self.keys.append(key)
        return key_id

    def run(self, tpl: Template, matched: Matched, source: int | None, start: int, stop: int):
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
            valid = events & matched.valid[a:b]
            accepted = a + np.flatnonzero(valid & (matched.key_index[a:b] >= 0))
            n_valid = int(np.count_nonzero(valid))
            stats.rejected["schema"] += n_events - n_valid
            if n_valid > len(accepted):  # a valid payload, and no key (the Decoder's order)
                stats.rejected["key"] += n_valid - len(accepted)
            stats.accepted += len(accepted)
            if len(accepted):
                yield self._columns(tpl, matched, source, accepted)
        if tpl.has_arrival:
            self.previous = float(arrival[b - 1])
        return b - a

    def _columns(self, tpl: Template, matched: Matched, source: int, rows: np.ndarray) -> Columns:
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

    def usual(self, raw: bytes, index: int, count: int) -> Iterator[Message]:
        """Lines ``index`` .. ``index + count - 1`` of the chunk, read as ``read_trace`` reads them."""
        read = yield from self._text_lines(io.TextIOWrapper(io.BytesIO(raw), encoding="utf-8"), self.line + index + 1)
        self.line += read - count  # the text reader splits lines at a lone \r too

    def _text_lines(self, text: IO[str], first: int) -> Generator[Message, None, int]:
        """Messages of the lines of a text stream, numbered from ``first``; → how many lines."""
        count = 0
        for count, line in enumerate(text, start=1):
            message = read_line(line, self.previous, self.where, first + count - 1)
            if message is not None:
                self.previous = message.arrival_ms
                yield message
        return count


def read_columns(
    decoder: Decoder, f: IO[bytes], where: str = "<trace>", chunk_bytes: int = CHUNK_BYTES, min_run: int = MIN_RUN
) -> Iterator[Columns | Message]:
    """A JSON-lines trace as batches of decoded events (:class:`Columns`) and, for lines of any
    other shape, messages for ``decoder.decode``, in the trace's order. Stats of the batches are
    counted in ``decoder.stats``; those of the messages when they are decoded."""
    return _Reader(decoder, where, chunk_bytes, min_run).chunks(f)
