"""How API callers prove who they are: the browser's session (with CSRF), or a bearer token."""

from __future__ import annotations

import re
from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from ..models import ApiToken, Device
from ..models.tenancy import matches

_HEX8 = re.compile(r"[0-9a-f]{8}")  # secrets.token_hex(4): anything else cannot be a token


def bearer(request) -> str | None:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def split_token(secret: str, kind: str) -> str | None:
    """The lookup prefix of ``aiot_<kind>_<prefix>_<secret>``, or None if it is not one."""
    parts = secret.split("_", 3)
    if len(parts) != 4 or parts[0] != "aiot" or parts[1] != kind or not _HEX8.fullmatch(parts[2]):
        return None
    return parts[2]


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer aiot_api_…``: a user's API token. ``request.auth`` is the token."""

    def authenticate(self, request):
        secret = bearer(request)
        if secret is None:
            return None
        prefix = split_token(secret, "api")
        if prefix is None:
            if split_token(secret, "dev") is not None:
                return None  # device tokens only open the bundle download (see DeviceTokenAuthentication)
            raise exceptions.AuthenticationFailed("the bearer token is not an AIoT Studio API token")
        token = ApiToken.objects.select_related("user", "tenant").filter(prefix=prefix).first()
        if token is None or not matches(secret, token.secret_hash):
            raise exceptions.AuthenticationFailed("unknown API token")
        if not token.active:
            raise exceptions.AuthenticationFailed("this API token is revoked or expired")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("the token's user is deactivated")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        return token.user, token

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="aiot"'


class DeviceTokenAuthentication(authentication.BaseAuthentication):
    """``Authorization: Bearer aiot_dev_…``: a device; ``request.auth`` is the Device."""

    def authenticate(self, request):
        secret = bearer(request)
        prefix = split_token(secret, "dev") if secret else None
        if prefix is None:
            return None
        device = Device.objects.select_related("tenant").filter(token_prefix=prefix).first()
        if device is None or not matches(secret, device.token_hash):
            raise exceptions.AuthenticationFailed("unknown device token")
        from django.contrib.auth.models import AnonymousUser

        return AnonymousUser(), device

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="aiot-device"'


class SessionAuthentication(authentication.SessionAuthentication):
    """The browser's session; unsafe methods need the CSRF token (X-CSRFToken)."""
