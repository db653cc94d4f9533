"""Tenants, members and roles, API tokens."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from ..models import ApiToken, Membership, Tenant
from ..models.tenancy import hash_secret, new_secret
from ..roles import Role
from .context import Actor, audit, require, snapshot
from .errors import Conflict, Forbidden, Invalid, NotFound

User = get_user_model()


def do_create_tenant(actor: Actor, slug: str, name: str, admin_username: str | None = None) -> Tenant:
    if not (actor.system or (actor.user is not None and actor.user.is_superuser)):
        raise Forbidden("only a platform admin creates tenants")
    if slugify(slug) != slug or not slug:
        raise Invalid(f"{slug!r} is not a slug (lowercase letters, digits, hyphens)", "slug")
    with transaction.atomic():
        if Tenant.objects.filter(slug=slug).exists():
            raise Conflict(f"a tenant {slug!r} exists", "slug")
        tenant = Tenant.objects.create(slug=slug, name=name or slug)
        audit(actor, tenant, "tenant.create", tenant, after=snapshot(tenant))
        if admin_username:
            user = User.objects.filter(username=admin_username).first()
            if user is None:
                raise Invalid(f"no user {admin_username!r}", "admin_username")
            membership = Membership.objects.create(tenant=tenant, user=user, role=Role.ADMIN)
            audit(actor, tenant, "member.add", membership, after=snapshot(membership))
    return tenant


def _user_snapshot(user) -> dict:
    return {"username": user.username, "is_superuser": user.is_superuser, "is_active": user.is_active}


def do_create_platform_admin(actor: Actor, username: str, password: str) -> Any:
    """A platform admin (a Django superuser: creates tenants, is in none by itself). Audited with
    no tenant: the tenants' audit pages do not show it; the audit table does."""
    if not (actor.system or (actor.user is not None and actor.user.is_superuser)):
        raise Forbidden("only a platform admin creates platform admins")
    if not username or len(username) > 150:
        raise Invalid("a username of 1 to 150 characters", "username")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise Conflict(f"a user {username!r} exists", "username")
        user = User.objects.create_superuser(username, password=password)
        audit(actor, None, "user.create", user, after=_user_snapshot(user))
    return user


def _valid_role(role: str) -> str:
    if role not in Role.values:
        raise Invalid(f"{role!r} is not a role ({', '.join(Role.values)})", "role")
    return role


def do_add_member(actor: Actor, tenant: Tenant, username: str, role: str, password: str | None = None) -> Membership:
    require(actor, tenant, "admin")
    _valid_role(role)
    with transaction.atomic():
        user = User.objects.filter(username=username).first()
        if user is None:
            if not password:
                raise Invalid(f"no user {username!r}: give a password to create one", "password")
            if len(password) < 8:
                raise Invalid("the password must have at least 8 characters", "password")
            user = User.objects.create_user(username=username, password=password)
            audit(actor, tenant, "user.create", user, after=_user_snapshot(user))
        try:
            with transaction.atomic():
                membership = Membership.objects.create(tenant=tenant, user=user, role=role)
        except IntegrityError:
            raise Conflict(f"{username} is already a member of {tenant.slug}", "username") from None
        audit(actor, tenant, "member.add", membership, after=snapshot(membership))
    return membership


def _member(tenant: Tenant, member_id: int) -> Membership:
    m = Membership.objects.select_related("user").filter(tenant=tenant, pk=member_id).first()
    if m is None:
        raise NotFound("no such member")
    return m


def _keep_an_admin(tenant: Tenant, leaving: Membership) -> None:
    if (
        leaving.role == Role.ADMIN
        and not Membership.objects.filter(tenant=tenant, role=Role.ADMIN).exclude(pk=leaving.pk).exists()
    ):
        raise Conflict("a tenant keeps at least one admin", "role")


def do_change_member_role(actor: Actor, tenant: Tenant, member_id: int, role: str) -> Membership:
    require(actor, tenant, "admin")
    _valid_role(role)
    with transaction.atomic():
        m = _member(tenant, member_id)
        before = snapshot(m)
        if role != Role.ADMIN:
            _keep_an_admin(tenant, m)
        m.role = role
        m.save(update_fields=["role"])
        audit(actor, tenant, "member.role", m, before=before, after=snapshot(m))
    return m


def do_remove_member(actor: Actor, tenant: Tenant, member_id: int) -> None:
    require(actor, tenant, "admin")
    with transaction.atomic():
        m = _member(tenant, member_id)
        _keep_an_admin(tenant, m)
        before = snapshot(m)
        # The member's tokens in this tenant stop working with the membership: the entry counts them.
        revoked = ApiToken.objects.filter(tenant=tenant, user=m.user, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        audit(actor, tenant, "member.remove", m, before=before, after={"tokens_revoked": revoked})
        m.delete()


def do_create_api_token(
    actor: Actor, tenant: Tenant, name: str, role: str | None = None, expires_in_days: int | None = 90
) -> tuple[ApiToken, str]:
    """A new token for the acting user; the secret is returned once and stored hashed."""
    require(actor, tenant, "admin")
    if actor.system or actor.user is None:
        raise Forbidden("tokens belong to users")
    own = Membership.objects.get(tenant=tenant, user=actor.user).role
    role = _valid_role(role or own)
    if not name or len(name) > 100:
        raise Invalid("a token needs a name of at most 100 characters", "name")
    if expires_in_days is not None and not (1 <= expires_in_days <= 3650):
        raise Invalid("expires_in_days must be between 1 and 3650", "expires_in_days")
    secret, prefix = new_secret("api")
    expires = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
    with transaction.atomic():
        token = ApiToken.objects.create(
            tenant=tenant,
            user=actor.user,
            name=name,
            prefix=prefix,
            secret_hash=hash_secret(secret),
            role=role,
            expires_at=expires,
        )
        audit(actor, tenant, "token.create", token, after=snapshot(token))
    return token, secret


def do_revoke_api_token(actor: Actor, tenant: Tenant, token_id: int) -> ApiToken:
    require(actor, tenant, "admin")
    with transaction.atomic():
        token = ApiToken.objects.filter(tenant=tenant, pk=token_id).first()
        if token is None:
            raise NotFound("no such token")
        before = snapshot(token)
        if token.revoked_at is None:
            token.revoked_at = timezone.now()
            token.save(update_fields=["revoked_at"])
        audit(actor, tenant, "token.revoke", token, before=before, after=snapshot(token))
    return token
