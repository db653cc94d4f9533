"""What the agent counts, and the status document it publishes from the counts."""

from __future__ import annotations

import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any

__all__ = ["Counters", "percentile"]

SAMPLE_SIZE = 5
EXCERPT_BYTES = 160


def percentile(sorted_values: list[float], p: float) -> float | None:
    """Nearest-rank percentile of already sorted values; None when there are none."""
    if not sorted_values:
        return None
    rank = max(1, -(-len(sorted_values) * p // 100))  # ceil(n·p/100), at least 1
    return sorted_values[int(rank) - 1]


def excerpt(payload: bytes) -> str:
    text = payload[:EXCERPT_BYTES].decode("utf-8", errors="replace")
    return text + "…" if len(payload) > EXCERPT_BYTES else text


@dataclass
class Counters:
    started: float = field(default_factory=time.monotonic)
    events_in: int = 0  # telemetry messages received
    accepted: int = 0  # events accepted by the decoder (a message may make one per source)
    unmatched: int = 0
    rejected: Counter = field(default_factory=Counter)
    rejected_sample: deque = field(default_factory=lambda: deque(maxlen=SAMPLE_SIZE))
    actions_out: int = 0
    commands_out: int = 0
    publish_errors: int = 0
    errors: int = 0  # unexpected exceptions (a bug), each logged
    batches: int = 0
    eval_ms: list = field(default_factory=list)  # per batch, since the last status
    dropped: int = 0
    reconnects: int = 0

    def note_rejected(self, reasons: dict[str, int], topic: str, payload: bytes, arrival_ms: float) -> None:
        for reason, n in reasons.items():
            self.rejected[reason] += n
        self.rejected_sample.append(
            {
                "reason": ",".join(sorted(reasons)),
                "topic": topic,
                "bytes": len(payload),
                "excerpt": excerpt(payload),
                "ts": int(arrival_ms),
            }
        )

    def take_eval_ms(self) -> dict[str, Any]:
        values, self.eval_ms = sorted(self.eval_ms), []
        p50, p99 = percentile(values, 50), percentile(values, 99)
        return {
            "p50": None if p50 is None else round(p50, 3),
            "p99": None if p99 is None else round(p99, 3),
            "batches": len(values),
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "uptime_s": round(time.monotonic() - self.started, 1),
            "events_in": self.events_in,
            "events_accepted": self.accepted,
            "events_unmatched": self.unmatched,
            "events_rejected": sum(self.rejected.values()),
            "rejected": dict(sorted(self.rejected.items())),
            "rejected_sample": list(self.rejected_sample),
            "actions_out": self.actions_out,
            "commands_out": self.commands_out,
            "publish_errors": self.publish_errors,
            "errors": self.errors,
            "reconnects": self.reconnects,
            "batches": self.batches,
        }
