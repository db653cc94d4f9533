"""Who is acting, and whether they may: every action starts with :func:`require`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.forms.models import model_to_dict

from ..models import ApiToken, AuditEvent, Membership, Tenant
from ..roles import ROLE_CAPABILITIES
from .errors import Forbidden, NotFound

__all__ = ["Actor", "audit", "audit_all", "audit_event", "require", "snapshot"]


@dataclass(frozen=True)
class Actor:
    """A signed-in user, a user's API token, or the system itself (the bridge, a worker)."""

    user: Any = None
    token: ApiToken | None = None
    system: str | None = None

    @classmethod
    def of(cls, request) -> Actor:
        token = request.auth if isinstance(request.auth, ApiToken) else None
        return cls(user=request.user, token=token)

    @classmethod
    def system_actor(cls, name: str) -> Actor:
        return cls(system=name)

    @property
    def label(self) -> str:
        if self.system:
            return f"system:{self.system}"
        if self.token is not None:
            return f"token:{self.token.name} ({self.user.username})"
        return self.user.username

    def capabilities(self, tenant: Tenant) -> frozenset[str]:
        if self.system:
            return frozenset(ROLE_CAPABILITIES["admin"])
        if self.user is None or not self.user.is_authenticated:
            return frozenset()
        if self.token is not None and self.token.tenant_id != tenant.pk:
            return frozenset()  # a token works in its own tenant only
        role = Membership.objects.filter(tenant=tenant, user=self.user).values_list("role", flat=True).first()
        if role is None:
            return frozenset()
        caps = ROLE_CAPABILITIES[role]
        if self.token is not None:
            caps = caps & ROLE_CAPABILITIES[self.token.role]  # a token never exceeds its own role
        return caps


def require(actor: Actor, tenant: Tenant, capability: str) -> None:
    """404 for a tenant the actor is not in (its existence is not revealed), 403 for a role that may not."""
    caps = actor.capabilities(tenant)
    if not caps:
        raise NotFound("not found")
    if capability not in caps:
        raise Forbidden(f"your role in {tenant.slug} may not do this ({capability})")


SECRET_FIELDS = {"data", "secret_hash", "token_hash", "password"}


def snapshot(instance) -> dict | None:
    """An object as the audit log keeps it: plain fields, no bytes or secrets."""
    if instance is None:
        return None
    out = {}
    for key, value in model_to_dict(instance).items():
        if key in SECRET_FIELDS:
            continue
        out[key] = value if isinstance(value, (str, int, float, bool, list, dict, type(None))) else str(value)
    return out


def audit_event(
    actor: Actor,
    tenant: Tenant | None,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    """An audit entry, not yet written: :func:`audit` writes one, :func:`audit_all` many at once."""
    return AuditEvent(
        tenant=tenant,
        actor=None if actor.system or actor.user is None or not actor.user.is_authenticated else actor.user,
        actor_label=actor.label,
        action=action,
        object_type=type(obj).__name__ if obj is not None else "",
        object_id=object_id or (str(obj.pk) if obj is not None and obj.pk is not None else ""),
        before=before,
        after=after,
    )


def audit(
    actor: Actor,
    tenant: Tenant | None,
    action: str,
    obj,
    before: dict | None = None,
    after: dict | None = None,
    object_id: str | None = None,
) -> AuditEvent:
    event = audit_event(actor, tenant, action, obj, before, after, object_id)
    event.save()
    return event


def audit_all(events: list[AuditEvent]) -> None:
    """Many entries in one INSERT (the bridge's device transitions: a fleet may change at once)."""
    if events:
        AuditEvent.objects.bulk_create(events)
