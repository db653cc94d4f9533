"""Devices (edge gateways), compiled bundles and the alerts devices send."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .library import BlueprintVersion
from .tenancy import Tenant


class Device(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="devices")
    device_id = models.CharField(max_length=128)
    name = models.CharField(max_length=200, blank=True, default="")
    group = models.CharField(max_length=128, blank=True, default="")
    token_prefix = models.CharField(max_length=8, unique=True)
    token_hash = models.CharField(max_length=64)
    state = models.CharField(max_length=16, default="unknown")  # online | offline | unknown
    bundle_id = models.CharField(max_length=64, blank=True, default="")
    last_status = models.JSONField(default=dict, blank=True)
    last_seen = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "device_id"], name="device_id_per_tenant")]
        ordering = ["device_id"]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.device_id}"


class Bundle(models.Model):
    """A signed edge bundle, stored by its id (the sha256 its manifest names)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="bundles")
    bundle_id = models.CharField(max_length=64)
    version = models.ForeignKey(BlueprintVersion, null=True, on_delete=models.SET_NULL, related_name="bundles")
    blueprint_slug = models.CharField(max_length=63, blank=True, default="")
    blueprint_version = models.CharField(max_length=32, blank=True, default="")
    params = models.JSONField(default=dict, blank=True)
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "bundle_id"], name="bundle_per_tenant")]
        ordering = ["-created_at"]


class Alert(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="alerts")
    device = models.ForeignKey(Device, null=True, on_delete=models.SET_NULL, related_name="alerts")
    device_ref = models.CharField(max_length=128)  # the device id as reported, even for unknown devices
    action = models.CharField(max_length=64)
    name = models.CharField(max_length=128)
    severity = models.CharField(max_length=16)
    message = models.TextField(blank=True, default="")
    key = models.CharField(max_length=256)
    ts = models.FloatField()
    values = models.JSONField(default=dict, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["tenant", "-received_at"])]


class Deployment(models.Model):
    """A bundle rolled out to a group of devices: all at once, or a canary first."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="deployments")
    bundle = models.ForeignKey(Bundle, on_delete=models.PROTECT, related_name="deployments")
    group = models.CharField(max_length=128, blank=True, default="")  # "" = every device of the tenant
    strategy = models.CharField(max_length=16, default="all")  # all | canary
    canary_count = models.PositiveIntegerField(default=1)
    canary_percent = models.PositiveIntegerField(null=True, blank=True)
    health_window_s = models.FloatField(default=30)
    timeout_s = models.FloatField(default=60)
    max_p99_ratio = models.FloatField(default=3.0)  # p99 may grow to ratio × baseline (+ 1 ms)
    max_reject_increase = models.FloatField(default=0.2)  # reject rate may grow by this much (0..1)
    # pending | canary | rolling | paused | done | rolled_back
    state = models.CharField(max_length=16, default="canary")
    paused_from = models.CharField(max_length=16, blank=True, default="")
    reason = models.TextField(blank=True, default="")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    canary_done_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    ACTIVE = ("canary", "rolling")


class DeploymentTarget(models.Model):
    deployment = models.ForeignKey(Deployment, on_delete=models.CASCADE, related_name="targets")
    device = models.ForeignKey(Device, on_delete=models.CASCADE, related_name="deployment_targets")
    phase = models.CharField(max_length=8)  # canary | rest
    previous_bundle_id = models.CharField(max_length=64, blank=True, default="")
    baseline = models.JSONField(default=dict, blank=True)  # eval p99 and reject rate before the swap
    # pending | sent | running | failed | rolled_back
    state = models.CharField(max_length=16, default="pending")
    error = models.TextField(blank=True, default="")
    sent_at = models.DateTimeField(null=True, blank=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["phase", "device__device_id"]
        constraints = [models.UniqueConstraint(fields=["deployment", "device"], name="one_target_per_device")]
