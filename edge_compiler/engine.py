"""``--engine onnx``: compile the plan, then run it with the compiled-logic runtime."""

from __future__ import annotations

from rules_engine.plan import Plan

from .compiler import compile_plan
from .models import OnnxModels
from .runtime import LogicEngine

__all__ = ["CompiledEngine"]


def CompiledEngine(plan: Plan, models: OnnxModels | None = None) -> LogicEngine:
    return LogicEngine(plan, compile_plan(plan, models).to_bytes())
