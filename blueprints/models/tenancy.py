"""Tenants, memberships (a user's role in a tenant) and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

from ..roles import ROLE_CAPABILITIES, Role


class Tenant(models.Model):
    slug = models.SlugField(max_length=63, unique=True)
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.slug


class Membership(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["tenant", "user"], name="one_membership_per_user")]

    @property
    def capabilities(self) -> list[str]:
        return sorted(ROLE_CAPABILITIES[self.role])


def hash_secret(secret: str) -> str:
    """Tokens are 256-bit random: a plain SHA-256 is the right hash at rest (no brute force)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(kind: str) -> tuple[str, str]:
    """A token as shown once (``aiot_<kind>_<prefix>_<secret>``) and its lookup prefix."""
    prefix = secrets.token_hex(4)
    return f"aiot_{kind}_{prefix}_{secrets.token_urlsafe(32)}", prefix


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


class ApiToken(models.Model):
    """A script's credential: acts as its creator, with at most ``role`` in the tenant."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=8, unique=True)
    secret_hash = models.CharField(max_length=64)
    role = models.CharField(max_length=16, choices=Role.choices)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    @property
    def active(self) -> bool:
        now = timezone.now()
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)
