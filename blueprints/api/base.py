"""Tenant scoping in one place: every tenant resource view resolves the tenant from the URL,
checks the caller's capability, and filters its queryset by the tenant. Another tenant's
objects (and tenants you are not in) are 404 for every verb; a role that may not is 403."""

from __future__ import annotations

from rest_framework import exceptions

from ..actions.context import Actor
from ..models import Tenant

SAFE = ("GET", "HEAD", "OPTIONS")


class TenantScopedMixin:
    tenant_field = "tenant"
    read_capability = "read"
    write_capability = "edit"
    # Per viewset action (e.g. {"acknowledge": "operate"}): the capability it needs.
    action_capabilities: dict[str, str] = {}

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.actor = Actor.of(request)
        tenant = Tenant.objects.filter(slug=kwargs.get("tenant")).first()
        caps = self.actor.capabilities(tenant) if tenant is not None else frozenset()
        if not caps:
            raise exceptions.NotFound()
        self.tenant = tenant
        need = self.action_capabilities.get(getattr(self, "action", None) or "")
        if need is None:
            need = self.read_capability if request.method in SAFE else self.write_capability
        if need not in caps:
            raise exceptions.PermissionDenied(f"your role in {tenant.slug} may not do this ({need})")

    def get_queryset(self):
        return super().get_queryset().filter(**{self.tenant_field: self.tenant})
