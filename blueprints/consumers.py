"""``/ws/live/?tenant=SLUG``: a signed-in member receives the tenant's live messages."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from .live import group_name
from .models import Membership


@database_sync_to_async
def membership_tenant(user, slug: str) -> int | None:
    if not user or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, tenant__slug=slug).values_list("tenant_id", flat=True).first()


class LiveConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        slug = (query.get("tenant") or [""])[0]
        tenant_id = await membership_tenant(self.scope.get("user"), slug)
        if tenant_id is None:
            await self.close(code=4403)  # not signed in, or not a member: nothing is said about the tenant
            return
        self.group = group_name(tenant_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "hello", "tenant": slug, "data": {}})

    async def disconnect(self, code):
        if hasattr(self, "group"):
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong", "data": {}})

    async def dispatch(self, message):
        # Channels closes stale database connections before every handler, in a thread: a live
        # message reads no database, and each socket gets dozens a second.
        if message["type"] == "live.message":
            await self.live_message(message)
        else:
            await super().dispatch(message)

    async def live_message(self, event):
        text = event.get("text")
        if text is None:  # from a publisher of the release before, during a rolling upgrade
            await self.send_json(event["message"])
        else:
            await self.send(text_data=text)  # encoded once by the sender, not once per socket
