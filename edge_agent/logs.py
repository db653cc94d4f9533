"""Structured logs: one JSON object a line on stderr, ``{"ts", "level", "event", ...fields}``."""

from __future__ import annotations

import json
import sys
import time
from typing import IO, Any

__all__ = ["Log"]

LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40}


class Log:
    def __init__(self, level: str = "info", stream: IO[str] | None = None):
        self.threshold = LEVELS[level]
        self.stream = stream or sys.stderr

    def enabled(self, level: str) -> bool:
        return LEVELS[level] >= self.threshold

    def emit(self, level: str, event: str, **fields: Any) -> None:
        if LEVELS[level] < self.threshold:
            return
        now = time.time()
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"
        record = {"ts": stamp, "level": level, "event": event}
        for name, value in fields.items():  # a field named like a key of the line must not replace it
            record[f"{name}_" if name in ("ts", "level", "event") else name] = value
        line = json.dumps(record, default=str, ensure_ascii=False)
        try:
            self.stream.write(line + "\n")
            self.stream.flush()
        except (OSError, ValueError):  # stderr closed or gone: logging must never stop the agent
            pass

    def debug(self, event: str, **fields: Any) -> None:
        self.emit("debug", event, **fields)

    def info(self, event: str, **fields: Any) -> None:
        self.emit("info", event, **fields)

    def warning(self, event: str, **fields: Any) -> None:
        self.emit("warning", event, **fields)

    def error(self, event: str, **fields: Any) -> None:
        self.emit("error", event, **fields)
