"""Cases: a trace and the action records it must produce — conformance cases and blueprint
scenarios alike. How a case's trace becomes messages, and when two outputs count as equal
(SPEC §6: the same records, numbers equal to 1e-9 relative)."""

from __future__ import annotations

import json
import math
from typing import Any

from .trace import Message, parse_trace_line

__all__ = ["SPECIALS", "case_messages", "diff_records", "same_value"]

# JSON has no NaN or infinities: case files write them as these strings, inside payloads.
SPECIALS = {"__NaN__": math.nan, "__Infinity__": math.inf, "__-Infinity__": -math.inf}


def _specials(value: Any) -> Any:
    if isinstance(value, str):
        return SPECIALS.get(value, value)
    if isinstance(value, dict):
        return {k: _specials(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_specials(v) for v in value]
    return value


def case_messages(trace: list[dict], where: str = "case") -> list[Message]:
    out, previous = [], 0.0
    for i, line in enumerate(trace, start=1):
        line = dict(line) if isinstance(line, dict) else line
        if isinstance(line, dict) and "payload" in line:
            line["payload"] = _specials(line["payload"])
        message = parse_trace_line(line, previous, where, i)
        previous = message.arrival_ms
        out.append(message)
    return out


def same_value(a: Any, b: Any, rel: float = 1e-9) -> bool:
    """JSON equality with numbers to ``rel`` relative tolerance; 17 == 17.0; bools are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b or math.isclose(a, b, rel_tol=rel, abs_tol=1e-300)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_value(a[k], b[k], rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_value(x, y, rel) for x, y in zip(a, b, strict=True))
    return a == b


def diff_records(got: list[dict], expected: list[dict]) -> str | None:
    """None when equal; else a readable account of the first difference."""
    for i, (g, e) in enumerate(zip(got, expected, strict=False)):
        if not same_value(g, e):
            got_text, expected_text = json.dumps(g, sort_keys=True), json.dumps(e, sort_keys=True)
            return f"record {i} differs:\n  got      {got_text}\n  expected {expected_text}"
    if len(got) != len(expected):
        extra = got[len(expected) :] or expected[len(got) :]
        which = "got more" if len(got) > len(expected) else "missing"
        return f"{len(got)} records, expected {len(expected)}; {which}: {json.dumps(extra[0], sort_keys=True)}"
    return None
