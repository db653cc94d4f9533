"""A flaky broker, a corrupt model, signals: the agent keeps going and loses nothing it may keep."""

from __future__ import annotations

import json
import time

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_compiler.build import build_bundle
from edge_compiler.bundle import pack, read_bundle

from .harness import (
    Listener,
    Publisher,
    bench_graph,
    forklift_message,
    latest_status,
    private_broker,
    wait_online,
)
from .test_agent_io import reference


def test_a_broker_killed_and_restarted_mid_stream_loses_no_alert(agents, tmp_path, bench_bundle):
    """Alerts made while the broker is down wait in the agent and go out after it reconnects.
    Telemetry is only published while the broker is up: what is measured is the agent's loss.
    The collector has a persistent session on a persistent broker, so that what the broker
    accepted while it was down for the collector is not counted against the agent."""
    broker = private_broker(tmp_path / "broker", persistence=True)
    try:
        # A long linger keeps a batch in the agent long enough to kill the broker under it.
        linger = ["--batch-ms", "1500", "--batch-linger"]
        agent = agents(bench_bundle, *linger, broker_=broker)
        small = agents(bench_bundle, *linger, "--queue-max", "20", broker_=broker)
        collector = Listener(
            broker, [f"{agent.prefix}/actions", f"{small.prefix}/actions"], client_id="collector", clean=False
        )
        watcher = Listener(broker, [f"{agent.prefix}/status", f"{small.prefix}/status"])
        wait_online(watcher, agent)
        wait_online(watcher, small)
        time.sleep(1.2)  # the collector's session reaches the broker's persistence file (autosave 1 s)

        def seqs(a):
            return {json.loads(p)["values"]["seq"] for p in collector.on(f"{a.prefix}/actions")}

        def sent(lo, hi):
            return {i for i in range(lo, hi) if i % 2 == 0}

        pub = Publisher(broker)
        pub.publish([forklift_message(i, alert=i % 2 == 0) for i in range(40)])
        collector.wait(lambda: seqs(agent) == sent(0, 40) and seqs(small) == sent(0, 40), what="phase 1 alerts")

        # Phase 2: the agents have the telemetry in their batch when the broker dies (50 forklifts:
        # one batch; a forklift coming again would have the batch evaluated at once).
        pub.publish([forklift_message(i, alert=i % 2 == 0) for i in range(40, 90)])
        pub.close()
        watcher.wait(
            lambda: (
                latest_status(watcher, agent)["events_in"] == 90 and latest_status(watcher, small)["events_in"] == 90
            ),
            what="both agents to hold phase 2",
        )
        broker.kill()
        time.sleep(2.0)  # the batches are evaluated and published while the broker is down
        broker.start()
        collector.wait(lambda: seqs(agent) == sent(0, 90), timeout=20, what="the queued alerts after the restart")

        # Phase 3: after reconnecting, business as usual.
        watcher.wait(lambda: latest_status(watcher, agent)["reconnects"] >= 1, what="the agent to reconnect")
        pub = Publisher(broker)
        pub.publish([forklift_message(i, alert=i % 2 == 0) for i in range(90, 130)])
        pub.close()
        collector.wait(lambda: seqs(agent) == sent(0, 130), what="phase 3 alerts")
        watcher.wait(lambda: latest_status(watcher, agent)["actions_out"] == 65, what="status after phase 3")
        status = latest_status(watcher, agent)
        assert status["queue"]["dropped"] == 0 and status["queue"]["pending"] == 0
        # The agent with room for 20 kept 20 of phase 2's 25 alerts and says it dropped 5.
        watcher.wait(lambda: latest_status(watcher, small)["queue"]["dropped"] == 5, what="the small queue's drops")
        collector.wait(lambda: len(seqs(small) - sent(0, 40)) >= 20, what=f"small kept alerts {sorted(seqs(small))}")
        assert len(seqs(small) & sent(40, 90)) == 20
        collector.close()
        watcher.close()
        assert agent.stop() == 0 and small.stop() == 0
    finally:
        broker.stop()


def test_sigterm_publishes_a_retained_offline_status_and_exits_0(agents, listeners, broker, publisher, bench_bundle):
    agent = agents(bench_bundle)
    listener = listeners(broker, [f"{agent.prefix}/#"])
    online = wait_online(listener, agent)
    assert online["bundle"] == read_bundle(bench_bundle.read_bytes()).bundle_id
    publisher.publish([forklift_message(i, alert=True) for i in range(10)])
    listener.wait(lambda: len(listener.on(f"{agent.prefix}/actions")) == 10, what="10 actions")
    assert agent.stop() == 0
    assert {"stopping", "stopped"} <= {e.get("event") for e in agent.log()}
    late = listeners(broker, [f"{agent.prefix}/status"])  # subscribes after the fact: sees the retained one
    late.wait(lambda: late.messages, what="the retained status")
    _, payload, retained = late.messages[-1]
    status = json.loads(payload)
    assert retained and status["state"] == "offline" and status["reason"] == "shutdown"
    assert status["actions_out"] == 10


def test_a_killed_agent_leaves_its_last_will_offline(agents, listeners, broker, bench_bundle):
    agent = agents(bench_bundle, "--keepalive", "5")
    listener = listeners(broker, [f"{agent.prefix}/status"])
    wait_online(listener, agent)
    agent.kill()
    listener.wait(lambda: listener.json_on(f"{agent.prefix}/status")[-1]["state"] == "offline", what="the will")
    late = listeners(broker, [f"{agent.prefix}/status"])
    late.wait(lambda: late.messages, what="the retained will")
    assert json.loads(late.messages[-1][1])["state"] == "offline" and late.messages[-1][2]


def corrupt_logic(data: bytes, key: Ed25519PrivateKey) -> bytes:
    """The bundle with garbage for logic.onnx, signed again with the same key: valid, but unloadable."""
    bundle = read_bundle(data)
    files = dict(bundle.files)
    files["logic.onnx"] = b"this is not an onnx model" * 10
    manifest = {k: v for k, v in bundle.manifest.items() if k not in ("files", "signer", "bundle_id", "format")}
    return pack(files, manifest, key)[0]


def test_a_corrupt_logic_onnx_runs_on_the_reference_fallback(
    agents, listeners, broker, publisher, signing_key, tmp_path
):
    key, pub = signing_key
    path = tmp_path / "corrupt.aiotb"
    path.write_bytes(corrupt_logic(build_bundle(bench_graph(), {}, key).data, key))
    agent = agents(path, "--trust", str(pub))
    listener = listeners(broker, [f"{agent.prefix}/#"])
    status = wait_online(listener, agent)
    assert status["engine"] == "fallback" and "logic.onnx" in status["fallback_reason"]
    messages = [forklift_message(i, alert=i % 4 != 0) for i in range(200)]
    expected = reference(bench_graph(), {}, messages)
    publisher.publish(messages)
    actions = f"{agent.prefix}/actions"
    listener.wait(lambda: len(listener.on(actions)) >= len(expected), what="the fallback's actions")
    assert listener.json_on(actions) == expected
    assert any(e.get("event") == "engine_fallback" for e in agent.log())
    assert agent.stop() == 0
