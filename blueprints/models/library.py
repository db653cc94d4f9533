"""Blueprints, their versions (immutable once submitted) and model artifacts."""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from .tenancy import Tenant

SEMVER = re.compile(r"^(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})\.(0|[1-9]\d{0,5})$")


class Blueprint(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="blueprints")
    slug = models.SlugField(max_length=63)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, default="")
    category = models.CharField(max_length=64, blank=True, default="")
    tags = models.JSONField(default=list, blank=True)
    # Where it came from: a catalog install or a fork.
    forked_from = models.ForeignKey(
        "BlueprintVersion", null=True, blank=True, on_delete=models.SET_NULL, related_name="forks"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "slug"], name="blueprint_slug_per_tenant")]
        ordering = ["slug"]

    def __str__(self) -> str:
        return f"{self.tenant.slug}/{self.slug}"


class VersionState(models.TextChoices):
    DRAFT = "draft"
    CERTIFYING = "certifying"
    CERTIFIED = "certified"
    FAILED = "failed"
    PUBLISHED = "published"
    DEPRECATED = "deprecated"


# What a version may become next (SPEC §4: draft → certifying → certified | failed → published → deprecated).
TRANSITIONS = {
    VersionState.DRAFT: {VersionState.CERTIFYING},
    VersionState.CERTIFYING: {VersionState.CERTIFIED, VersionState.FAILED},
    VersionState.FAILED: {VersionState.CERTIFYING},  # certify again (e.g. with a newer compiler)
    VersionState.CERTIFIED: {VersionState.PUBLISHED, VersionState.CERTIFYING},
    VersionState.PUBLISHED: {VersionState.DEPRECATED},
    VersionState.DEPRECATED: set(),
}
CONTENT_FIELDS = ("graph", "readme", "scenarios", "version", "budget")


class BlueprintVersion(models.Model):
    blueprint = models.ForeignKey(Blueprint, on_delete=models.CASCADE, related_name="versions")
    version = models.CharField(max_length=32)
    major = models.PositiveIntegerField()
    minor = models.PositiveIntegerField()
    patch = models.PositiveIntegerField()
    state = models.CharField(max_length=16, choices=VersionState.choices, default=VersionState.DRAFT)
    graph = models.JSONField()
    readme = models.TextField(blank=True, default="")
    scenarios = models.JSONField(default=list, blank=True)
    # What certification holds it to, e.g. {"p99_ms_per_batch": 5, "batch": 100}.
    budget = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["blueprint", "version"], name="one_version_number")]
        ordering = ["-major", "-minor", "-patch"]

    def __str__(self) -> str:
        return f"{self.blueprint}@{self.version}"

    @property
    def tenant(self) -> Tenant:
        return self.blueprint.tenant

    @property
    def params_schema(self) -> dict:
        graph = self.graph if isinstance(self.graph, dict) else {}
        return graph.get("params") or {"type": "object", "properties": {}}

    def save(self, *args, **kwargs) -> None:
        m = SEMVER.match(self.version or "")
        if not m:
            raise ValidationError({"version": f"{self.version!r} is not a semantic version (MAJOR.MINOR.PATCH)"})
        self.major, self.minor, self.patch = (int(x) for x in m.groups())
        if self.pk is not None:
            # Immutable once submitted: only the state (and its time) may change after that.
            old = type(self).objects.filter(pk=self.pk).values(*CONTENT_FIELDS, "state").first()
            if old and old["state"] != VersionState.DRAFT:
                changed = [f for f in CONTENT_FIELDS if old[f] != getattr(self, f)]
                if changed:
                    raise ValidationError(
                        f"version {self.version} is {old['state']}: {', '.join(changed)} cannot change"
                    )
        super().save(*args, **kwargs)


class Artifact(models.Model):
    """A model file a tenant's graphs refer to as ``artifact:<sha256>``."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="artifacts")
    sha256 = models.CharField(max_length=64)
    name = models.CharField(max_length=200, blank=True, default="")
    data = models.BinaryField()
    size = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "sha256"], name="artifact_per_tenant")]


class Certification(models.Model):
    """One run of the certification pipeline on a version; the report is signed by the studio."""

    version = models.ForeignKey(BlueprintVersion, on_delete=models.CASCADE, related_name="certifications")
    state = models.CharField(max_length=16, default="running")  # running | certified | failed
    steps = models.JSONField(default=list, blank=True)
    signed_report = models.JSONField(null=True, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
