"""Compilation on a real Celery worker (a separate process) with real Redis: progress reaches a
WebSocket in order; a worker killed mid-task leaves the task to the next one, which stores the
same bundle, and nothing half-written is ever visible."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from django.db import connection

from blueprints.models import Bundle
from tests.studio.test_live import connect

pytestmark = pytest.mark.django_db(transaction=True)
CELERY = str(Path(sys.executable).with_name("celery"))


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}:{s['PASSWORD']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def start_worker(name: str, **env) -> subprocess.Popen:
    environ = {**os.environ, "DATABASE_URL": database_url(), "AIOT_CELERY_VISIBILITY_TIMEOUT": "3", **env}
    environ.pop("AIOT_TEST_DB_NAME", None)
    return subprocess.Popen(
        [
            CELERY,
            "-A",
            "aiot_studio",
            "worker",
            "-P",
            "solo",
            "-n",
            f"{name}@test",
            "-l",
            "warning",
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
        ],
        env=environ,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def real_worker_mode():
    from aiot_studio.celery import app

    app.conf.task_always_eager = False
    yield


async def progress_until(ws, state: str, timeout: float = 60) -> list[dict]:
    seen = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msg = await ws.receive_json_from(timeout=max(0.1, deadline - time.monotonic()))
        if msg["type"] == "compile.progress":
            seen.append(msg["data"])
            if msg["data"]["state"] == state:
                return seen
    raise AssertionError(f"no {state} in {seen}")


async def test_compile_runs_on_a_worker_and_streams_progress_in_order(acme, client_as, real_worker_mode):
    worker = start_worker("w1")
    try:
        ws, ok = await connect(acme["users"]["designer"], "acme")
        assert ok
        await ws.receive_json_from(5)
        client = client_as(acme["users"]["designer"])
        url = "/api/v1/t/acme/blueprints/overspeed/versions/0.1.0/compile"
        r = await sync_to_async(client.post)(url, {"params": {"limit": 3}}, format="json")
        assert r.status_code == 202
        seen = await progress_until(ws, "done")
        steps = [m["step"] for m in seen]
        assert steps == ["queued", "validate", "compile", "package", "store", "done"]
        assert [m["progress"] for m in seen] == sorted(m["progress"] for m in seen)
        assert all(m["task_id"] == r.json()["task_id"] for m in seen)
        bundle_id = seen[-1]["bundle_id"]
        assert await sync_to_async(Bundle.objects.filter(tenant=acme["tenant"], bundle_id=bundle_id).exists)()
        task = await sync_to_async(client.get)(f"/api/v1/t/acme/tasks/{r.json()['task_id']}")
        assert task.json()["state"] == "SUCCESS" and task.json()["result"]["bundle_id"] == bundle_id
        await ws.disconnect()
    finally:
        stop(worker)


async def test_a_worker_killed_mid_task_leaves_it_to_the_next(acme, client_as, real_worker_mode):
    expected = await sync_to_async(Bundle.objects.count)()
    slow = start_worker("slow", AIOT_TASK_STEP_DELAY_S="1.5")
    ws, ok = await connect(acme["users"]["designer"], "acme")
    assert ok
    await ws.receive_json_from(5)
    client = client_as(acme["users"]["designer"])
    r = await sync_to_async(client.post)(
        "/api/v1/t/acme/blueprints/overspeed/versions/0.1.0/compile", {"params": {"limit": 4}}, format="json"
    )
    seen = await progress_until(ws, "running")
    while seen[-1]["step"] != "compile":
        seen += await progress_until(ws, "running")
    slow.send_signal(signal.SIGKILL)  # mid-task: after compile began, before the bundle is stored
    slow.wait(10)
    assert await sync_to_async(Bundle.objects.count)() == expected  # nothing half-written
    await ws.disconnect()
    await asyncio.sleep(3.5)  # the message becomes visible again after the visibility timeout
    second = start_worker("second")
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            bundles = await sync_to_async(list)(Bundle.objects.filter(params={"limit": 4}))
            if bundles:
                break
            await asyncio.sleep(0.2)
        assert len(bundles) == 1, "the next worker did not take the task over"
        while time.monotonic() < deadline:  # the result is stored just after the bundle
            task = (await sync_to_async(client.get)(f"/api/v1/t/acme/tasks/{r.json()['task_id']}")).json()
            if task["state"] == "SUCCESS":
                break
            await asyncio.sleep(0.2)
        assert task["result"]["bundle_id"] == bundles[0].bundle_id
    finally:
        stop(second)
