"""Traces (JSON lines of recorded telemetry) in, action records out."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

from .events import loads_line
from .values import dumps

__all__ = ["MAX_LINE_BYTES", "Message", "TraceError", "parse_trace_line", "read_line", "read_trace", "write_records"]

MAX_LINE_BYTES = 4 * 1024 * 1024


@dataclass(slots=True)
class Message:
    topic: str
    payload: Any
    arrival_ms: float
    line: int = 0


class TraceError(ValueError):
    """A trace line we cannot read; the message names the file and the line."""

    def __init__(self, where: str, line: int, message: str):
        self.where, self.line = where, line
        super().__init__(f"{where}:{line}: {message}")


def parse_trace_line(obj: Any, previous_ms: float, where: str, line: int) -> Message:
    """Check one trace line (already parsed JSON) and give its message."""
    if not isinstance(obj, dict):
        raise TraceError(where, line, f"expected a JSON object with a string 'topic', got {type(obj).__name__}")
    topic = obj.get("topic")
    if not isinstance(topic, str) or not topic:
        raise TraceError(where, line, "expected a non-empty string 'topic'")
    if "arrival_ms" in obj:
        arrival = obj["arrival_ms"]
        if type(arrival) not in (int, float) or not math.isfinite(arrival):
            raise TraceError(where, line, f"arrival_ms must be a number, got {arrival!r}")
        if arrival < previous_ms:
            raise TraceError(where, line, f"arrival_ms goes backwards ({arrival} after {previous_ms})")
        arrival = float(arrival)
    else:
        arrival = previous_ms
    return Message(topic, obj.get("payload"), arrival, line)


def read_trace(lines: Iterable[str], where: str = "<trace>") -> Iterator[Message]:
    """Messages of a JSON-lines trace, streaming; blank lines are skipped."""
    previous = 0.0
    for number, text in enumerate(lines, start=1):
        message = read_line(text, previous, where, number)
        if message is not None:
            previous = message.arrival_ms
            yield message


def read_line(text: str, previous_ms: float, where: str, number: int) -> Message | None:
    """One line of a trace: its message, or None for a blank line; a bad line raises TraceError."""
    if len(text) > MAX_LINE_BYTES:
        raise TraceError(where, number, f"line is longer than {MAX_LINE_BYTES} bytes")
    if not text.strip():
        return None
    try:
        obj = loads_line(text)  # NaN and Infinity tokens are accepted: devices send them
    except json.JSONDecodeError as exc:
        raise TraceError(where, number, f"not JSON: {exc.msg} at column {exc.colno}") from None
    except ValueError:  # the one other: an integer literal longer than int() converts
        limit = sys.get_int_max_str_digits()
        raise TraceError(where, number, f"holds an integer of more than {limit} digits") from None
    except RecursionError:
        raise TraceError(where, number, "nests too deeply") from None
    return parse_trace_line(obj, previous_ms, where, number)


def write_records(records: Iterable[dict | str], out: IO[str]) -> int:
    """One record a line; a record that comes as text is already ``dumps(record)``."""
    n = 0
    write = out.write
    for record in records:
        write(record if type(record) is str else dumps(record))
        write("\n")
        n += 1
    return n
