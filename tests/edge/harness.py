"""The edge agent under test, and what talks to it: a Mosquitto we can kill and start again,
MQTT listeners and publishers, the agent as a subprocess, bench telemetry."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

ROOT = Path(__file__).resolve().parents[2]
AIOT = str(Path(sys.executable).with_name("aiot"))
# A copy of ../shared/bench/warehouse_rule.graph.json (the side-by-side bench's rule), so that the
# tests need nothing outside the checkout.
BENCH_GRAPH = Path(__file__).with_name("warehouse_rule.graph.json")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Broker:
    """A broker the tests talk to; a private one can be killed and started again on its port."""

    def __init__(self, host: str, port: int, workdir: Path | None = None, persistence: bool = False):
        self.host, self.port, self.workdir, self.persistence = host, port, workdir, persistence
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def start(self) -> None:
        assert self.workdir is not None, "an external broker (AIOT_TEST_MQTT_URL) cannot be started"
        binary = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
        if binary is None:
            pytest.fail(
                "mosquitto is not installed: `apt-get install -y mosquitto` (the edge tests need a real broker)"
            )
        conf = self.workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} 127.0.0.1",
            "allow_anonymous true",
            "set_tcp_nodelay true",
            "max_queued_messages 100000",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else mosquitto drops to user "mosquitto", who cannot write here
        if self.persistence:
            lines += ["persistence true", f"persistence_location {self.workdir}/", "autosave_interval 1"]
        conf.write_text("\n".join(lines) + "\n")
        with open(self.workdir / "mosquitto.log", "ab") as log:  # the child keeps its own copy of the fd
            self.proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=log)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"mosquitto exited: {(self.workdir / 'mosquitto.log').read_text()[-2000:]}")
            try:
                socket.create_connection((self.host, self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        pytest.fail("mosquitto did not listen within 10 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(5)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.kill()


def private_broker(workdir: Path, persistence: bool = False) -> Broker:
    workdir.mkdir(parents=True, exist_ok=True)
    broker = Broker("127.0.0.1", free_port(), workdir, persistence)
    broker.start()
    return broker


# ------------------------------------------------------------------------------------------ MQTT
class Listener:
    """A paho client collecting every message on its subscriptions."""

    def __init__(self, broker: Broker, topics: list[str], *, client_id: str | None = None, clean: bool = True):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.subscribed = threading.Event()
        self.topics = topics
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id or f"test-{uuid.uuid4().hex[:8]}", clean_session=clean
        )
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(0.05, 0.3)
        self.client.connect(broker.host, broker.port, 30)
        self.client.loop_start()
        assert self.subscribed.wait(10), "the test listener could not subscribe"

    def _on_connect(self, client, userdata, flags, reason, props) -> None:
        client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client, userdata, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def json_on(self, topic: str) -> list[dict]:
        return [json.loads(p) for p in self.on(topic)]

    def wait(self, predicate: Callable[[], object], timeout: float = 15.0, what: str = "") -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")

    def close(self) -> None:
        self.client.disconnect()  # wakes paho's loop thread, so that loop_stop returns at once
        self.client.loop_stop()


class Publisher:
    """Publishes telemetry QoS 1 in order and waits until the broker has it."""

    def __init__(self, broker: Broker):
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"pub-{uuid.uuid4().hex[:8]}")
        self.client.max_inflight_messages_set(1000)
        self.client.connect(broker.host, broker.port, 30)
        self.client.loop_start()

    def publish(self, messages: list[tuple[str, bytes]], retain: bool = False) -> None:
        infos = [self.client.publish(t, p, qos=1, retain=retain) for t, p in messages]
        for info in infos:
            info.wait_for_publish(10)

    def close(self) -> None:
        self.client.disconnect()  # wakes paho's loop thread, so that loop_stop returns at once
        self.client.loop_stop()


# ------------------------------------------------------------------------------------------ agent
class AgentProcess:
    def __init__(self, broker: Broker, bundle: Path | None, workdir: Path, *extra: str, device: str | None = None):
        self.device = device or f"dev-{uuid.uuid4().hex[:8]}"
        self.tenant = "acme"
        self.prefix = f"aiot/{self.tenant}/devices/{self.device}"
        self.log_path = workdir / f"agent-{self.device}.log"
        self.state_dir = workdir / f"state-{self.device}"
        args = [AIOT, "edge", "run", "--broker", broker.url, "--device-id", self.device, "--tenant", self.tenant]
        args += ["--state-dir", str(self.state_dir), "--status-interval", "0.3", "--reconnect-min-s", "0.1"]
        args += ["--reconnect-max-s", "0.5"]
        if bundle is not None:
            args += ["--bundle", str(bundle)]
        self.args = [*args, *extra]
        self.proc: subprocess.Popen | None = None

    def start(self) -> AgentProcess:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=log, cwd=self.log_path.parent)
        return self

    def log(self) -> list[dict]:
        out = []
        for line in self.log_path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"raw": line})
        return out

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def wait_for(predicate, timeout: float = 30.0, what: str = "", interval: float = 0.05):
    """Poll ``predicate`` until it returns something true (returned), or fail naming ``what``.
    Timeouts are generous: tests never fail on time, only on a state never reached."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def wait_online(listener: Listener, agent: AgentProcess, timeout: float = 20.0) -> dict:
    """The agent's first online status (it is subscribed by then)."""
    topic = f"{agent.prefix}/status"

    def online():
        return [s for s in listener.json_on(topic) if s.get("state") == "online"]

    listener.wait(lambda: online() or not agent.alive(), timeout, f"{agent.device} online")
    assert agent.alive(), f"the agent exited: {agent.log_path.read_text()[-3000:]}"
    return online()[-1]


def latest_status(listener: Listener, agent: AgentProcess) -> dict:
    return listener.json_on(f"{agent.prefix}/status")[-1]


# ------------------------------------------------------------------------------------------ bundles
def bench_graph() -> dict:
    return json.loads(BENCH_GRAPH.read_text())


def forklift_message(i: int, *, alert: bool, ts: float | None = None) -> tuple[str, bytes]:
    """Bench telemetry: with alert, proximity < 2, speed > 8 and not in the yard (critical below 1 m)."""
    payload = {
        "ts": ts if ts is not None else 1_767_258_000_000 + i * 10,
        "speed_kmh": 9.5 if alert else 8.0,
        "proximity_m": (0.5 if i % 3 == 0 else 1.5) if alert else 2.0,
        "zone": ["aisle", "dock"][i % 2] if alert else "yard",
        "seq": i,
    }
    return f"site/s{i % 5}/forklift/fl{i % 50}/telemetry", json.dumps(payload).encode()
