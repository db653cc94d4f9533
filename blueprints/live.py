"""Live messages to the browsers of a tenant's members, over the channel layer (Redis)."""

from __future__ import annotations

import logging
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

TYPES = ("device.status", "alert", "compile.progress", "certification.progress", "deployment.progress")


def group_name(tenant_id: int) -> str:
    return f"tenant.{tenant_id}"


def publish(tenant_id: int, tenant_slug: str, type_: str, data: Any) -> None:
    """Send one message to every open /ws/live/ of the tenant. Never raises: live updates are a
    convenience; what they report is also stored and served by the API."""
    assert type_ in TYPES, type_
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group_name(tenant_id),
            {"type": "live.message", "message": {"type": type_, "tenant": tenant_slug, "data": data}},
        )
    except Exception:  # a full channel or a Redis hiccup must not fail the action that reported
        log.warning("live message %s for %s not sent", type_, tenant_slug, exc_info=True)


async def apublish(tenant_id: int, tenant_slug: str, type_: str, data: Any) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(
            group_name(tenant_id),
            {"type": "live.message", "message": {"type": type_, "tenant": tenant_slug, "data": data}},
        )
