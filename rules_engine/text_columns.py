"""Many records written at once: the values they are made of as columns of text.

A replay writes every record as its JSON text. Made one at a time, a record is a Python call per
value (~2.7 µs a record); made a column at a time, the values' texts come from numpy and C-level
``map`` calls, and each record is one ``%`` of a format (~0.3 µs). The texts are those
:func:`~rules_engine.values.dumps` writes, differentially tested (tests/test_values.py)."""

from __future__ import annotations

from dataclasses import dataclass
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]

import numpy as np

__all__ = ["TextColumns", "bool_texts", "escaped", "number_texts", "write_rows"]

_INT64 = 2.0**63


def number_texts(values: np.ndarray, valid: np.ndarray | None = None) -> list[str]:
    """Each float64 as ``value_text(float(x))`` writes it: integral ones bare (below 2**63 in
    magnitude), others as repr, NaN and infinities null; null where not ``valid``."""
    finite = np.isfinite(values)
    if valid is not None:
        finite &= valid
    whole = finite & (values == np.trunc(values)) & (np.abs(values) < _INT64)
    if whole.all():  # the usual column: times in ms, counts
        return list(map(int.__repr__, values.astype(np.int64).tolist()))
    out = np.full(len(values), "null", object)
    out[whole] = list(map(int.__repr__, values[whole].astype(np.int64).tolist()))
    rest = finite & ~whole
    out[rest] = list(map(float.__repr__, values[rest].tolist()))
    return out.tolist()


_BOOLS = np.array(["false", "true", "null"], object)


def bool_texts(values: np.ndarray, valid: np.ndarray) -> list[str]:
    """Each value as ``value_text(bool(x))`` writes it; null where not ``valid``."""
    return _BOOLS[np.where(valid, values.astype(np.bool_), 2).astype(np.intp)].tolist()


def escaped(texts: list[str]) -> list[str]:
    """Each string as JSON (quoted, escaped, ASCII), as records hold them."""
    return list(map(encode_basestring_ascii, texts))


@dataclass(slots=True)
class TextColumns:
    """The values of a batch of records, by name, each a column of texts (a row per record).

    ``values``: each port's values as the record's ``values`` holds them (JSON); ``plain``: the
    string ports' values bare, as templates write them (the other ports' are their JSON).
    ``key`` (JSON and bare) and ``ts`` are the events'; in templates they stand for the names
    "key" and "ts", as they do for one record."""

    rows: int
    values: dict[str, list[str]]
    plain: dict[str, list[str]]
    key: list[str]
    key_plain: list[str]
    ts: list[str]

    def json(self, name: str) -> list[str]:
        """A name's column as a payload slot of one placeholder writes it (its value's JSON)."""
        return self.key if name == "key" else self.ts if name == "ts" else self.values[name]

    def text(self, name: str) -> list[str]:
        """A name's column as a template writes it (strings bare)."""
        if name == "key":
            return self.key_plain
        if name == "ts":
            return self.ts
        return self.plain[name] if name in self.plain else self.values[name]


def write_rows(fmt: str, columns: list[list[str]], rows: int) -> list[str]:
    """``fmt % row`` for each row of the columns (one ``%s`` of ``fmt`` a column)."""
    if not columns:
        return [fmt % ()] * rows
    return list(map(fmt.__mod__, zip(*columns, strict=True)))
