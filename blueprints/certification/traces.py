"""Traces generated from a graph for certification: boundary values, missing fields, hostile payloads."""

from __future__ import annotations

import math
import random
from typing import Any

from rules_engine.plan import Plan

MISSING = object()


def thresholds(plan: Plan) -> list[float]:
    """Every number the graph compares or switches at: the boundaries worth testing."""
    out: set[float] = set()
    for n in plan.nodes:
        p = n.params
        if n.type == "compare" and isinstance(p.get("value"), (int, float)) and not isinstance(p.get("value"), bool):
            out.add(float(p["value"]))
        elif n.type == "hysteresis":
            out |= {float(p["on_above"]), float(p["off_below"])}
        elif n.type == "math.clamp":
            out |= {float(p["min"]), float(p["max"])}
    return sorted(out)


def _number_candidates(prop: dict, bounds: list[float], rng: random.Random) -> list[Any]:
    lo = prop.get("minimum", prop.get("exclusiveMinimum", -100.0))
    hi = prop.get("maximum", prop.get("exclusiveMaximum", 100.0))
    values: list[Any] = [lo, hi, (lo + hi) / 2, rng.uniform(lo, hi), rng.uniform(lo, hi)]
    for b in bounds:
        values += [b, math.nextafter(b, math.inf), math.nextafter(b, -math.inf), b + 0.5, b - 0.5]
    if prop.get("type") == "integer":
        values = [round(v) for v in values]
    return values


def field_values(prop: dict, bounds: list[float], rng: random.Random) -> list[Any]:
    """Values a field may take: valid ones (boundaries first) and invalid ones (missing, null, wrong type)."""
    kind = prop.get("type")
    if isinstance(prop.get("enum"), list):
        valid = list(prop["enum"])
    elif kind in ("number", "integer"):
        valid = _number_candidates(prop, bounds, rng)
    elif kind == "boolean":
        valid = [True, False]
    elif kind == "string":
        valid = ["a", "b"]
    else:
        valid = [None]
    return [*valid, MISSING, None, "text", True, [1], {"x": 1}]


def generated_trace(plan: Plan, events: int, keys: int, seed: int) -> list[dict]:
    """Seeded: the same plan and seed give the same trace (so the same verdict)."""
    rng = random.Random(seed)
    bounds = thresholds(plan)
    lines = []
    t0 = 1_700_000_000_000
    for i in range(events):
        src = plan.sources[i % len(plan.sources)]
        schema = src.params["schema"]
        props = schema.get("properties") or {}
        payload: dict[str, Any] = {}
        for name, prop in props.items():
            candidates = field_values(prop if isinstance(prop, dict) else {}, bounds, rng)
            # mostly valid values, so that rules actually fire; sometimes anything
            value = rng.choice(candidates[: max(1, len(candidates) - 6)] if rng.random() < 0.85 else candidates)
            if value is not MISSING:
                payload[name] = value
        key = f"k{rng.randrange(keys)}"
        ts_field = src.params.get("ts_field")
        if ts_field:
            payload[ts_field] = t0 + i * 250 + (rng.choice([0, 0, 0, -5000]) if i > 10 else 0)  # some out of order
        spec = src.params["key"]
        if spec.startswith("payload:"):
            payload[spec[8:]] = key
        topic = _topic_for(src.params["topic"], spec, key, rng)
        lines.append({"topic": topic, "payload": payload, "arrival_ms": t0 + i * 250})
    return lines


def _topic_for(topic_filter: str, key_spec: str, key: str, rng: random.Random) -> str:
    levels = topic_filter.split("/")
    out = []
    for i, level in enumerate(levels):
        if level == "+":
            out.append(key if key_spec == f"topic:{i}" else f"x{rng.randrange(3)}")
        elif level == "#":
            out.append("tail")
        else:
            out.append(level)
    if key_spec.startswith("topic:") and int(key_spec[6:]) >= len(out):
        out += ["x"] * (int(key_spec[6:]) - len(out)) + [key]
    return "/".join(out)


def hostile_trace(plan: Plan, keys: int, seed: int) -> list[dict]:
    """Malformed payloads, NaN/inf, huge numbers, many keys, out-of-order times."""
    rng = random.Random(seed)
    base = generated_trace(plan, 200, 5, seed)
    nasty: list[Any] = ["not an object", 42, None, [], [1, 2], {"deep": [[[[[]]]]]}]
    out = []
    for i, line in enumerate(base):
        line = dict(line)
        if i % 5 == 0:
            line["payload"] = rng.choice(nasty)
        elif i % 5 == 1 and isinstance(line["payload"], dict):
            line["payload"] = {k: rng.choice([math.nan, math.inf, -math.inf, 1e308, -1e308]) for k in line["payload"]}
        out.append(line)
    t = out[-1]["arrival_ms"]
    for i in range(keys):  # one event for each of many keys
        line = dict(base[i % len(base)])
        payload = dict(line["payload"]) if isinstance(line["payload"], dict) else {}
        key = f"many{i}"
        src = plan.sources[i % len(plan.sources)]
        if src.params["key"].startswith("payload:"):
            payload[src.params["key"][8:]] = key
        out.append(
            {
                "topic": _topic_for(src.params["topic"], src.params["key"], key, rng),
                "payload": payload,
                "arrival_ms": t + i,
            }
        )
    return out
