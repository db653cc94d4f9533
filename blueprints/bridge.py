"""The MQTT bridge: agents' status and action records → the database and the browsers.

Subscribes to ``aiot/+/devices/+/status`` and ``aiot/+/devices/+/actions`` of every tenant.
paho's thread only queues; one worker drains the queue every ``flush_ms``, keeps the latest
status per device (a device reporting faster than we write loses nothing that matters), stores
alerts in arrival order, and forwards both to the tenant's live group.
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
from .live import publish
from .models import Tenant
from .mqtt import make_client

log = logging.getLogger("aiot.bridge")

TOPICS = ["aiot/+/devices/+/status", "aiot/+/devices/+/actions", "aiot/+/devices/+/deploy/result"]
MAX_MESSAGE_BYTES = 256 * 1024


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
    def __init__(self, mqtt_url: str, client_id: str = "aiot-bridge", flush_ms: int = 200):
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

    def drain(self) -> int:
        """Store and forward what has arrived; returns how many messages it took."""
        statuses: dict[tuple[str, str], dict] = {}
        alerts: list[tuple[str, str, dict]] = []
        deploy_errors: dict[tuple[str, str], str] = {}
        taken = 0
        while True:
            try:
                topic, payload = self.inbox.get_nowait()
            except queue.Empty:
                break
            taken += 1
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
        now = time.monotonic()
        if not taken and now - self._fleet_at < 1.0:
            return 0
        close_old_connections()
        devices = self._store(statuses, alerts) if taken else []
        if devices or deploy_errors or now - self._fleet_at >= 1.0:
            # The fleet's control loop: deployments move on status, results and time.
            self._fleet_at = now
            advance_deployments(deploy_errors)
            catch_up(devices)
        return taken

    def _store(self, statuses: dict, alerts: list) -> list:
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
                # One live message per tenant and flush, listing its devices: a browser gets a
                # few messages a second however many devices report.
                forwards.append((tenant, "device.status", [live_device(d) for d in stored]))
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
                forwards.append((tenant, "alert", AlertSerializer(alert).data))
        for tenant, kind, data in forwards:
            publish(tenant.pk, tenant.slug, kind, json.loads(json.dumps(data, default=str)))
        return devices

    def run(self, until: threading.Event | None = None) -> None:
        stop = until or self._stop
        self.client.connect_async(self.target.host, self.target.port, keepalive=30)
        self.client.loop_start()
        try:
            while not stop.is_set():
                started = time.monotonic()
                try:
                    self.drain()
                except Exception:  # a database hiccup must not end the bridge: log, keep going
                    log.exception("bridge could not store a batch")
                stop.wait(max(0.0, self.flush_s - (time.monotonic() - started)))
            self.drain()
        finally:
            self._stop.set()
            self.client.disconnect()
            self.client.loop_stop()

    def stop(self) -> None:
        self._stop.set()
