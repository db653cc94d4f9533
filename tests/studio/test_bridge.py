"""The MQTT bridge against a real Mosquitto: agents' status and alerts are stored and reach the
tenant's WebSocket; hostile messages are counted and dropped; a broker restart is survived."""

from __future__ import annotations

import contextlib
import json
import threading

import pytest
from asgiref.sync import sync_to_async

from blueprints.actions import do_register_device
from blueprints.api.serializers import DeviceSerializer
from blueprints.bridge import Bridge
from blueprints.models import Alert, AuditEvent, Device
from tests.edge.harness import Publisher, private_broker, wait_for
from tests.studio.conftest import SYSTEM
from tests.studio.test_live import connect

pytestmark = pytest.mark.django_db(transaction=True)

STATUS = {
    "state": "online",
    "bundle": "b" * 64,
    "uptime_s": 3,
    "events_in": 10,
    "events_rejected": 1,
    "actions_out": 2,
    "eval_ms": {"p50": 0.2, "p99": 0.9},
    "ts": 1700000000000,
}
ALERT = {
    "action": "alarm",
    "kind": "alert",
    "key": "f1",
    "ts": 1700000000000,
    "name": "overspeed",
    "severity": "warning",
    "message": "overspeed on f1",
    "values": {"speed": 12},
}


@pytest.fixture
def mqtt_broker(tmp_path):
    broker = private_broker(tmp_path / "mosquitto")
    yield broker
    broker.stop()


@contextlib.contextmanager
def running_bridge(broker, flush_ms: int = 50):
    b = Bridge(broker.url, client_id="bridge-under-test", flush_ms=flush_ms)
    stop = threading.Event()
    thread = threading.Thread(target=b.run, kwargs={"until": stop}, daemon=True)
    thread.start()
    assert b.connected.wait(10), "the bridge did not connect"
    try:
        yield b
    finally:
        stop.set()
        thread.join(10)


@pytest.fixture
def bridge(mqtt_broker):
    with running_bridge(mqtt_broker) as b:
        yield b


def last_audit_id() -> int:
    return AuditEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0


async def test_status_and_alerts_are_stored_and_forwarded(acme, globex, mqtt_broker, bridge):
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok
    await ws.receive_json_from(5)
    audited = AuditEvent.objects.filter(tenant=acme["tenant"], pk__gt=await sync_to_async(last_audit_id)())
    pub = Publisher(mqtt_broker)
    try:
        await sync_to_async(pub.publish)(
            [
                ("aiot/acme/devices/gw-1/status", json.dumps(STATUS).encode()),
                ("aiot/acme/devices/gw-1/actions", json.dumps(ALERT).encode()),
                (
                    "aiot/acme/devices/gw-1/actions",
                    json.dumps({**ALERT, "kind": "command", "topic": "x", "payload": {}}).encode(),
                ),
                ("aiot/globex/devices/gw-1/actions", json.dumps(ALERT).encode()),
            ]
        )
        messages = [await ws.receive_json_from(10), await ws.receive_json_from(10)]
    finally:
        pub.close()
    kinds = {m["type"]: m for m in messages}
    [status] = kinds["device.status"]["data"]  # a list: one message per flush, for every device in it
    assert status["device_id"] == "gw-1" and status["state"] == "online"
    assert status["last_status"]["eval_ms"] == {"p50": 0.2, "p99": 0.9}
    assert kinds["alert"]["data"]["name"] == "overspeed" and kinds["alert"]["data"]["device"] == "gw-1"
    assert await ws.receive_nothing(0.5)  # globex's alert and the command are not Acme's live messages
    device = await sync_to_async(Device.objects.get)(tenant=acme["tenant"], device_id="gw-1")
    assert device.state == "online" and device.bundle_id == "b" * 64
    assert status == json.loads(json.dumps(DeviceSerializer(device).data))  # the live message is the API's device
    assert await sync_to_async(Alert.objects.filter(tenant=acme["tenant"], name="overspeed", ts=1.7e12).count)() == 1
    assert await sync_to_async(Alert.objects.filter(tenant=globex["tenant"], ts=1.7e12).count)() == 1
    # the device's coming online and the alert are in the audit log, as the bridge's (the command is not)
    assert await sync_to_async(lambda: sorted(audited.values_list("action", "actor_label")))() == [
        ("alert.receive", "system:bridge"),
        ("device.online", "system:bridge"),
    ]
    await ws.disconnect()


def test_hostile_messages_are_counted_and_the_bridge_goes_on(acme, mqtt_broker, bridge):
    pub = Publisher(mqtt_broker)
    try:
        pub.publish(
            [
                ("aiot/acme/devices/gw-1/status", b"not json"),
                ("aiot/acme/devices/gw-1/status", b"[" * 100_000 + b"]" * 100_000),
                ("aiot/acme/devices/gw-1/status", b'{"state": "' + b"x" * 300_000 + b'"}'),
                ("aiot/acme/devices/gw-1/status", b'{"state": "sleeping"}'),
                # PostgreSQL cannot store a NUL, nor UTF-8 a lone surrogate: refused, not a lost batch.
                ("aiot/acme/devices/gw-1/status", b'{"state": "online", "note": "a\\u0000b"}'),
                ("aiot/acme/devices/gw-1/actions", b'{"kind": "alert", "name": "\\udc00", "ts": 1}'),
                ("aiot/acme/devices/gw-1/actions", b'{"kind": "alert", "ts": "yesterday"}'),
                ("aiot/nosuch/devices/gw-1/status", json.dumps(STATUS).encode()),
                ("aiot/acme/devices/gw-404/status", json.dumps(STATUS).encode()),
                ("aiot/acme/devices/gw-1/status", json.dumps(STATUS).encode()),
            ]
        )
    finally:
        pub.close()
    wait_for(lambda: bridge.stats.received >= 10, what="all 10 messages")
    wait_for(lambda: Device.objects.get(tenant=acme["tenant"], device_id="gw-1").state == "online", what="status")
    rejected = dict(bridge.stats.rejected)
    assert rejected == {
        "not_json": 1,
        "too_deep": 1,
        "too_large": 1,
        "unstorable_text": 2,
        "status": 1,
        "alert": 1,
        "unknown_tenant": 1,
        "unknown_device": 1,
    }, rejected


def test_it_reconnects_after_a_broker_restart(acme, mqtt_broker, bridge):
    mqtt_broker.kill()
    wait_for(lambda: not bridge.connected.is_set(), what="the bridge to notice")
    mqtt_broker.start()
    assert bridge.connected.wait(40), "the bridge did not reconnect"
    pub = Publisher(mqtt_broker)
    try:
        pub.publish([("aiot/acme/devices/gw-1/actions", json.dumps({**ALERT, "ts": 42}).encode())])
    finally:
        pub.close()
    wait_for(lambda: Alert.objects.filter(tenant=acme["tenant"], ts=42).exists(), 15, "the alert after the restart")


async def test_a_status_after_a_quiet_spell_is_forwarded_at_once(acme, mqtt_broker):
    """The flush bounds how often the bridge writes and forwards, it is no clock to wait for: with
    a flush of a minute, a status arriving when nothing else has still reaches the browser."""
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok
    await ws.receive_json_from(5)
    with running_bridge(mqtt_broker, flush_ms=60_000):
        pub = Publisher(mqtt_broker)
        try:
            await sync_to_async(pub.publish)([("aiot/acme/devices/gw-1/status", json.dumps(STATUS).encode())])
            message = await ws.receive_json_from(10)  # far less than the flush
        finally:
            pub.close()
    assert message["type"] == "device.status" and [d["device_id"] for d in message["data"]] == ["gw-1"]
    await ws.disconnect()


async def test_a_batch_stores_and_forwards_the_latest_status_per_device(acme, mqtt_broker):
    await sync_to_async(do_register_device)(SYSTEM, acme["tenant"], "gw-2", "Gateway 2", "site-1")
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok
    await ws.receive_json_from(5)
    b = Bridge(mqtt_broker.url, client_id="bridge-under-test")
    for device_id, state, uptime in [("gw-1", "online", 1), ("gw-2", "online", 1), ("gw-1", "offline", 2)]:
        body = json.dumps({**STATUS, "state": state, "uptime_s": uptime}).encode()
        b.inbox.put((f"aiot/acme/devices/{device_id}/status", body))
    try:
        assert await sync_to_async(b.drain)() == 3
    finally:
        await sync_to_async(b.close)()
    message = await ws.receive_json_from(5)  # one message for the batch
    states = {d["device_id"]: (d["state"], d["last_status"]["uptime_s"]) for d in message["data"]}
    assert states == {"gw-1": ("offline", 2), "gw-2": ("online", 1)}
    assert await ws.receive_nothing(0.3)
    stored = await sync_to_async(Device.objects.get)(tenant=acme["tenant"], device_id="gw-1")
    assert stored.state == "offline" and stored.last_status["uptime_s"] == 2
    assert b.stats.stored_status == 2
    await ws.disconnect()


async def test_alerts_are_stored_and_forwarded_in_arrival_order(acme, mqtt_broker, bridge):
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok
    await ws.receive_json_from(5)
    pub = Publisher(mqtt_broker)
    try:
        await sync_to_async(pub.publish)(
            [("aiot/acme/devices/gw-1/actions", json.dumps({**ALERT, "ts": 100 + n}).encode()) for n in range(20)]
        )
        messages = [await ws.receive_json_from(10) for _ in range(20)]
    finally:
        pub.close()
    assert [m["data"]["ts"] for m in messages] == [100 + n for n in range(20)]
    stored = await sync_to_async(list)(
        Alert.objects.filter(tenant=acme["tenant"], ts__gte=100, ts__lt=200).order_by("pk").values_list("ts", flat=True)
    )
    assert stored == [100 + n for n in range(20)]
    await ws.disconnect()
