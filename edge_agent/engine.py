"""One bundle, ready to evaluate: its compiled ``logic.onnx``, or the reference interpreter.

The compiled engine is tried first. When ``logic.onnx`` cannot be loaded, or a run fails, the
bundle goes on with the reference interpreter on ``plan.json`` (``engine: "fallback"``) for good:
consuming never stops. Both decode messages with the same :class:`~rules_engine.events.Decoder`
(it depends on the plan alone), so accepting and rejecting does not change on the switch.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from edge_compiler.bundle import Bundle
from edge_compiler.runtime import LogicEngine
from rules_engine.events import Decoder, Event
from rules_engine.interpreter import Interpreter

__all__ = ["Evaluator"]


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__


class Evaluator:
    """Evaluates batches of events for one verified bundle; never raises on an event."""

    def __init__(self, bundle: Bundle, data: bytes, *, on_error: Callable[[str, str], None] | None = None):
        self.bundle = bundle
        self.data = data
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.on_error = on_error or (lambda event, reason: None)
        self.plan = bundle.plan()  # raises on a plan we cannot run at all: the bundle is refused
        self.compiled: LogicEngine | None = None
        self.interpreter: Interpreter | None = None
        self.fallback_reason: str | None = None
        self.errors = 0
        try:
            self.compiled = LogicEngine(self.plan, bundle.logic)
            self.decoder: Decoder = self.compiled.decoder
        except Exception as exc:  # onnxruntime raises its own types; anything means "cannot load"
            self._fall_back(f"logic.onnx cannot be loaded: {_reason(exc)}")
            self.decoder = self.interpreter.decoder  # type: ignore[union-attr]

    # ------------------------------------------------------------------------------------------
    @property
    def bundle_id(self) -> str:
        return self.bundle.bundle_id

    @property
    def engine(self) -> str:
        return "onnx" if self.compiled is not None else "fallback"

    @property
    def state_layout(self) -> str | None:
        return self.bundle.manifest.get("state_layout")

    @property
    def topics(self) -> list[str]:
        seen: list[str] = []
        for source in self.bundle.manifest.get("sources", []):
            if source["topic"] not in seen:
                seen.append(source["topic"])
        return seen

    @property
    def keys(self) -> int | None:
        return len(self.compiled.runner.states.slots) if self.compiled is not None else None

    def _fall_back(self, reason: str) -> None:
        self.compiled = None
        self.fallback_reason = reason
        self.interpreter = Interpreter(self.plan, self.bundle.model_provider())
        self.on_error("fallback", reason)

    def adopt_state(self, old: Evaluator) -> bool:
        """Take over ``old``'s per-key state when both run compiled with the same state layout."""
        if (
            self.compiled is None
            or old.compiled is None
            or not self.state_layout
            or self.state_layout != old.state_layout
        ):
            return False
        self.compiled.runner.states = old.compiled.runner.states
        return True

    # ------------------------------------------------------------------------------------------
    def run(self, events: list[Event], texts: bool = False) -> list[Any]:
        """The action records of ``events`` (in arrival order), in order. With ``texts``, a record
        may come as its JSON text (``values.dumps`` of it) when its action writes one directly."""
        if self.compiled is not None:
            try:
                return self.compiled.run_events(events, texts)
            except Exception as exc:
                # The compiled state may be half-advanced: the interpreter starts afresh on this batch.
                try:
                    self._fall_back(f"logic.onnx failed at run time: {_reason(exc)}")
                except Exception as exc2:  # not even the interpreter: count what is lost, go on
                    self.errors += len(events)
                    self.on_error("evaluation_error", f"no engine can run this bundle: {_reason(exc2)}")
                    return []
        if self.interpreter is None:
            self.errors += len(events)
            return []
        evaluate = self.interpreter.evaluate
        out: list[Any] = []
        for event in events:
            try:
                out.extend(evaluate(event))
            except Exception as exc:  # a bug must cost one event, not the agent
                self.errors += 1
                self.on_error("evaluation_error", f"key {event.key!r}: {_reason(exc)}")
        return out
