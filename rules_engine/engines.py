"""What every engine offers, and how to find the engines and model runtimes installed.

The reference interpreter lives here; the compiled engine and the ONNX model runtime live in
``edge_compiler`` and are found through entry points, so this package never imports them.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from importlib.metadata import entry_points
from typing import IO, Any, Literal, Protocol

from .events import Stats
from .plan import ModelProvider, Plan
from .trace import Message, read_trace

__all__ = ["Engine", "Texts", "load_engine", "load_model_provider", "run_messages", "run_trace"]

Texts = bool | Literal["all"]
"""Which records come as their JSON text (``values.dumps`` of the record, written by the action):
False none; True those the caller only writes (alerts; a command stays a record, for the edge
agent to publish); "all" every record whose action writes its text (a replay, which only writes)."""


class Engine(Protocol):
    name: str
    stats: Stats

    def process(self, topic: str, payload: Any, arrival_ms: float) -> list[dict]: ...


def run_messages(engine: Engine, messages: Iterable[Message], *, texts: Texts = False) -> Iterator[dict | str]:
    """Action records of a stream of messages, in order. Engines that batch override this. With
    ``texts`` (see Texts), an engine may give a record as its JSON text, for writing."""
    batch = getattr(engine, "process_messages", None)
    if batch is not None:
        yield from batch(messages, texts=texts)
        return
    for m in messages:
        yield from engine.process(m.topic, m.payload, m.arrival_ms)


def run_trace(engine: Engine, f: IO[bytes], where: str, *, texts: Texts = False) -> Iterator[dict | str]:
    """Action records of a JSON-lines trace (a binary file), in order; a bad line raises
    TraceError, and a trace that is not UTF-8 UnicodeDecodeError, once the lines before it are
    answered. Engines that read traces their own way (as columns) override this."""
    own = getattr(engine, "process_trace", None)
    if own is not None:
        yield from own(f, where, texts=texts)
        return
    text = io.TextIOWrapper(f, encoding="utf-8")
    try:
        yield from run_messages(engine, read_trace(text, where), texts=texts)
    finally:
        text.detach()  # the caller closes its file


def _entry_point(group: str, name: str):
    found = entry_points(group=group, name=name)
    if not found:
        available = sorted(ep.name for ep in entry_points(group=group))
        raise LookupError(f"no {group} named {name!r} is installed (available: {', '.join(available) or 'none'})")
    return next(iter(found)).load()


def load_engine(name: str, plan: Plan, models: ModelProvider | None) -> Engine:
    if name == "reference":
        from .interpreter import Interpreter

        return Interpreter(plan, models)
    return _entry_point("aiot.engines", name)(plan, models)


def load_model_provider(base_dir: str | None) -> ModelProvider | None:
    """The installed ONNX model runtime (edge_compiler's), or None when there is none."""
    try:
        factory = _entry_point("aiot.models", "onnxruntime")
    except LookupError:
        return None
    return factory(base_dir)
