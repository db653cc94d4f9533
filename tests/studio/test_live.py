"""/ws/live/ over channels-redis: members receive their tenant's messages, nobody else does."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.test import Client

from aiot_studio.asgi import application
from blueprints.live import LiveSender, apublish, group_name, message_text

pytestmark = pytest.mark.django_db(transaction=True)


def session_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect(user, tenant: str) -> tuple[WebsocketCommunicator, bool]:
    headers = [(b"origin", b"http://127.0.0.1"), (b"host", b"127.0.0.1")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={session_cookie(user)}".encode()))
    ws = WebsocketCommunicator(application, f"/ws/live/?tenant={tenant}", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    return ws, connected


@pytest.fixture
def layer_is_redis(settings):
    assert settings.CHANNEL_LAYERS["default"]["BACKEND"] == "channels_redis.core.RedisChannelLayer"


async def test_a_member_receives_the_tenants_messages_and_no_others(acme, globex, layer_is_redis):
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok and (await ws.receive_json_from(5))["type"] == "hello"
    await apublish(globex["tenant"].pk, "globex", "alert", {"id": "not yours"})
    await apublish(acme["tenant"].pk, "acme", "device.status", {"device_id": "gw-1", "state": "online"})
    message = await ws.receive_json_from(5)
    assert message == {"type": "device.status", "tenant": "acme", "data": {"device_id": "gw-1", "state": "online"}}
    assert await ws.receive_nothing(0.3)
    await ws.disconnect()


@pytest.mark.parametrize("who", ["anonymous", "other-tenant"])
async def test_others_are_refused(acme, globex, who, layer_is_redis):
    user = None if who == "anonymous" else globex["users"]["admin"]
    _, ok = await connect(user, "acme")
    assert not ok  # closed before the handshake completes: nothing about the tenant is said


async def test_ping_pong(acme, layer_is_redis):
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok
    await ws.receive_json_from(5)
    await ws.send_json_to({"type": "ping"})
    assert (await ws.receive_json_from(5))["type"] == "pong"
    await ws.disconnect()
    await asyncio.sleep(0)


async def test_a_sender_delivers_its_messages_in_order(acme, globex, layer_is_redis):
    """The bridge's sender: one event loop and Redis connection for its life, messages in order."""
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok and (await ws.receive_json_from(5))["type"] == "hello"
    sender = await sync_to_async(LiveSender)()
    try:
        messages = [(globex["tenant"].pk, message_text("alert", "globex", {"n": -1}))]
        messages += [(acme["tenant"].pk, message_text("alert", "acme", {"n": n})) for n in range(5)]
        await sync_to_async(sender.send)(messages)
        await sync_to_async(sender.send)([(acme["tenant"].pk, message_text("alert", "acme", {"n": 5}))])
        received = [await ws.receive_json_from(5) for _ in range(6)]
    finally:
        await sync_to_async(sender.close)()
    assert received == [{"type": "alert", "tenant": "acme", "data": {"n": n}} for n in range(6)]
    assert await ws.receive_nothing(0.3)  # globex's message is not Acme's
    await ws.disconnect()


async def test_a_message_in_the_older_form_still_reaches_the_browser(acme, layer_is_redis):
    """During a rolling upgrade a publisher may still send the message as a dict, not as text."""
    ws, ok = await connect(acme["users"]["viewer"], "acme")
    assert ok and (await ws.receive_json_from(5))["type"] == "hello"
    message = {"type": "alert", "tenant": "acme", "data": {"id": 1}}
    await get_channel_layer().group_send(group_name(acme["tenant"].pk), {"type": "live.message", "message": message})
    assert await ws.receive_json_from(5) == message
    await ws.disconnect()
