"""Live messages to the browsers of a tenant's members, over the channel layer (Redis).

A message travels as its JSON text, made once by the sender: a web server passes it on to each
of the tenant's sockets as it is, rather than encoding it again for every one.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger(__name__)

TYPES = ("device.status", "alert", "compile.progress", "certification.progress", "deployment.progress")


def group_name(tenant_id: int) -> str:
    return f"tenant.{tenant_id}"


def message_text(type_: str, tenant_slug: str, data: Any, default: Callable[[Any], Any] | None = None) -> str:
    """The message as the browser receives it."""
    assert type_ in TYPES, type_
    return json.dumps({"type": type_, "tenant": tenant_slug, "data": data}, default=default)


def event(text: str) -> dict:
    """The channel layer's event for LiveConsumer.live_message."""
    return {"type": "live.message", "text": text}


def publish(tenant_id: int, tenant_slug: str, type_: str, data: Any) -> None:
    """Send one message to every open /ws/live/ of the tenant. Never raises: live updates are a
    convenience; what they report is also stored and served by the API."""
    assert type_ in TYPES, type_
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group_name(tenant_id), event(message_text(type_, tenant_slug, data)))
    except Exception:  # a full channel or a Redis hiccup must not fail the action that reported
        log.warning("live message %s for %s not sent", type_, tenant_slug, exc_info=True)


async def apublish(tenant_id: int, tenant_slug: str, type_: str, data: Any) -> None:
    layer = get_channel_layer()
    if layer is not None:
        await layer.group_send(group_name(tenant_id), event(message_text(type_, tenant_slug, data)))


def freeze_startup_objects() -> None:
    """Keep what a process made while starting (Django and the apps, ~150,000 objects) out of the
    collector's full passes. Each pass walked them all: 100-250 ms during which a web server sent
    to none of its sockets and the bridge stored nothing, a few times a minute under live traffic
    (docs/performance.md). The web server and the bridge call this once, when they are up."""
    gc.collect()
    gc.freeze()


class LiveSender:
    """Live messages from a thread that sends many (the MQTT bridge). ``publish`` starts a thread,
    an event loop and a Redis connection for every message; this keeps one loop, in its own
    thread, and so one connection pool, for its life."""

    SEND_TIMEOUT_S = 10.0

    def __init__(self) -> None:
        self.layer = get_channel_layer()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="live-sender", daemon=True)
        self._thread.start()

    def send(self, messages: list[tuple[int, str]]) -> None:
        """Send (tenant id, message text) pairs in order and wait until the layer has them. Never
        raises: a message not sent is logged, the next ones are still sent."""
        if self.layer is None or not messages:
            return
        future = asyncio.run_coroutine_threadsafe(self._send(messages), self._loop)
        try:
            future.result(self.SEND_TIMEOUT_S)
        except Exception:  # Redis away: waiting longer would hold back the bridge's writes too
            future.cancel()
            log.warning("%d live messages not sent in time", len(messages), exc_info=True)

    async def _send(self, messages: list[tuple[int, str]]) -> None:
        for tenant_id, text in messages:  # one after the other: a tenant's messages keep their order
            try:
                await self.layer.group_send(group_name(tenant_id), event(text))
            except Exception:
                log.warning("live message for tenant %s not sent", tenant_id, exc_info=True)

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(self.SEND_TIMEOUT_S)
        self._loop.close()  # channels-redis closes this loop's connections with it
