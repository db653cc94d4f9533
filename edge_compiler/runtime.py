"""Running a compiled ``logic.onnx``: per-key state, waves of distinct keys, action records.

This is the host side of the compiled engine, shared by ``aiot graph run --engine onnx``,
``aiot edge replay`` and the edge agent. It needs the plan (for the action records' templates)
and the layout the compiler stored in the model's metadata; it never compiles anything.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from operator import itemgetter
from typing import IO, Any

import numpy as np
import onnxruntime as ort

from rules_engine.engines import Texts
from rules_engine.events import Decoder, Event
from rules_engine.plan import Plan
from rules_engine.text_columns import TextColumns, bool_texts, escaped, number_texts
from rules_engine.trace import Message, TraceError
from rules_engine.trace_columns import Columns, read_columns

__all__ = ["BATCH", "KeyStates", "LogicEngine", "LogicRunner", "read_layout"]

BATCH = 4096

NP = {"double": np.float64, "bool": np.bool_, "int64": np.int64}


def read_layout(model_bytes: bytes) -> dict:
    """The layout JSON the compiler put in the model's metadata."""
    session = _session(model_bytes)
    meta = session.get_modelmeta().custom_metadata_map
    if "aiot.layout" not in meta:
        raise ValueError("logic.onnx carries no aiot.layout metadata: it was not made by our compiler")
    return json.loads(meta["aiot.layout"])


def _session(model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # NoopElimination drops Add/Sub/Mul/Div by a constant *within 1e-5 relative* of 0 or 1
    # (x * 1.000001 → x, ewma's 1 − α with α ≤ 1e-5 → 1): wrong in float64. Keep every op.
    return ort.InferenceSession(
        model_bytes, options, providers=["CPUExecutionProvider"], disabled_optimizers=["NoopElimination"]
    )


class KeyStates:
    """Every state tensor of the graph, one row per key; rows are gathered and scattered by slot."""

    def __init__(self, specs: list[dict], capacity: int = 1024):
        self.specs = specs
        self.slots: dict[str, int] = {}
        self.arrays: dict[str, np.ndarray] = {}
        self._init: dict[str, object] = {}
        for spec in specs:
            init = spec["init"]
            self._init[spec["name"]] = math.nan if init == "nan" else init
        self._allocate(capacity)

    def _allocate(self, capacity: int) -> None:
        for spec in self.specs:
            name = spec["name"]
            shape = (capacity,) if spec["width"] is None else (capacity, spec["width"])
            fresh = np.full(shape, self._init[name], dtype=NP[spec["dtype"]])
            old = self.arrays.get(name)
            if old is not None:
                fresh[: len(old)] = old
            self.arrays[name] = fresh
        self.capacity = capacity

    def slot_of(self, key: str) -> int:
        slot = self.slots.get(key)
        if slot is None:
            slot = self.slots[key] = len(self.slots)
            if slot >= self.capacity:
                self._allocate(self.capacity * 2)
        return slot


def _lookup(records: list[dict], path: list[str]) -> list:
    if len(path) == 1:
        name = path[0]
        return [r.get(name) for r in records]
    out = []
    for r in records:
        v = r
        for part in path:
            v = v.get(part) if type(v) is dict else None
        out.append(v)
    return out


_NUMBERS = {float, int, type(None)}
_FLOATS = {float}
_INTS = {int}
SHARED_MAX_EVENTS = 256  # at most 2 × 256 columns of ≤ 256 values kept: ~300 KB
_SHARED: dict[tuple[int, object, type], np.ndarray] = {}


def _shared_column(n: int, fill: bool | int, dtype: type) -> np.ndarray:
    """n × fill, read-only and shared between evaluations (onnxruntime never writes its inputs)."""
    key = (n, fill, dtype)  # 0 == False: the dtype tells the columns apart
    column = _SHARED.get(key)
    if column is None:
        column = np.full(n, fill, dtype)
        column.flags.writeable = False
        if n <= SHARED_MAX_EVENTS:  # small columns, where building one is a cost worth saving
            _SHARED[key] = column
    return column


def _convert(raw: list, kind: str, enum: dict | None) -> tuple[np.ndarray, np.ndarray]:
    """A field's raw JSON values → (float64 values, validity), as ``field`` reads them (SPEC §3.3)."""
    if kind == "number":
        types = set(map(type, raw))
        if types == _FLOATS and math.isfinite(sum(raw)):  # the usual column: finite floats only
            return np.array(raw, np.float64), _shared_column(len(raw), True, np.bool_)
        if types == _INTS:  # the other usual one (counters, ids): finite as floats, or OverflowError
            try:
                return np.array(raw, np.float64), _shared_column(len(raw), True, np.bool_)
            except OverflowError:  # an int beyond float range: element by element below
                pass
        if types <= _NUMBERS:  # None becomes NaN, and NaN is not finite
            try:
                v = np.array(raw, np.float64)
            except OverflowError:  # an int beyond float range: element by element below
                pass
            else:
                m = np.isfinite(v)
                return (v, m) if m.all() else (np.where(m, v, 0.0), m)
        out = [_number(x) for x in raw]
        m = np.array([x is not None for x in out], np.bool_)
        return np.array([0.0 if x is None else x for x in out], np.float64), m
    if kind == "bool":
        m = np.array([type(x) is bool for x in raw], np.bool_)
        return np.array([x is True for x in raw], np.float64), m
    try:  # the usual column: every value a known category (only strings are the enum's keys)
        known = list(map(enum.get, raw))
    except TypeError:  # an unhashable value (a list, an object): element by element below
        known = [None]
    if None not in known:
        return np.array(known, np.float64), _shared_column(len(raw), True, np.bool_)
    ids = [enum.get(x, -1.0) if type(x) is str else -1.0 for x in raw]
    v = np.array(ids, np.float64)
    m = v >= 0
    return np.where(m, v, 0.0), m


def _number(x) -> float | None:
    t = type(x)
    if t is float:
        return x if math.isfinite(x) else None
    if t is int:
        try:
            f = float(x)
        except OverflowError:
            return None
        return f if math.isfinite(f) else None
    return None


def _column(
    columns: Columns, path: list[str], kind: str, enum: dict | None, missing: tuple[np.ndarray, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """A field's (values, validity) from a batch's columns, as ``_convert`` reads the payloads.
    The batch's payloads hold scalars only: a path into a nested object finds nothing."""
    name = path[0] if len(path) == 1 else None
    if name in columns.numbers:
        if kind == "number":
            return columns.numbers[name], np.ones(len(columns), np.bool_)
    elif name in columns.strings:
        if kind == "category":
            distinct, index = columns.strings[name]
            v = np.array([enum.get(s, -1.0) for s in distinct], np.float64)[index]
            m = v >= 0
            return np.where(m, v, 0.0), m
    elif name in columns.constants:
        value = columns.constants[name]
        if kind == "bool" and type(value) is bool:
            return np.full(len(columns), float(value)), np.ones(len(columns), np.bool_)
    return missing


def _waves(key_index: np.ndarray) -> list[np.ndarray]:
    """Rows in waves of distinct keys: wave w holds each key's (w+1)-th row, in arrival order."""
    n = len(key_index)
    order = np.argsort(key_index, kind="stable")
    grouped = key_index[order]
    first = np.flatnonzero(np.concatenate(([True], grouped[1:] != grouped[:-1])))
    rank = np.empty(n, np.int64)
    rank[order] = np.arange(n) - np.repeat(first, np.diff(np.append(first, n)))
    if n == 0 or rank.max() == 0:
        return [np.arange(n)] if n else []
    by_wave = np.argsort(rank, kind="stable")
    return np.split(by_wave, np.cumsum(np.bincount(rank))[:-1])


class _RowEvents:
    """The events of a wave's rows, made when a record reads one (its key and time)."""

    def __init__(self, columns: Columns, rows: np.ndarray):
        self.columns, self.rows = columns, rows

    def keys(self, indices: np.ndarray) -> list[str]:
        """The keys of these rows of the wave."""
        keys = self.columns.keys
        return [keys[k] for k in self.columns.key_index[self.rows[indices]].tolist()]

    def times(self, indices: np.ndarray) -> np.ndarray:
        """The times of these rows of the wave."""
        return self.columns.ts[self.rows[indices]]

    def take(self, indices: np.ndarray) -> list[Event]:
        """The events of these rows of the wave."""
        c, rows = self.columns, self.rows[indices]
        keys, source = c.keys, c.source
        return [
            Event(source, keys[k], ts, {})
            for k, ts in zip(c.key_index[rows].tolist(), c.ts[rows].tolist(), strict=True)
        ]


class LogicRunner:
    """Evaluates events through ``logic.onnx``; returns each event's action records."""

    def __init__(self, plan: Plan, model_bytes: bytes, layout: dict | None = None):
        self.plan = plan
        self.layout = layout or read_layout(model_bytes)
        self.session = _session(model_bytes)
        self.states = KeyStates(self.layout["states"])
        self.categories = self.layout["categories"]
        category_ids = {c: float(i) for i, c in enumerate(self.categories)}
        self.fields = self.layout["fields"]
        # Per source: (column, path, kind, enum → id) of its field nodes.
        self.source_fields: list[list[tuple[int, list[str], str, dict | None]]] = [[] for _ in self.layout["sources"]]
        for col, f in enumerate(self.fields):
            enum = None
            if f["kind"] == "category":
                out = plan.by_id[f["node"]].out_type
                enum = {v: category_ids[v] for v in (out.enum or ())}
            self.source_fields[f["source"]].append((col, f["path"], f["kind"], enum))
        # One source whose fields are top-level properties (the usual graph): every field of a
        # payload read by one C call, when the payload has them all.
        names = [path[0] for _, path, _, _ in self.source_fields[0]] if len(self.source_fields) == 1 else []
        flat = len(names) >= 2 and all(len(path) == 1 for _, path, _, _ in self.source_fields[0])
        self._fields_of = itemgetter(*names) if flat else None
        self.actions = []  # (layout, record maker, text writer or None)
        acted_on, batch_writers = [], []
        for a in self.layout["actions"]:
            node = plan.by_id[a["node"]]
            self.actions.append((a, node.kind.make_record(node), node.kind.make_text(node)))
            acted_on.append(node.kind.acted_on)
            batch_writers.append(node.kind.make_texts(node, [v["port"] for v in a["values"]]))
        # What _records calls per fired action, by ``texts``: the record maker (False); the text
        # writer where there is one, but records of the actions a caller acts on (True: the agent
        # publishes commands); the text writer wherever there is one ("all": a replay only writes).
        self._makers = {
            False: [record for _, record, _ in self.actions],
            True: [
                record if acts else text or record
                for (_, record, text), acts in zip(self.actions, acted_on, strict=True)
            ],
            "all": [text or record for _, record, text in self.actions],
        }
        # The same choice for the writers of a batch's texts at once (None: record by record).
        self._batch_writers = {
            False: [None] * len(self.actions),
            True: [None if acts else w for w, acts in zip(batch_writers, acted_on, strict=True)],
            "all": batch_writers,
        }
        self._category_texts = (
            np.array([*self.categories, "null"], object),
            np.array([*escaped(self.categories), "null"], object),
        )
        self.output_names = [o.name for o in self.session.get_outputs()]
        # InferenceSession.run checks the feed's names and more on every call (~8 µs, a tenth of a
        # small evaluation); the feeds here are made from the model's own layout, so the session's
        # inner run is called where there is one.
        inner = getattr(self.session, "_sess", None)
        self._run = inner.run if callable(getattr(inner, "run", None)) else self.session.run
        self.state_names = [s["name"] for s in self.layout["states"]]
        self._state_feeds = [(name, f"state_in/{name}", f"state_out/{name}") for name in self.state_names]
        # The model declares only the inputs it reads (older bundles: all of them). The host makes
        # every field's columns (the records read some) and feeds onnxruntime the declared ones.
        inputs = [i.name for i in self.session.get_inputs()]
        self._feeds_src, self._feeds_ts = "src" in inputs, "ts" in inputs
        made = {f[k] for f in self.fields for k in ("v", "m")} | {feed for _, feed, _ in self._state_feeds}
        made |= {name for name, fed in (("src", self._feeds_src), ("ts", self._feeds_ts)) if fed}
        self._model_feeds = None if made == set(inputs) else inputs

    def reset_state(self) -> None:
        """Forget every key's state, as a fresh start would."""
        self.states = KeyStates(self.layout["states"])

    # --- columns ------------------------------------------------------------------------------
    def _columns(self, events: Sequence[Event]) -> dict[str, np.ndarray]:
        """The model's field inputs: one value and one validity column per ``field`` node.

        Field by field over the events of its source, so that the common case (every value a
        float, or every value an int) is one numpy conversion rather than a Python loop."""
        n = len(events)
        feeds = {}
        if self._feeds_src:
            feeds["src"] = (
                _shared_column(n, 0, np.int64)
                if len(self.source_fields) == 1
                else np.fromiter((e.source for e in events), np.int64, n)
            )
        if self._feeds_ts:
            feeds["ts"] = np.array([e.ts for e in events], np.float64)
        if len(self.source_fields) == 1:  # every event is of source 0: no gathering by source
            records = [e.record for e in events]
            fields = self.source_fields[0]
            raws: list[Sequence] | None = None
            if self._fields_of is not None and records:
                try:
                    raws = list(zip(*map(self._fields_of, records), strict=True))
                except KeyError:  # a payload without one of them: field by field, None where missing
                    raws = None
            if raws is None:
                raws = [_lookup(records, path) for _, path, _, _ in fields]
            for (col, _, kind, enum), raw in zip(fields, raws, strict=True):
                v, m = _convert(raw, kind, enum)
                feeds[self.fields[col]["v"]], feeds[self.fields[col]["m"]] = v, m
            return feeds
        values = np.zeros((len(self.fields), n), np.float64)
        valid = np.zeros((len(self.fields), n), np.bool_)
        for source, fields in enumerate(self.source_fields):
            picked = [i for i, e in enumerate(events) if e.source == source] if fields else None
            if not picked:
                continue
            rows, records = np.asarray(picked, np.int64), [events[i].record for i in picked]
            for col, path, kind, enum in fields:
                values[col, rows], valid[col, rows] = _convert(_lookup(records, path), kind, enum)
        for col, f in enumerate(self.fields):
            feeds[f["v"]] = values[col]
            feeds[f["m"]] = valid[col]
        return feeds

    # --- evaluation ---------------------------------------------------------------------------
    def prepare(self, events: Sequence[Event]) -> tuple[np.ndarray | list, dict[str, np.ndarray]]:
        """The state slots of events of distinct keys, and the model's feeds for them."""
        states = self.states
        known = states.slots.get
        slots = [known(e.key) for e in events]
        if None in slots:  # a new key
            slots = [states.slot_of(e.key) for e in events]
        feeds = self._columns(events)
        if not self._state_feeds:  # a stateless graph: the slots only count the keys
            return slots, feeds
        slots = np.array(slots, np.int64)
        arrays = states.arrays
        for name, feed, _ in self._state_feeds:
            feeds[feed] = arrays[name][slots]
        return slots, feeds

    def model_feeds(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Of ``prepare``'s feeds, those the model declares."""
        return feeds if self._model_feeds is None else {name: feeds[name] for name in self._model_feeds}

    def run_wave(self, events: Sequence[Event], texts: Texts = False) -> list[list[Any]]:
        """Events of distinct keys → the action records of each, in the events' order."""
        per_event: list[list[Any]] = [[] for _ in events]
        for i, record in self._wave(events, texts):
            per_event[i].append(record)
        return per_event

    def _wave(self, events: Sequence[Event], texts: Texts = False) -> list[tuple[int, Any]]:
        """Events of distinct keys → (event index, record), in the events' order; with ``texts``,
        a record that has a text writer comes as its JSON text (``dumps(record)``) instead."""
        slots, feeds = self.prepare(events)
        return self._records(events, self._evaluate(slots, feeds), texts)

    def _evaluate(self, slots: np.ndarray | list, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """One run of the model on events of distinct keys (their state slots and feeds); the
        states written back; → the feeds and the outputs by name (what the records read)."""
        tensors = feeds
        tensors.update(zip(self.output_names, self._run(self.output_names, self.model_feeds(feeds), None), strict=True))
        arrays = self.states.arrays
        for name, _, out in self._state_feeds:
            arrays[name][slots] = tensors[out]
        return tensors

    # --- columns of a trace (rules_engine.trace_columns) ----------------------------------------------
    def run_columns(self, columns: Columns, texts: Texts = False) -> list[Any]:
        """Every record of a batch of decoded events (keys repeating or not), in order."""
        rows: list[np.ndarray] = []
        out: list[Any] = []
        for wave, tensors in self.evaluate_columns(columns):
            records = self._records(_RowEvents(columns, wave), tensors, texts)
            if records:
                indices, made = zip(*records, strict=True)
                rows.append(wave[list(indices)])
                out += made
        if len(rows) > 1:  # waves into arrival order (a row's records keep their order)
            out = [out[i] for i in np.argsort(np.concatenate(rows), kind="stable").tolist()]
        return out

    def evaluate_columns(self, columns: Columns) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
        """A batch evaluated in waves of distinct keys: each wave's rows and its run's tensors
        (the feeds and outputs by name, which the records are made from)."""
        feeds = self._column_feeds(columns)
        slot_of_key = np.zeros(len(columns.keys), np.int64)
        for k in np.unique(columns.key_index).tolist():
            slot_of_key[k] = self.states.slot_of(columns.keys[k])
        slots = slot_of_key[columns.key_index]
        waves = _waves(columns.key_index)
        for wave in waves:
            wave_feeds = {name: column[wave] for name, column in feeds.items()} if len(waves) > 1 else feeds
            if self._state_feeds:
                arrays = self.states.arrays
                for name, feed, _ in self._state_feeds:
                    wave_feeds[feed] = arrays[name][slots[wave]]
            yield wave, self._evaluate(slots[wave], wave_feeds)

    def _column_feeds(self, columns: Columns) -> dict[str, np.ndarray]:
        """The model's inputs for a batch of events of one source, from its columns."""
        n = len(columns)
        feeds: dict[str, np.ndarray] = {}
        if self._feeds_src:
            feeds["src"] = np.full(n, columns.source, np.int64)
        if self._feeds_ts:
            feeds["ts"] = columns.ts
        missing = np.zeros(n, np.float64), np.zeros(n, np.bool_)
        for source, fields in enumerate(self.source_fields):
            for col, path, kind, enum in fields:
                v, m = missing if source != columns.source else _column(columns, path, kind, enum, missing)
                feeds[self.fields[col]["v"]], feeds[self.fields[col]["m"]] = v, m
        return feeds

    def _records(
        self, events: Sequence[Event] | _RowEvents, tensors: dict[str, np.ndarray], texts: Texts = False
    ) -> list[tuple[int, Any]]:
        """The records of the fired actions, in event order (then actions in nodes order), as
        (event index, record); ``tensors``: the run's feeds and outputs by name."""
        out: list[tuple[int, Any]] = []
        makers, batch_writers = self._makers[texts], self._batch_writers[texts]
        acted = 0
        for row, (a, _, _) in enumerate(self.actions):
            fire = tensors[a["fire"]]
            if not np.count_nonzero(fire):  # usually: most evaluations fire nothing
                continue
            acted += 1
            fired = fire.nonzero()[0]
            rows = fired.tolist()
            write = batch_writers[row]
            if write is not None:  # the texts of all of them at once
                out += zip(rows, write(self._text_columns(a, events, tensors, fired)), strict=True)
                continue
            ports = [v["port"] for v in a["values"]]
            columns = [
                self._port_values(v["kind"], tensors[v["v"]][fired], tensors[v["m"]][fired]) for v in a["values"]
            ]
            make = makers[row]  # an Event has the key and ts they read
            values = zip(*columns, strict=True) if columns else [()] * len(rows)
            fired_events = events.take(fired) if type(events) is _RowEvents else [events[i] for i in rows]
            out += [
                (i, make(dict(zip(ports, vs, strict=True)), ev))
                for i, vs, ev in zip(rows, values, fired_events, strict=True)
            ]
        if acted > 1:
            out.sort(key=itemgetter(0))  # stable: a row's actions stay in nodes order
        return out

    def _text_columns(
        self, a: dict, events: Sequence[Event] | _RowEvents, tensors: dict[str, np.ndarray], fired: np.ndarray
    ) -> TextColumns:
        """An action's values on the fired rows, and their events' keys and times, as texts."""
        values, plain = {}, {}
        for port in a["values"]:
            v, m = tensors[port["v"]][fired], tensors[port["m"]][fired]
            name = port["port"]
            if port["kind"] == "number":
                values[name] = number_texts(v, m)
            elif port["kind"] == "bool":
                values[name] = bool_texts(v, m)
            else:
                index = np.where(m, v, len(self.categories)).astype(np.intp)
                bare, as_json = self._category_texts
                values[name], plain[name] = as_json[index].tolist(), bare[index].tolist()
        if type(events) is _RowEvents:
            keys, ts = events.keys(fired), events.times(fired)
        else:
            picked = [events[i] for i in fired.tolist()]
            keys, ts = [e.key for e in picked], np.array([e.ts for e in picked], np.float64)
        return TextColumns(len(fired), values, plain, escaped(keys), keys, number_texts(ts))

    def _port_values(self, kind: str, v: np.ndarray, m: np.ndarray) -> list:
        """An action port's values on the fired rows, as the records hold them (None: missing)."""
        if kind == "number":
            values = v.tolist()
        elif kind == "bool":
            values = v.astype(np.bool_).tolist()
        else:
            categories = self.categories
            values = [categories[i] for i in np.where(m, v, 0).astype(np.int64).tolist()]
        return values if m.all() else [x if ok else None for x, ok in zip(values, m.tolist(), strict=True)]

    def run_flat(self, events: Sequence[Event], texts: Texts = False) -> list[Any]:
        """Every record of ``events`` (arrival order, keys repeating or not), in order: ``run``,
        flattened; with ``texts``, as JSON text where the action has a text writer."""
        if len({e.key for e in events}) == len(events):  # distinct keys: one wave (the usual batch)
            return [record for _, record in self._wave(events, texts)] if events else []
        return [r for records in self.run(events, texts) for r in records]

    def run(self, events: Sequence[Event], texts: Texts = False) -> list[list[Any]]:
        """Events in arrival order, keys repeating or not → each event's records."""
        if len({e.key for e in events}) == len(events):  # distinct keys: one wave (the usual batch)
            return self.run_wave(events, texts) if events else []
        waves: list[list[int]] = []
        depth: dict[str, int] = {}
        for i, e in enumerate(events):
            w = depth.get(e.key, 0)
            depth[e.key] = w + 1
            if w == len(waves):
                waves.append([])
            waves[w].append(i)
        out: list[list[Any]] = [[] for _ in events]
        for wave in waves:
            for i, records in zip(wave, self.run_wave([events[i] for i in wave], texts), strict=True):
                out[i] = records
        return out


class LogicEngine:
    """The Engine interface over a compiled ``logic.onnx``: decode, batch, evaluate, records."""

    name = "onnx"

    def __init__(self, plan: Plan, logic: bytes, *, batch: int = BATCH):
        self.runner = LogicRunner(plan, logic)
        self.decoder = Decoder(plan)
        self.stats = self.decoder.stats
        self.batch = batch

    def run_events(self, events: list[Event], texts: Texts = False) -> list[Any]:
        out = self.runner.run_flat(events, texts)
        self.stats.actions += len(out)
        return out

    def process(self, topic: str, payload: Any, arrival_ms: float) -> list[dict]:
        events = self.decoder.decode(topic, payload, arrival_ms)
        return self.run_events(events) if events else []

    def run_columns(self, columns: Columns, texts: Texts = False) -> list[Any]:
        out = self.runner.run_columns(columns, texts)
        self.stats.actions += len(out)
        return out

    def process_messages(self, messages: Iterable[Message], texts: Texts = False) -> Iterator[dict | str]:
        """Records of a stream of messages, in order; with ``texts``, alerts as their JSON text."""
        return self._process(messages, texts)

    def process_trace(
        self, f: IO[bytes], where: str = "<trace>", texts: Texts = False, **reading: int
    ) -> Iterator[dict | str]:
        """Records of a JSON-lines trace, read as columns where its lines allow (``read_columns``,
        which takes ``reading``: chunk_bytes, min_run)."""
        return self._process(read_columns(self.decoder, f, where, **reading), texts)

    def _process(self, items: Iterable[Message | Columns], texts: Texts) -> Iterator[dict | str]:
        pending: list[Event] = []
        decode = self.decoder.decode
        try:
            for item in items:
                if type(item) is Columns:
                    if pending:
                        yield from self.run_events(pending, texts)
                        pending = []
                    yield from self.run_columns(item, texts)
                    continue
                pending.extend(decode(item.topic, item.payload, item.arrival_ms))
                if len(pending) >= self.batch:
                    yield from self.run_events(pending, texts)
                    pending = []
        except (TraceError, UnicodeDecodeError):  # a bad line: the events before it are answered first
            if pending:
                yield from self.run_events(pending, texts)
            raise
        if pending:
            yield from self.run_events(pending, texts)
