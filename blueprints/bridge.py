"""The MQTT bridge: agents' status and action records → the database and the browsers.

Subscribes to ``aiot/+/devices/+/status`` and ``aiot/+/devices/+/actions`` of every tenant.
paho's thread only queues; one worker takes everything queued as soon as a message is there,
keeps the latest status per device (a device reporting faster than we write loses nothing that
matters), stores alerts in arrival order, and forwards both to the tenant's live group. It takes
at most one batch per ``flush_ms``: under load batches grow, their number does not.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from django.db import close_old_connections, transaction

from rules_engine.document import MAX_DEPTH, max_depth, unstorable_text

from .actions import Invalid, do_record_alert, do_record_device_statuses
from .actions.deployments import advance_deployments, catch_up
from .api.serializers import AlertSerializer
from .live import LiveSender, message_text
from .models import Device, Tenant
from .mqtt import make_client

log = logging.getLogger("aiot.bridge")

TOPICS = ["aiot/+/devices/+/status", "aiot/+/devices/+/actions", "aiot/+/devices/+/deploy/result"]
MAX_MESSAGE_BYTES = 256 * 1024
FLUSH_MS = 20  # at most one batch (one write, one live message per tenant) per flush
FLEET_S = 0.2  # the control loop's pace under traffic: a deployment waits seconds for a device
IDLE_WAIT_S = 0.25  # how long the worker waits for a message before looking at the clock


def live_device(d) -> dict:
    """A device as the API shows it (DeviceSerializer), built without DRF: the bridge makes a
    thousand a second (tests/studio/test_bridge.py checks the two agree)."""
    return {
        "device_id": d.device_id,
        "name": d.name,
        "group": d.group,
        "state": d.state,
        "bundle": d.bundle_id,
        "last_status": d.last_status,
        "last_seen": d.last_seen.isoformat().replace("+00:00", "Z") if d.last_seen else None,
        "created_at": d.created_at.isoformat().replace("+00:00", "Z"),
    }


def live_text(tenant: Tenant, type_: str, data) -> tuple[int, str]:
    """(tenant id, message text) for the live sender; whatever JSON lacks is sent as text."""
    return tenant.pk, message_text(type_, tenant.slug, data, default=str)


@dataclass
class BridgeStats:
    received: int = 0
    stored_status: int = 0
    stored_alerts: int = 0
    rejected: Counter = field(default_factory=Counter)


def parse_message(topic: str, payload: bytes) -> tuple[str, str, str, dict] | str:
    """(tenant slug, device id, kind, body), or the reason it is refused."""
    levels = topic.split("/")
    if levels[-2:] == ["deploy", "result"]:
        levels = [*levels[:-2], "deploy_result"]
    if (
        len(levels) != 5
        or levels[0] != "aiot"
        or levels[2] != "devices"
        or levels[4] not in ("status", "actions", "deploy_result")
    ):
        return "topic"
    if len(payload) > MAX_MESSAGE_BYTES:
        return "too_large"
    try:
        text = payload.decode("utf-8")
        if text.count("[") + text.count("{") > MAX_DEPTH and max_depth(text) > MAX_DEPTH:
            return "too_deep"
        body = json.loads(text)
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "not_json"
    if not isinstance(body, dict):
        return "not_object"
    if unstorable_text(body, text) is not None:
        return "unstorable_text"
    return levels[1], levels[3], levels[4], body


class Bridge:
    def __init__(self, mqtt_url: str, client_id: str = "aiot-bridge", flush_ms: int = FLUSH_MS):
        self.mqtt_url = mqtt_url
        self.flush_s = flush_ms / 1000.0
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.stats = BridgeStats()
        self.client, self.target = make_client(mqtt_url, client_id)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message
        self.client.on_disconnect = self._on_disconnect
        self._stop = threading.Event()
        self._tenants: dict[str, Tenant | None] = {}
        self._tenants_at = 0.0
        self._fleet_at = 0.0
        self._fleet_devices: dict[int, Device] = {}
        self._fleet_errors: dict[tuple[str, str], str] = {}
        self.sender: LiveSender | None = None
        self.connected = threading.Event()

    # --- paho's thread ------------------------------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("broker refused the bridge: %s", reason_code)
            return
        client.subscribe([(t, 0) for t in TOPICS])
        log.info("bridge connected to %s:%s", self.target.host, self.target.port)

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties):
        # Connected means receiving: only once the broker has acknowledged the subscriptions.
        if any(rc.is_failure for rc in reason_codes):
            log.error("broker refused the bridge's subscriptions: %s", reason_codes)
            return
        self.connected.set()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("bridge lost the broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, message):
        self.inbox.put((message.topic, message.payload))

    # --- the worker -----------------------------------------------------------------------------------
    def tenant(self, slug: str) -> Tenant | None:
        now = time.monotonic()
        if now - self._tenants_at > 30:  # tenants come and go rarely: refresh the cache now and then
            self._tenants, self._tenants_at = {}, now
        if slug not in self._tenants:
            self._tenants[slug] = Tenant.objects.filter(slug=slug).first()
        return self._tenants[slug]

    def take(self, wait_s: float = 0.0) -> list[tuple[str, bytes]]:
        """Everything that has arrived, after waiting up to ``wait_s`` for the first message."""
        batch = []
        try:
            batch.append(self.inbox.get(timeout=wait_s) if wait_s > 0 else self.inbox.get_nowait())
            while True:
                batch.append(self.inbox.get_nowait())
        except queue.Empty:
            return batch

    def drain(self) -> int:
        """Store and forward what has arrived; returns how many messages it took."""
        batch = self.take()
        self.process(batch)
        return len(batch)

    def process(self, batch: list[tuple[str, bytes]]) -> None:
        """Store a batch, forward it, then give the fleet's control loop its turn."""
        statuses: dict[tuple[str, str], dict] = {}
        alerts: list[tuple[str, str, dict]] = []
        deploy_errors: dict[tuple[str, str], str] = {}
        for topic, payload in batch:
            self.stats.received += 1
            parsed = parse_message(topic, payload)
            if isinstance(parsed, str):
                self.stats.rejected[parsed] += 1
                continue
            slug, device_id, kind, body = parsed
            if kind == "deploy_result":
                if body.get("ok") is False:
                    deploy_errors[(slug, device_id)] = str(body.get("error") or "the device refused the bundle")[:500]
                continue
            if kind == "status":
                if body.get("state") not in ("online", "offline"):
                    self.stats.rejected["status"] += 1  # judged before coalescing, so it is counted
                    continue
                statuses[(slug, device_id)] = body
            elif body.get("kind") == "alert":
                alerts.append((slug, device_id, body))
        devices = []
        if statuses or alerts:
            devices, forwards = self._store(statuses, alerts)
            self._forward(forwards)  # before the control loop: the browsers wait for nothing else
        self._fleet(devices, deploy_errors)

    def _store(self, statuses: dict, alerts: list) -> tuple[list[Device], list[tuple[int, str]]]:
        """Write the batch in one transaction: (devices stored, live messages to send)."""
        forwards = []
        devices = []
        with transaction.atomic():
            by_tenant: dict[str, dict[str, dict]] = {}
            for (slug, device_id), body in statuses.items():
                by_tenant.setdefault(slug, {})[device_id] = body
            for slug, bodies in by_tenant.items():
                tenant = self.tenant(slug)
                if tenant is None:
                    self.stats.rejected["unknown_tenant"] += len(bodies)
                    continue
                stored, unknown = do_record_device_statuses(tenant, bodies)
                self.stats.rejected["unknown_device"] += len(unknown)
                self.stats.stored_status += len(stored)
                devices += stored
                # One live message per tenant and batch, listing its devices: a browser gets a
                # message per batch however many devices report.
                forwards.append(live_text(tenant, "device.status", [live_device(d) for d in stored]))
            for slug, device_id, body in alerts:
                tenant = self.tenant(slug)
                if tenant is None:
                    self.stats.rejected["unknown_tenant"] += 1
                    continue
                try:
                    alert = do_record_alert(tenant, device_id, body)
                except Invalid:
                    self.stats.rejected["alert"] += 1
                    continue
                self.stats.stored_alerts += 1
                forwards.append(live_text(tenant, "alert", AlertSerializer(alert).data))
        return devices, forwards

    def _forward(self, forwards: list[tuple[int, str]]) -> None:
        # After the commit: a browser is told only what the API already serves.
        if self.sender is None:
            self.sender = LiveSender()
        self.sender.send(forwards)

    def _fleet(self, devices: list[Device], deploy_errors: dict[tuple[str, str], str]) -> None:
        """The fleet's control loop: deployments move on status, results and time. It keeps its
        own pace (FLEET_S under traffic, every second without), whatever the batches' pace."""
        self._fleet_devices.update((d.pk, d) for d in devices)
        self._fleet_errors.update(deploy_errors)
        pending = self._fleet_devices or self._fleet_errors
        now = time.monotonic()
        if now - self._fleet_at < (FLEET_S if pending else 1.0):
            return
        self._fleet_at = now
        devices, errors = list(self._fleet_devices.values()), self._fleet_errors
        self._fleet_devices, self._fleet_errors = {}, {}
        close_old_connections()  # here, not per batch: on SQLite it means a new connection each time
        advance_deployments(errors)
        catch_up(devices)

    def run(self, until: threading.Event | None = None) -> None:
        stop = until or self._stop
        self.client.connect_async(self.target.host, self.target.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                batch = self.take(IDLE_WAIT_S)  # a batch starts as soon as a message is there
                started = time.monotonic()
                self._process_logged(batch)
                if batch:
                    # The coalescing bound: at most one batch per flush. Under load a batch grows
                    # (still one write, one live message per tenant) rather than their number.
                    stop.wait(max(0.0, self.flush_s - (time.monotonic() - started)))
            self._process_logged(self.take())
        finally:
            self._stop.set()
            self.client.disconnect()
            self.client.loop_stop()
            self.close()

    def _process_logged(self, batch: list[tuple[str, bytes]]) -> None:
        try:
            self.process(batch)
        except Exception:  # a database hiccup must not end the bridge: log, keep going
            log.exception("bridge could not store a batch")
            close_old_connections()  # a broken connection is replaced before the next batch

    def close(self) -> None:
        """Release the live sender (run does this when it ends)."""
        if self.sender is not None:
            self.sender.close()
            self.sender = None

    def stop(self) -> None:
        self._stop.set()
