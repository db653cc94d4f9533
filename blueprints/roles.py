"""Roles per tenant and what each may do (SPEC §8). The one place these rules are written."""

from __future__ import annotations

from django.db import models

__all__ = ["CAPABILITIES", "ROLE_CAPABILITIES", "Role", "can"]


class Role(models.TextChoices):
    VIEWER = "viewer"
    OPERATOR = "operator"
    DESIGNER = "designer"
    PUBLISHER = "publisher"
    ADMIN = "admin"


CAPABILITIES = {
    "read": "read the tenant's blueprints, devices, alerts",
    "edit": "edit graphs, simulate, compile",
    "operate": "register devices, deploy, acknowledge alerts",
    "publish": "certify, publish to the catalog",
    "admin": "manage members, roles, tokens; read the audit log",
}

ROLE_CAPABILITIES: dict[str, frozenset[str]] = {
    Role.VIEWER: frozenset({"read"}),
    Role.OPERATOR: frozenset({"read", "operate"}),
    Role.DESIGNER: frozenset({"read", "edit"}),
    Role.PUBLISHER: frozenset({"read", "edit", "publish"}),
    Role.ADMIN: frozenset({"read", "edit", "operate", "publish", "admin"}),
}


def can(role: str | None, capability: str) -> bool:
    assert capability in CAPABILITIES, capability
    return role is not None and capability in ROLE_CAPABILITIES.get(role, frozenset())
