"""Devices, their status and alerts (from the MQTT bridge), and acknowledgement."""

from __future__ import annotations

import math
from typing import Any

from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from ..models import Alert, Device, Tenant
from ..models.tenancy import hash_secret, new_secret
from .context import Actor, audit, audit_all, audit_event, require, snapshot
from .errors import Conflict, Invalid, NotFound

# Who writes what agents report: the bridge, on the devices' behalf.
BRIDGE = Actor.system_actor("bridge")
DEVICE_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")


def _check_device_id(device_id: Any) -> str:
    if not isinstance(device_id, str) or not device_id or len(device_id) > 128 or set(device_id) - DEVICE_ID_CHARS:
        raise Invalid("device_id: 1–128 letters, digits, '-', '_' or '.' (it is an MQTT topic level)", "device_id")
    return device_id


def do_register_device(
    actor: Actor, tenant: Tenant, device_id: str, name: str = "", group: str = ""
) -> tuple[Device, str]:
    """A new device and its token (shown once, stored hashed)."""
    require(actor, tenant, "operate")
    _check_device_id(device_id)
    secret, prefix = new_secret("dev")
    with transaction.atomic():
        try:
            with transaction.atomic():
                device = Device.objects.create(
                    tenant=tenant,
                    device_id=device_id,
                    name=name or "",
                    group=group or "",
                    token_prefix=prefix,
                    token_hash=hash_secret(secret),
                )
        except IntegrityError:
            raise Conflict(f"{tenant.slug} already has a device {device_id!r}", "device_id") from None
        audit(actor, tenant, "device.register", device, after=snapshot(device))
    return device, secret


def do_update_device(actor: Actor, device: Device, **fields) -> Device:
    require(actor, device.tenant, "operate")
    unknown = set(fields) - {"name", "group"}
    if unknown:
        raise Invalid(f"cannot change {', '.join(sorted(unknown))}", sorted(unknown)[0])
    with transaction.atomic():
        before = snapshot(device)
        for k, v in fields.items():
            setattr(device, k, v or "")
        device.save(update_fields=list(fields))
        audit(actor, device.tenant, "device.update", device, before=before, after=snapshot(device))
    return device


def do_delete_device(actor: Actor, device: Device) -> None:
    require(actor, device.tenant, "operate")
    with transaction.atomic():
        audit(actor, device.tenant, "device.delete", device, before=snapshot(device))
        device.delete()


def do_rotate_device_token(actor: Actor, device: Device) -> str:
    require(actor, device.tenant, "operate")
    secret, prefix = new_secret("dev")
    with transaction.atomic():
        before = {"token_prefix": device.token_prefix}
        device.token_prefix, device.token_hash = prefix, hash_secret(secret)
        device.save(update_fields=["token_prefix", "token_hash"])
        audit(actor, device.tenant, "device.rotate_token", device, before=before, after={"token_prefix": prefix})
    return secret


def do_acknowledge_alert(actor: Actor, tenant: Tenant, alert_id: int) -> Alert:
    require(actor, tenant, "operate")
    with transaction.atomic():
        alert = Alert.objects.select_for_update().filter(tenant=tenant, pk=alert_id).first()
        if alert is None:
            raise NotFound("no such alert")
        if alert.acknowledged_at is None:
            alert.acknowledged_by = actor.user
            alert.acknowledged_at = timezone.now()
            alert.save(update_fields=["acknowledged_by", "acknowledged_at"])
            audit(
                actor,
                tenant,
                "alert.acknowledge",
                alert,
                before={"acknowledged_at": None},
                after={"acknowledged_at": alert.acknowledged_at.isoformat()},
            )
    return alert


# --- what agents report (the MQTT bridge calls these as the system) -----------------------------
def do_record_device_statuses(tenant: Tenant, statuses: dict[str, dict]) -> tuple[list[Device], list[str]]:
    """Store the latest status of many devices in one write: (devices stored, ids not registered).
    A status whose state is neither online nor offline is refused (Invalid) before anything.

    The audit log gets the transitions, not the heartbeats: a device coming online or going
    offline, or reporting another bundle, is an entry (before and after); the same state again
    (each status, every few seconds per device) only updates ``last_status`` and ``last_seen``."""
    for device_id, status in statuses.items():
        if status.get("state") not in ("online", "offline"):
            raise Invalid(f"{device_id}: status.state must be online or offline", "state")
    # The old status is replaced unread: not loading it saves decoding a JSON document per device.
    devices = list(Device.objects.filter(tenant=tenant, device_id__in=list(statuses)).defer("last_status"))
    now = timezone.now()
    transitions = []
    for device in devices:
        status = statuses[device.device_id]
        before = {"state": device.state, "bundle": device.bundle_id}
        device.state, device.last_status, device.last_seen = status["state"], status, now
        bundle = status.get("bundle")
        if isinstance(bundle, str) and len(bundle) <= 64:
            device.bundle_id = bundle
        after = {"state": device.state, "bundle": device.bundle_id}
        if after != before:
            action = f"device.{device.state}" if after["state"] != before["state"] else "device.bundle"
            transitions.append(audit_event(BRIDGE, tenant, action, device, before=before, after=after))
    with transaction.atomic(savepoint=False):  # the bridge's batch is one transaction already
        _update_statuses(devices)
        audit_all(transitions)
    known = {d.device_id for d in devices}
    return devices, [d for d in statuses if d not in known]


def _update_statuses(devices: list[Device]) -> None:
    """One prepared UPDATE run for every device: the bridge stores ~1,000 statuses a second, and
    ``bulk_update`` builds and compiles a CASE per row and field, most of the bridge's CPU."""
    if not devices:
        return
    meta, conn = Device._meta, connections[Device.objects.db]
    names = ("state", "last_status", "last_seen", "bundle_id")
    fields = [meta.get_field(name) for name in names]
    columns = ", ".join(f"{conn.ops.quote_name(f.column)} = %s" for f in fields)
    sql = f"UPDATE {conn.ops.quote_name(meta.db_table)} SET {columns} WHERE {conn.ops.quote_name(meta.pk.column)} = %s"
    rows = [[f.get_db_prep_save(getattr(d, f.attname), conn) for f in fields] + [d.pk] for d in devices]
    with conn.cursor() as cursor:
        cursor.executemany(sql, rows)


def do_record_device_status(tenant: Tenant, device_id: str, status: dict) -> Device | None:
    """Store one device's status message; an unknown device is ignored (None)."""
    devices, _ = do_record_device_statuses(tenant, {device_id: status})
    return devices[0] if devices else None


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) else None


def do_record_alert(tenant: Tenant, device_id: str, record: dict) -> Alert:
    """Store one alert record an agent published (SPEC §3.4); commands are not alerts."""
    if record.get("kind") != "alert":
        raise Invalid("only alert records are stored as alerts", "kind")
    ts = _finite(record.get("ts"))
    if ts is None:
        raise Invalid("the record has no numeric ts", "ts")
    text = {k: record.get(k) for k in ("action", "name", "severity", "key")}
    if not all(isinstance(v, str) and v for v in text.values()):
        raise Invalid("an alert record needs action, name, severity and key strings", "record")
    values = record.get("values")
    device = Device.objects.filter(tenant=tenant, device_id=device_id).first()
    with transaction.atomic(savepoint=False):
        alert = Alert.objects.create(
            tenant=tenant,
            device=device,
            device_ref=device_id,
            action=text["action"][:64],
            name=text["name"][:128],
            severity=text["severity"][:16],
            message=str(record.get("message") or "")[:2000],
            key=text["key"][:256],
            ts=ts,
            values=values if isinstance(values, dict) else {},
        )
        received = {k: getattr(alert, k) for k in ("device_ref", "action", "name", "severity", "key", "ts")}
        audit(BRIDGE, tenant, "alert.receive", alert, after=received)
    return alert
