"""/ws/live/ over channels-redis: members receive their tenant's messages, nobody else does."""

from __future__ import annotations

import asyncio

import pytest
from channels.testing import WebsocketCommunicator
from django.test import Client

from aiot_studio.asgi import application
from blueprints.live import apublish

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
