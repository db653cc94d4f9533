"""Telemetry in, actions out: the agent publishes what the reference interpreter computes, and
no payload, however malformed or hostile, does more than get counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edge_compiler.build import build_bundle
from edge_compiler.models import OnnxModels
from rules_engine.events import Decoder
from rules_engine.interpreter import Interpreter
from rules_engine.validation import build_plan
from rules_engine.values import dumps

from .harness import ROOT, bench_graph, forklift_message, latest_status, wait_online

BLUEPRINTS = sorted((ROOT / "blueprints" / "builtin").glob("*/graph.json"))


def reference(doc: dict, params: dict, messages: list[tuple[str, bytes]], base_dir: str | None = None) -> list[dict]:
    """The reference interpreter's records for the same bytes, as the agent would publish them."""
    models = OnnxModels(base_dir)
    interp = Interpreter(build_plan(doc, params, models=models, base_dir=base_dir), models)
    out = []
    for topic, payload in messages:
        for event in interp.decoder.decode_bytes(topic, payload, 0.0):
            out.extend(json.loads(dumps(r)) for r in interp.evaluate(event))
    return out


def test_actions_are_the_reference_interpreters_records_in_order(agents, listeners, broker, publisher, bench_bundle):
    agent = agents(bench_bundle)
    listener = listeners(broker, [f"{agent.prefix}/#"])
    wait_online(listener, agent)
    messages = [forklift_message(i, alert=i % 3 != 1) for i in range(600)]
    expected = reference(bench_graph(), {}, messages)
    assert len(expected) == 400
    publisher.publish(messages)
    actions = f"{agent.prefix}/actions"
    listener.wait(lambda: len(listener.on(actions)) >= len(expected), what="every action")
    assert listener.json_on(actions) == expected
    assert [p.decode() for p in listener.on(actions)] == [dumps(r) for r in expected]  # byte for byte
    listener.wait(
        lambda: (
            latest_status(listener, agent)["events_in"] == 600
            and latest_status(listener, agent)["queue"]["pending"] == 0
        ),
        what="a status with 600 in and nothing pending",
    )
    status = latest_status(listener, agent)
    assert status["engine"] == "onnx" and status["actions_out"] == 400 and status["events_rejected"] == 0
    assert status["batch"] == {"max_ms": 3, "max_events": 1000, "shared_from_per_s": 2667}
    assert set(status["eval_ms"]) >= {"p50", "p99"} and status["queue"] == {"pending": 0, "dropped": 0, "max": 100000}


def _scenario_messages(path: Path, doc: dict) -> list[tuple[str, bytes]]:
    """A scenario's trace as MQTT messages. The agent times events by its own clock, so a payload
    that relies on the arrival time gets that time written in as its ``ts`` (when the source reads
    one), for the agent and the reference alike."""
    ts_fields = [n["params"].get("ts_field", "ts") for n in doc["nodes"] if n["type"] == "source.telemetry"]
    out = []
    for line in json.loads(path.read_text())["trace"]:
        payload = line.get("payload")
        if isinstance(payload, dict) and all(f and type(payload.get(f)) not in (int, float) for f in ts_fields):
            payload = {**payload, **{f: line["arrival_ms"] for f in ts_fields if f and f not in payload}}
        out.append((line["topic"], json.dumps(payload).encode()))
    return out


def _check_scenarios(agent, listener, publisher, doc, params, base, messages) -> None:
    wait_online(listener, agent)
    expected = reference(doc, params, messages, base)
    publisher.publish(messages)
    actions = f"{agent.prefix}/actions"
    listener.wait(lambda: len(listener.on(actions)) >= len(expected), what=f"{len(expected)} actions")
    got = listener.json_on(actions)
    assert got == expected, agent.device
    for record in (r for r in got if r["kind"] == "command"):  # each also went out on its own topic
        body = record["payload"] if isinstance(record["payload"], str) else dumps(record["payload"])
        listener.wait(lambda: body.encode() in listener.on(record["topic"]), what=f"the command {record}")  # noqa: B023
    decoder = Decoder(build_plan(doc, params, models=OnnxModels(base), base_dir=base))
    for topic, payload in messages:
        decoder.decode_bytes(topic, payload, 0.0)
    # A message on a topic that no source reads never reaches the agent: the broker filters it.
    delivered = decoder.stats.messages - decoder.stats.unmatched
    listener.wait(lambda: latest_status(listener, agent)["events_in"] == delivered, what="the status")
    status = latest_status(listener, agent)
    assert status["rejected"] == {r: n for r, n in decoder.stats.rejected.items() if n}
    assert status["events_accepted"] == decoder.stats.accepted


def test_builtin_blueprints_scenarios_give_the_reference_actions(
    agents, listeners, broker, publisher, signing_key, tmp_path
):
    """Every scenario of every built-in blueprint, each blueprint in one agent per parameter set,
    the scenarios one after the other (state carries over, as it does for the reference)."""
    if not BLUEPRINTS:
        pytest.fail("no built-in blueprints found under blueprints/builtin/")
    runs = []  # (wave, graph, doc, params, messages): agents sharing topics never run in one wave
    for graph_path in BLUEPRINTS:
        doc = json.loads(graph_path.read_text())
        by_params: dict[str, list[tuple[str, bytes]]] = {}
        for scenario in sorted((graph_path.parent / "scenarios").glob("*.json")):
            params = json.loads(scenario.read_text()).get("params") or {}
            by_params.setdefault(json.dumps(params, sort_keys=True), []).extend(_scenario_messages(scenario, doc))
        for wave, (params, messages) in enumerate(sorted(by_params.items())):
            runs.append((wave, graph_path, doc, json.loads(params), messages))
    assert len(runs) >= 3
    for wave in sorted({r[0] for r in runs}):
        started = []
        for _, graph_path, doc, params, messages in [r for r in runs if r[0] == wave]:
            base = str(graph_path.parent)
            bundle = tmp_path / f"{graph_path.parent.name}-{wave}.aiotb"
            bundle.write_bytes(build_bundle(doc, params, signing_key[0], base_dir=base).data)
            # MQTT 5 for one, QoS 1 telemetry for another: paho's own path is exercised too.
            protocol = [["--protocol", "5"], ["--qos", "1"]][len(started) - 1] if 1 <= len(started) <= 2 else []
            started.append((agents(bundle, *protocol), doc, params, base, messages))
        for agent, doc, params, base, messages in started:
            _check_scenarios(agent, listeners(broker, ["#"]), publisher, doc, params, base, messages)
            agent.stop()


HOSTILE = [
    b"not json at all",
    b"",
    b"\xff\xfe\x00garbage",
    b"x" * 1_000_000,  # 1 MB
    b"[" * 100_000,  # deep nesting within the size limit
    b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    json.dumps({"ts": 1, "speed_kmh": "fast", "proximity_m": 1, "zone": "aisle", "seq": 1}).encode(),
    json.dumps({"ts": 1, "speed_kmh": 9, "proximity_m": 1, "zone": "moon", "seq": 1}).encode(),
    json.dumps({"ts": 1, "speed_kmh": 9, "proximity_m": 1, "zone": "aisle", "seq": 1.5}).encode(),
    b'{"ts": NaN, "speed_kmh": NaN, "proximity_m": Infinity, "zone": "aisle", "seq": 1}',
    b'{"ts": 1e999, "speed_kmh": 1e999, "proximity_m": -1e999, "zone": "aisle", "seq": 99999999999999999999999}',
    json.dumps([1, 2, 3]).encode(),
    json.dumps("a string").encode(),
    b"null",
    json.dumps({"ts": 1, "speed_kmh": 9, "proximity_m": 1, "zone": "aisle", "seq": 1, "x": [[[[]]]] * 1000}).encode(),
]


def test_hostile_payloads_are_counted_by_reason_and_never_fatal(agents, listeners, broker, publisher, bench_bundle):
    agent = agents(bench_bundle)
    listener = listeners(broker, [f"{agent.prefix}/#"])
    wait_online(listener, agent)
    messages = [("site/s1/forklift/evil/telemetry", p) for p in HOSTILE * 3]
    messages.append(("site/s1/forklift/fine/telemetry", forklift_message(1, alert=True)[1]))
    expected = reference(bench_graph(), {}, messages)
    publisher.publish(messages)
    actions = f"{agent.prefix}/actions"
    listener.wait(lambda: len(listener.on(actions)) >= len(expected), what="the actions")
    assert listener.json_on(actions) == expected
    decoder = Decoder(build_plan(bench_graph(), {}))
    for topic, payload in messages:
        decoder.decode_bytes(topic, payload, 0.0)
    want = {r: n for r, n in decoder.stats.rejected.items() if n}
    assert set(want) == {"not_json", "not_object", "schema"}
    listener.wait(
        lambda: latest_status(listener, agent)["events_in"] == len(messages),
        what=f"the status: {len(messages)} in, {latest_status(listener, agent)}",
    )
    status = latest_status(listener, agent)
    assert status["rejected"] == want
    assert status["events_rejected"] == sum(want.values())
    assert status["errors"] == 0
    assert 1 <= len(status["rejected_sample"]) <= 5
    sample = status["rejected_sample"][-1]
    assert set(sample) >= {"reason", "topic", "excerpt", "bytes"} and len(sample["excerpt"]) <= 161
    assert agent.alive()
    assert agent.stop() == 0
