"""Deploying to a running agent: download with the device token, verify, swap between batches,
keep or reset state, roll back, refuse what does not check out, and survive a restart."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_compiler.build import build_bundle
from edge_compiler.bundle import read_bundle

from .harness import Publisher, bench_graph, forklift_message, latest_status, wait_online

TOKEN = "device-token-123"


class BundleServer:
    """Serves bundles over HTTP to requests that carry the device token."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.auth: list[str | None] = []
        files, auth = self.files, self.auth

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                auth.append(self.headers.get("Authorization"))
                if self.headers.get("Authorization") != f"Bearer {TOKEN}":
                    self.send_response(401)
                    self.end_headers()
                    return
                data = files.get(self.path)
                self.send_response(200 if data is not None else 404)
                self.send_header("Content-Length", str(len(data or b"")))
                self.end_headers()
                self.wfile.write(data or b"")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def put(self, name: str, data: bytes) -> dict:
        self.files[f"/{name}"] = data
        return {
            "bundle_url": f"http://127.0.0.1:{self.httpd.server_port}/{name}",
            "sha256": hashlib.sha256(data).hexdigest(),
        }


@pytest.fixture
def server():
    s = BundleServer()
    yield s
    s.httpd.shutdown()


def variant(message: str | None = None, window: bool = False) -> dict:
    """The bench graph with another alert message (same state layout), or with a window (another layout)."""
    doc = copy.deepcopy(bench_graph())
    if message:
        for node in doc["nodes"]:
            if node["type"] == "action.alert":
                node["params"]["message"] = message
    if window:
        doc["nodes"].append({"id": "avg", "type": "window.agg", "params": {"agg": "mean", "size": 3}})
        doc["edges"].append({"from": "speed", "to": "avg"})
        doc["edges"].append({"from": "avg", "to": "alert_warning.avg_speed"})
    return doc


def tampered(data: bytes) -> bytes:
    """The same entries, logic.onnx changed by one byte: its hash no longer matches the manifest."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            content = src.read(info)
            if info.filename == "logic.onnx":
                content = content[:-1] + bytes([content[-1] ^ 1])
            dst.writestr(info, content)
    return out.getvalue()


def test_deploy_swaps_keeps_or_resets_state_rolls_back_refuses_and_persists(
    agents, listeners, broker, signing_key, bench_bundle, server, tmp_path
):
    key, pub = signing_key
    a_id = read_bundle(bench_bundle.read_bytes()).bundle_id
    b = build_bundle(variant(message="B says {key}"), {}, key)
    c = build_bundle(variant(window=True), {}, key)
    b_manifest, c_manifest = read_bundle(b.data).manifest, read_bundle(c.data).manifest
    a_manifest = read_bundle(bench_bundle.read_bytes()).manifest
    assert a_manifest["state_layout"] == b_manifest["state_layout"] != c_manifest["state_layout"]
    stranger = build_bundle(variant(message="stranger"), {}, Ed25519PrivateKey.generate())

    agent = agents(bench_bundle, "--trust", str(pub), "--token", TOKEN)
    listener = listeners(broker, [f"{agent.prefix}/#"])
    wait_online(listener, agent)
    publisher = Publisher(broker)
    results_topic, actions = f"{agent.prefix}/deploy/result", f"{agent.prefix}/actions"
    seq = iter(range(10_000))

    def deploy(request: dict) -> dict:
        n = len(listener.on(results_topic))
        publisher.publish([(f"{agent.prefix}/deploy", json.dumps(request).encode())])
        listener.wait(lambda: len(listener.on(results_topic)) > n, what=f"a deploy result for {request}")
        return listener.json_on(results_topic)[-1]

    def alert_message() -> str:
        n = len(listener.on(actions))
        publisher.publish([forklift_message(next(seq), alert=True)])
        listener.wait(lambda: len(listener.on(actions)) > n, what="an alert")
        return listener.json_on(actions)[-1]["message"]

    assert alert_message().startswith("forklift ")

    # Refused: wrong sha256, a tampered bundle, an untrusted signer, a bad request. A keeps running.
    wrong = {**server.put("b.aiotb", b.data), "sha256": "0" * 64}
    r = deploy(wrong)
    assert r["ok"] is False and r["bundle"] == a_id and "sha256" in r["error"] and r["state"] is None
    r = deploy(server.put("t.aiotb", tampered(b.data)))
    assert r["ok"] is False and "altered" in r["error"] and r["bundle"] == a_id
    r = deploy(server.put("s.aiotb", stranger.data))
    assert r["ok"] is False and "not a trusted key" in r["error"]
    r = deploy({"bundle_url": "file:///etc/passwd", "sha256": "0" * 64})
    assert r["ok"] is False and "http" in r["error"]
    assert not alert_message().startswith("B says")
    assert latest_status(listener, agent)["bundle"] == a_id

    # A good bundle with the same state layout: swapped, state kept; the token went along.
    r = deploy(server.put("b.aiotb", b.data))
    assert r["ok"] is True and r["bundle"] == b.bundle_id and r["state"] == "kept" and r["previous"] == a_id
    assert server.auth[-1] == f"Bearer {TOKEN}"
    assert alert_message().startswith("B says")
    listener.wait(lambda: latest_status(listener, agent)["bundle"] == b.bundle_id, what="status with B")
    assert latest_status(listener, agent)["deploy"]["ok"] is True

    # Rollback to A; then C, whose state layout differs: state reset.
    r = deploy({"rollback": True})
    assert r["ok"] is True and r["bundle"] == a_id and r["rollback"] is True
    assert not alert_message().startswith("B says")
    r = deploy(server.put("c.aiotb", c.data))
    assert r["ok"] is True and r["bundle"] == c.bundle_id and r["state"] == "reset"
    alert_message()

    # Restarted with the same --bundle, the agent runs the last deployed bundle (C), A kept for rollback.
    assert agent.stop() == 0
    seen = len(listener.on(f"{agent.prefix}/status"))
    again = agents(bench_bundle, "--trust", str(pub), "--token", TOKEN, device=agent.device)
    listener.wait(
        lambda: any(s.get("state") == "online" for s in listener.json_on(f"{agent.prefix}/status")[seen:]),
        what="the restarted agent online",
    )
    status = next(s for s in listener.json_on(f"{agent.prefix}/status")[seen:] if s["state"] == "online")
    assert status["bundle"] == c.bundle_id and status["previous_bundle"] == a_id
    assert any(e.get("event") == "resuming_deployed_bundle" for e in again.log())
    r = deploy({"rollback": True})
    assert r["ok"] is True and r["bundle"] == a_id
    publisher.close()
    assert again.stop() == 0
