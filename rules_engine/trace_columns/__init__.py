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

The parts: ``words`` reads a chunk's bytes as 8-byte words and the tokens of many lines at once
(numbers, strings); ``shape`` takes a line's template and finds the lines that have it;
``schema`` checks a source's payload schema column by column; ``reader`` reads the file in
chunks and makes the Columns and the Messages, in order.
"""

from .reader import CHUNK_BYTES, MIN_RUN, Columns, read_columns

__all__ = ["CHUNK_BYTES", "MIN_RUN", "Columns", "read_columns"]
