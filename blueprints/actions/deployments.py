"""Deployments: a bundle to a group of devices, canary first, health gates, automatic rollback.

The MQTT bridge calls :func:`advance_deployments` about once a second and after each batch of
device status: it sends deploy commands, confirms devices that report the new bundle, fails
those that do not in time or regress, moves from the canary to the rest, and rolls back.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from ..live import publish
from ..models import Bundle, Deployment, DeploymentTarget, Device, Tenant
from ..mqtt import publish_once
from .context import Actor, audit, require, snapshot
from .errors import Conflict, Invalid

log = logging.getLogger("aiot.deployments")
SYSTEM = Actor.system_actor("deployments")


def deploy_topic(tenant: Tenant, device_id: str) -> str:
    return f"aiot/{tenant.slug}/devices/{device_id}/deploy"


def deploy_command(bundle: Bundle, deployment_id: int | None = None) -> bytes:
    path = reverse("bundle-download", kwargs={"tenant": bundle.tenant.slug, "bundle_id": bundle.bundle_id})
    # sha256 of the file's bytes, which the agent checks before it even opens the zip (the bundle
    # id, which the agent reports back in its status, is the hash of the manifest).
    body = {
        "bundle_url": settings.PUBLIC_URL.rstrip("/") + path,
        "sha256": hashlib.sha256(bytes(bundle.data)).hexdigest(),
    }
    if deployment_id is not None:
        body["deployment"] = deployment_id
    return json.dumps(body).encode()


def _health(status: dict) -> dict:
    eval_ms = status.get("eval_ms") if isinstance(status.get("eval_ms"), dict) else {}
    events = status.get("events_in") or 0
    rejected = status.get("events_rejected") or 0
    return {
        "p99_ms": eval_ms.get("p99"),
        "reject_rate": (rejected / events) if events else 0.0,
        "events_in": events,
        "events_rejected": rejected,
    }


def do_create_deployment(
    actor: Actor,
    tenant: Tenant,
    bundle_id: str,
    group: str = "",
    strategy: str = "all",
    canary_count: int = 1,
    canary_percent: int | None = None,
    health_window_s: float = 30,
    timeout_s: float = 60,
    max_p99_ratio: float = 3.0,
    max_reject_increase: float = 0.2,
) -> Deployment:
    require(actor, tenant, "operate")
    bundle = Bundle.objects.filter(tenant=tenant, bundle_id=bundle_id).first()
    if bundle is None:
        raise Invalid(f"no bundle {bundle_id!r} in {tenant.slug}", "bundle")
    if strategy not in ("all", "canary"):
        raise Invalid("strategy is all or canary", "strategy")
    devices = list(Device.objects.filter(tenant=tenant, **({"group": group} if group else {})))
    devices.sort(key=lambda dev: (dev.state != "online", dev.device_id))  # canaries among the online ones
    if not devices:
        raise Invalid(f"no devices in group {group!r}" if group else "the tenant has no devices", "group")
    if Deployment.objects.filter(tenant=tenant, group=group, state__in=(*Deployment.ACTIVE, "paused")).exists():
        raise Conflict(
            f"a deployment to {group or 'every device'} is already under way: pause, finish or roll it back", "group"
        )
    n_canary = 0
    if strategy == "canary":
        n_canary = max(1, round(len(devices) * canary_percent / 100)) if canary_percent else canary_count
        n_canary = min(max(1, n_canary), len(devices))
    with transaction.atomic():
        d = Deployment.objects.create(
            tenant=tenant,
            bundle=bundle,
            group=group,
            strategy=strategy,
            canary_count=n_canary,
            canary_percent=canary_percent,
            health_window_s=health_window_s,
            timeout_s=timeout_s,
            max_p99_ratio=max_p99_ratio,
            max_reject_increase=max_reject_increase,
            state="canary" if strategy == "canary" else "rolling",
            created_by=actor.user if not actor.system and actor.token is None else getattr(actor.token, "user", None),
        )
        for i, device in enumerate(devices):
            DeploymentTarget.objects.create(
                deployment=d,
                device=device,
                phase="canary" if i < n_canary else "rest",
                previous_bundle_id=device.bundle_id,
                baseline=_health(device.last_status),
            )
        audit(actor, tenant, "deployment.create", d, after=snapshot(d))
    advance(d)
    return d


def _transition(actor: Actor, d: Deployment, **fields) -> Deployment:
    before = snapshot(d)
    for k, v in fields.items():
        setattr(d, k, v)
    d.save(update_fields=list(fields))
    audit(actor, d.tenant, f"deployment.{fields.get('state', 'update')}", d, before=before, after=snapshot(d))
    _announce(d)
    return d


def do_pause_deployment(actor: Actor, d: Deployment) -> Deployment:
    require(actor, d.tenant, "operate")
    if d.state not in Deployment.ACTIVE:
        raise Conflict(f"the deployment is {d.state}: only a running one pauses")
    with transaction.atomic():
        return _transition(actor, d, state="paused", paused_from=d.state)


def do_resume_deployment(actor: Actor, d: Deployment) -> Deployment:
    require(actor, d.tenant, "operate")
    if d.state != "paused":
        raise Conflict(f"the deployment is {d.state}: only a paused one resumes")
    with transaction.atomic():
        d = _transition(actor, d, state=d.paused_from or "rolling", paused_from="")
    advance(d)
    return d


def do_rollback_deployment(actor: Actor, d: Deployment, reason: str = "rolled back by hand") -> Deployment:
    require(actor, d.tenant, "operate")
    if d.state == "rolled_back":
        raise Conflict("the deployment is rolled back already")
    return _rollback(actor, d, reason)


def _rollback(actor: Actor, d: Deployment, reason: str) -> Deployment:
    """Every device that got (or may have got) the new bundle goes back to its previous one."""
    commands = []
    with transaction.atomic():
        for t in d.targets.select_related("device").filter(state__in=("sent", "running", "failed")):
            previous = Bundle.objects.filter(tenant=d.tenant, bundle_id=t.previous_bundle_id).first()
            payload = deploy_command(previous) if previous else json.dumps({"rollback": True}).encode()
            commands.append((deploy_topic(d.tenant, t.device.device_id), payload))
            t.state = "rolled_back"
            t.save(update_fields=["state"])
        d = _transition(actor, d, state="rolled_back", reason=reason, finished_at=timezone.now())
    with contextlib.suppress(OSError):  # the broker is away: catch_up sends them when devices report
        _send(commands)
    return d


def _send(commands: list[tuple[str, bytes]]) -> None:
    try:
        publish_once(settings.MQTT_URL, commands, "aiot-deployer")
    except OSError:
        log.warning("deploy commands not sent (broker unreachable); they will be sent again", exc_info=True)
        raise


def _announce(d: Deployment) -> None:
    targets = dict.fromkeys(("pending", "sent", "running", "failed", "rolled_back"), 0)
    for state in d.targets.values_list("state", flat=True):
        targets[state] += 1
    publish(
        d.tenant_id,
        d.tenant.slug,
        "deployment.progress",
        {
            "deployment": d.pk,
            "state": d.state,
            "reason": d.reason,
            "bundle": d.bundle.bundle_id,
            "group": d.group,
            "targets": targets,
        },
    )


def _regressed(d: Deployment, t: DeploymentTarget, status: dict) -> str | None:
    """Why a device running the new bundle fails the health gate, or None. Counters in a status
    are totals since the agent started: the reject rate is judged on what came since the swap."""
    now = _health(status)
    base = t.baseline or {}
    device = t.device.device_id
    if status.get("engine") == "fallback":
        return f"{device} runs the fallback interpreter: {status.get('fallback_reason') or 'onnx failed'}"
    p99, base_p99 = now["p99_ms"], base.get("p99_ms")
    if p99 is not None and base_p99 is not None and p99 > base_p99 * d.max_p99_ratio + 1.0:
        return f"{device}: p99 {p99} ms per batch, was {base_p99} ms"
    seen = now["events_in"] - (base.get("events_in") or 0)
    rejected = now["events_rejected"] - (base.get("events_rejected") or 0)
    if seen < 0:  # the agent restarted: its totals started again
        seen, rejected = now["events_in"], now["events_rejected"]
    if seen >= 20 and rejected / seen > (base.get("reject_rate") or 0.0) + d.max_reject_increase:
        return f"{device}: rejects {rejected / seen:.0%} of events since the swap, was {base.get('reject_rate', 0):.0%}"
    return None


def advance(d: Deployment, deploy_errors: dict[str, str] | None = None) -> Deployment:
    """One step of the control loop for one deployment (idempotent; safe to call any time)."""
    if d.state not in Deployment.ACTIVE:
        return d
    now = timezone.now()
    commands = []
    sent: list[int] = []
    sent_to: list[str] = []
    failure = None
    canary_passed = False
    with transaction.atomic():
        d = Deployment.objects.select_for_update().select_related("tenant", "bundle").get(pk=d.pk)
        if d.state not in Deployment.ACTIVE:
            return d
        phases = ("canary",) if d.state == "canary" else ("canary", "rest")
        changed = False
        for t in d.targets.select_related("device").filter(phase__in=phases):
            device = t.device
            if t.state == "pending" and device.state == "online":
                commands.append((deploy_topic(d.tenant, device.device_id), deploy_command(d.bundle, d.pk)))
                sent.append(t.pk)
                sent_to.append(device.device_id)
                t.state, t.sent_at = "sent", now
                t.baseline = _health(device.last_status or {})  # health just before the swap
                t.save(update_fields=["state", "sent_at", "baseline"])
                changed = True
            elif t.state == "sent":
                error = (deploy_errors or {}).get(device.device_id)
                if error:
                    t.state, t.error = "failed", error
                elif device.bundle_id == d.bundle.bundle_id and device.last_seen and device.last_seen >= t.sent_at:
                    t.state, t.confirmed_at = "running", now
                    # Counters are judged from the swap on: the first status naming the new bundle
                    # is sent right after it, so what the old bundle took meanwhile is not counted.
                    swap = _health(device.last_status or {})
                    t.baseline = {
                        **t.baseline,
                        "events_in": swap["events_in"],
                        "events_rejected": swap["events_rejected"],
                    }
                elif now - t.sent_at > timedelta(seconds=d.timeout_s):
                    t.state, t.error = "failed", f"did not report the new bundle within {d.timeout_s:g} s"
                if t.state != "sent":
                    t.save(update_fields=["state", "error", "confirmed_at", "baseline"])
                    changed = True
            if t.state == "running":
                problem = _regressed(d, t, device.last_status or {})
                if problem:
                    t.state, t.error = "failed", problem
                    t.save(update_fields=["state", "error"])
                    changed = True
            if t.state == "failed" and failure is None:
                # the reason names the device (a timeout or the agent's own refusal does not)
                failure = t.error if t.error.startswith(device.device_id) else f"{device.device_id}: {t.error}"
        if failure is None:
            states = list(d.targets.filter(phase__in=phases).values_list("state", "confirmed_at", "device__last_seen"))
            # A canary is judged on evidence: each has reported at least once since it was confirmed.
            all_running = all(s == "running" and seen and seen > c for s, c, seen in states)
            if d.state == "canary" and all_running:
                last = max(c for _, c, _ in states)
                if now - last >= timedelta(seconds=d.health_window_s):
                    d = _transition(SYSTEM, d, state="rolling", canary_done_at=now)
                    changed, canary_passed = False, True
            elif d.state == "rolling" and all(
                s == "running" or (s == "pending" and dev_state != "online")  # offline ones catch up later
                for s, dev_state in d.targets.values_list("state", "device__state")
            ):
                d = _transition(SYSTEM, d, state="done", finished_at=now)
                changed = False
        if changed:
            _announce(d)
    if commands:
        try:
            _send(commands)
        except OSError:  # not sent: pending again, so the next tick sends them (no timeout runs)
            DeploymentTarget.objects.filter(pk__in=sent).update(state="pending", sent_at=None)
        else:
            audit(SYSTEM, d.tenant, "deployment.send", d, after={"bundle": d.bundle.bundle_id, "devices": sent_to})
    if failure is not None:
        return _rollback(SYSTEM, d, f"health gate failed: {failure}")
    if canary_passed:
        return advance(d)  # send to the rest now, not a tick later
    return d


def advance_deployments(deploy_errors: dict[tuple[str, str], str] | None = None) -> None:
    """Advance every running deployment (the bridge calls this)."""
    for d in Deployment.objects.filter(state__in=Deployment.ACTIVE).select_related("tenant"):
        errors = {dev: e for (slug, dev), e in (deploy_errors or {}).items() if slug == d.tenant.slug}
        with contextlib.suppress(OSError):  # the broker is away: the next tick sends again
            advance(d, errors)


_last_catch_up: dict[int, float] = {}


def catch_up(devices: list[Device]) -> None:
    """Devices online with another bundle than the fleet wants get it (at most every 30 s each):
    one back from being offline during a deployment, or one that missed its rollback command
    while the broker was away. The latest deployment covering a device decides: its bundle, or
    after a rollback the device's previous one."""
    online = [d for d in devices if d.state == "online"]
    settled = ("done", "rolling", "rolled_back")
    if not online or not Deployment.objects.filter(state__in=settled).exists():
        return
    # A device in a deployment under way is that deployment's business (a canary must not be
    # "caught up" to the previous bundle while its health is being judged).
    busy = set(
        DeploymentTarget.objects.filter(
            device__in=online, deployment__state__in=(*Deployment.ACTIVE, "paused")
        ).values_list("device_id", flat=True)
    )
    online = [d for d in online if d.pk not in busy]
    wanted: dict[int, Bundle | None] = {}
    targets = (
        DeploymentTarget.objects.filter(device__in=online, deployment__state__in=settled)
        .select_related("deployment__bundle__tenant")
        .order_by("deployment__created_at")
    )
    for t in targets:  # the latest deployment covering a device wins
        if t.deployment.state != "rolled_back":
            wanted[t.device_id] = t.deployment.bundle
        elif t.state == "rolled_back":  # it was sent the new bundle: it goes back (if we know the old one)
            previous = Bundle.objects.filter(tenant=t.deployment.tenant, bundle_id=t.previous_bundle_id).first()
            wanted[t.device_id] = previous
    commands = []
    for device in online:
        bundle = wanted.get(device.pk)
        if bundle is None or bundle.bundle_id == device.bundle_id:
            continue
        if time.monotonic() - _last_catch_up.get(device.pk, -1e9) < 30:
            continue
        _last_catch_up[device.pk] = time.monotonic()
        commands.append((deploy_topic(device.tenant, device.device_id), deploy_command(bundle)))
    if commands:
        with contextlib.suppress(OSError):
            _send(commands)
