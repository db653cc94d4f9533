"""Running a blueprint's scenarios: a trace and the actions it must produce (no Django needed)."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge_compiler.models import OnnxModels
from rules_engine.cases import case_messages, diff_records
from rules_engine.engines import load_engine, run_messages
from rules_engine.validation import build_plan

from .package import BlueprintPackage

__all__ = ["ScenarioResult", "run_scenario"]


@dataclass
class ScenarioResult:
    records: list[dict]
    summary: dict
    difference: str | None = None
    passed: bool = field(init=False)

    def __post_init__(self) -> None:
        self.passed = self.difference is None


def run_scenario(package: BlueprintPackage, scenario: dict, engine_name: str) -> ScenarioResult:
    models = OnnxModels(str(package.root))
    plan = build_plan(package.graph, scenario.get("params") or {}, models=models, base_dir=str(package.root))
    engine = load_engine(engine_name, plan, models)
    records = list(run_messages(engine, case_messages(scenario["trace"], "scenario")))
    summary = engine.stats.to_json()
    difference = diff_records(records, scenario.get("expected", []))
    if difference is None and "expected_summary" in scenario and scenario["expected_summary"] != summary:
        difference = f"summary {summary} differs from the expected {scenario['expected_summary']}"
    return ScenarioResult(records, summary, difference)
