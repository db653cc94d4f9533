"""The agent's parts that need no broker: settings, deploy requests, downloads, the state directory."""

from __future__ import annotations

import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge_agent.config import ConfigError, load_config
from edge_agent.deploy import BundleStore, DeployError, fetch_bundle, parse_request
from edge_agent.status import percentile

BASE = {"device_id": "gw-1", "tenant": "acme"}


def test_flags_override_the_config_file_and_paths_are_relative_to_it(tmp_path):
    conf = tmp_path / "agent.toml"
    conf.write_text(
        'broker = "mqtts://user:secret@broker.example"\ndevice_id = "gw-7"\ntenant = "acme"\n'
        'bundle = "b.aiotb"\ntrust = ["keys/studio.pub"]\nbatch_ms = 5\nqos = 1\nprotocol = "5"\n'
        'tls_ca = "ca.pem"\n'
    )
    c = load_config(str(conf), {"batch_ms": 1.5, "device_id": None, "trust": ["/abs/other.pub"]})
    assert c.batch_ms == 1.5 and c.device_id == "gw-7" and c.qos == 1 and c.protocol == "5"
    assert c.bundle == str(tmp_path / "b.aiotb") and c.tls_ca == str(tmp_path / "ca.pem")
    assert c.trust == [str(tmp_path / "keys/studio.pub"), "/abs/other.pub"]
    assert (c.host, c.port, c.tls, c.username, c.password) == ("broker.example", 8883, True, "user", "secret")
    assert c.redacted_broker() == "mqtts://broker.example:8883" and c.client_id == "aiot-edge-acme-gw-7"
    assert c.topic_prefix == "aiot/acme/devices/gw-7"


@pytest.mark.parametrize(
    ("toml", "flags", "message"),
    [
        ('colour = "red"\n', {}, "unknown setting 'colour'"),
        ("batch_ms = 'fast'\n", {}, "batch_ms: expected float"),
        ("", {"broker": "http://x"}, "expected mqtt://host:port"),
        ("", {"broker": "mqtt://x:99999"}, "port"),
        ("", {"qos": 3}, "qos 3"),
        ("", {"batch_max": 0}, "batch_max 0"),
        ("", {"device_id": None, "tenant": "acme"}, "device_id is required"),
        ("", {"tenant": "a/b"}, "tenant 'a/b'"),
        ("", {"tls_cert": "c.pem"}, "tls_cert and tls_key go together"),
        ("not toml [", {}, "config"),
    ],
)
def test_a_bad_setting_is_refused_by_name(tmp_path, toml, flags, message):
    conf = tmp_path / "agent.toml"
    conf.write_text(toml)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        load_config(str(conf), {**BASE, **flags})


def test_deploy_requests_are_checked_before_anything_is_fetched():
    ok = parse_request(b'{"bundle_url": "https://studio/b.aiotb?sig=x", "sha256": "' + b"A" * 64 + b'", "id": 7}')
    assert (ok.url, ok.sha256, ok.id, ok.rollback) == ("https://studio/b.aiotb?sig=x", "a" * 64, "7", False)
    assert ok.describe()["bundle_url"] == "https://studio/b.aiotb"  # the signed query stays out of logs
    assert parse_request(b'{"rollback": true}').rollback
    for bad in [
        b"nope",
        b"[1]",
        b'{"bundle_url": "ftp://x/b", "sha256": "' + b"a" * 64 + b'"}',
        b'{"bundle_url": "https://x/b", "sha256": "abc"}',
        b"{" * 20_000,
    ]:
        with pytest.raises(DeployError):
            parse_request(bad)


@pytest.fixture
def http_server():
    files: dict[str, bytes] = {}
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(dict(self.headers))
            if self.path == "/moved":
                self.send_response(302)
                self.send_header("Location", f"http://localhost:{self.server.server_port}/b")
                self.end_headers()
                return
            data = files.get(self.path)
            self.send_response(200 if data is not None else 404)
            if self.path != "/nolength":
                self.send_header("Content-Length", str(len(data or b"")))
            self.end_headers()
            self.wfile.write(data or b"")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}", files, seen
    httpd.shutdown()


def test_a_download_is_size_limited_hash_checked_and_keeps_the_token_at_home(http_server):
    url, files, seen = http_server
    files["/b"] = files["/nolength"] = data = b"bundle bytes" * 100
    digest = hashlib.sha256(data).hexdigest()
    assert fetch_bundle(f"{url}/b", digest, token="tok", max_bytes=10_000) == data
    assert seen[-1]["Authorization"] == "Bearer tok"
    with pytest.raises(DeployError, match="limit"):
        fetch_bundle(f"{url}/b", digest, token="tok", max_bytes=100)
    with pytest.raises(DeployError, match="larger than the limit"):
        fetch_bundle(f"{url}/nolength", digest, token="tok", max_bytes=100)
    with pytest.raises(DeployError, match="sha256"):
        fetch_bundle(f"{url}/b", "0" * 64, token="tok", max_bytes=10_000)
    with pytest.raises(DeployError, match="HTTP 404"):
        fetch_bundle(f"{url}/missing", digest, token="tok", max_bytes=10_000)
    # A redirect to another host (localhost is not 127.0.0.1) does not take the token along.
    assert fetch_bundle(f"{url}/moved", digest, token="tok", max_bytes=10_000) == data
    assert "Authorization" not in seen[-1]
    with pytest.raises(DeployError, match="cannot download"):
        fetch_bundle("http://127.0.0.1:1/b", digest, token=None, max_bytes=100, timeout=2)


def test_the_state_dir_resumes_a_deployment_only_over_the_same_startup_bundle(tmp_path):
    store = BundleStore(str(tmp_path / "state"))
    assert store.load("origin") == (None, None)
    store.save(b"new", b"old", "origin")
    assert store.load("origin") == (b"new", b"old")
    assert store.load(None) == (b"new", b"old")  # started without --bundle
    assert store.load("another --bundle") == (None, None)
    store.save(b"newer", b"new", "origin")
    assert sorted(p.stem for p in (tmp_path / "state" / "bundles").iterdir()) == sorted(
        hashlib.sha256(d).hexdigest() for d in (b"newer", b"new")
    )
    (tmp_path / "state" / "bundles" / f"{hashlib.sha256(b'newer').hexdigest()}.aiotb").write_bytes(b"rotten")
    assert store.load("origin") == (None, b"new")  # a file that no longer matches its name is not used


def test_percentiles_are_nearest_rank():
    values = sorted(float(i) for i in range(1, 101))
    assert (percentile(values, 50), percentile(values, 99), percentile([], 50)) == (50.0, 99.0, None)
    assert percentile([3.0], 99) == 3.0


def test_the_fast_path_hands_qos0_publishes_straight_to_the_agent_and_leaves_the_rest_to_paho():
    import paho.mqtt.client as mqtt

    from edge_agent.mqtt_fast import FAST_PATH, FastClient

    assert FAST_PATH, "paho no longer has _handle_publish: the agent runs on paho's slower path"
    got, slow = [], []
    client = FastClient(mqtt.CallbackAPIVersion.VERSION2, client_id="t")
    client.fast_messages = got.extend
    client.on_message = lambda c, u, m: slow.append((m.topic, m.payload, m.qos))

    def feed(command: int, body: bytes) -> None:
        client._in_packet = {**client._in_packet, "command": command, "packet": bytearray(body)}
        client._handle_publish()

    feed(0x30, b"\x00\x05a/b/c{}")
    feed(0x31, b"\x00\x03x/y" + b"\x00" * 3)  # retained
    feed(0x30, b"\x00\x02\xff\xfepayload")  # a topic that is not UTF-8
    assert got == [("a/b/c", b"{}", False), ("x/y", b"\x00" * 3, True), (None, b"payload", False)]
    feed(0x32, b"\x00\x03q/1\x00\x07{}")  # QoS 1: paho's path (it acknowledges)
    assert slow == [("q/1", b"{}", 1)] and len(got) == 3


def test_a_log_field_never_replaces_the_line_s_own_timestamp():
    import io
    import json

    from edge_agent.logs import Log

    stream = io.StringIO()
    Log("info", stream).info("deploy_result", ts=1796053232978, ok=True)
    line = json.loads(stream.getvalue())
    assert line["event"] == "deploy_result" and line["level"] == "info" and line["ts"].endswith("Z")
    assert line["ts_"] == 1796053232978 and line["ok"] is True


TOPIC_TEXT = st.text(st.characters(exclude_characters="+#", exclude_categories=("Cs",)), min_size=1, max_size=40)
SIZES = [0, 1, 90, 125, 126, 300, 16_400, 70_000]  # remaining lengths of 1, 2 and 3 bytes


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(
                st.just("publish"),
                TOPIC_TEXT,
                st.sampled_from(SIZES),
                st.booleans(),
            ),
            st.tuples(st.just("puback"), st.integers(1, 65535)),
        ),
        max_size=30,
    ),
    st.lists(st.integers(1, 40_000), min_size=1, max_size=8),
    st.integers(1, 5),
)
def test_the_fast_reader_frames_any_stream_of_publishes_and_pubacks_as_it_was_written(packets, chunks, limit):
    """Packets of every length encoding (1, 2 and 3 bytes), split anywhere between reads."""
    import socket

    import paho.mqtt.client as mqtt

    from edge_agent.mqtt_fast import FastClient, topic_field

    client = FastClient(mqtt.CallbackAPIVersion.VERSION2, client_id="t")
    got: list = []
    client.fast_messages = lambda messages: got.extend(("publish", t, p, r) for t, p, r in messages)
    client.fast_puback = lambda mid: got.append(("puback", mid))
    ours, theirs = socket.socketpair()
    ours.setblocking(False)
    client._sock = ours
    want, stream = [], b""
    for i, packet in enumerate(packets):
        if packet[0] == "puback":
            want.append(packet)
            stream += b"\x40\x02" + packet[1].to_bytes(2, "big")
            continue
        _, topic, size, retain = packet
        payload = bytes((i + j) % 251 for j in range(size))
        want.append(("publish", topic, payload, retain))
        body = topic_field(topic) + payload
        stream += bytes((0x31 if retain else 0x30,)) + _length(len(body)) + body  # QoS 0
    try:
        pos, k = 0, 0
        while pos < len(stream):
            step = chunks[k % len(chunks)]
            theirs.sendall(stream[pos : pos + step])
            pos, k = pos + step, k + 1
            while client.fast_read(limit) > 0:
                pass
        while client.fast_buffered() and client.fast_read(limit) > 0:
            pass
    finally:
        ours.close()
        theirs.close()
    # Each kind in order (a PUBACK is handled at once, the publishes of a read handed over together).
    for kind in ("publish", "puback"):
        assert [g for g in got if g[0] == kind] == [w for w in want if w[0] == kind]


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


@pytest.mark.parametrize("size", [0, 90, 123, 124, 16_000, 16_379, 16_380, 70_000, 2_100_000])
@pytest.mark.parametrize("retain", [False, True])
def test_an_outgoing_publish_is_a_qos1_packet_with_its_length_in_as_many_bytes_as_it_needs(size, retain):
    from edge_agent.mqtt_fast import publish_packet, topic_field

    field, payload = topic_field("aiot/t/devices/d/actions"), b"x" * size
    body = field + (513).to_bytes(2, "big") + payload
    assert publish_packet(field, 513, payload, retain) == bytes((0x33 if retain else 0x32,)) + _length(len(body)) + body
