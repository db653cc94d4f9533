"""``manage.py simulate_fleet``: real edge agents on the real broker, fed by simulated sensors.

Each registered device of the tenant (by default the first N) becomes an ``aiot edge run``
process running its group's blueprint, compiled by the studio and signed with its key; each
gateway's sensors publish under its own topic prefix. The agents fetch later deployments from
the studio with their device tokens, like gateways in the field.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from blueprints.actions import Actor, do_compile_version, do_rotate_device_token, studio_signing_key
from blueprints.fleet_sim import Site
from blueprints.models import Blueprint, Device, Tenant
from blueprints.mqtt import make_client
from edge_compiler.signing import key_id

GROUP_BLUEPRINTS = {
    "warehouse": "smart-warehouse-safety",
    "cold-chain": "cold-chain-monitor",
    "maintenance": "predictive-maintenance",
}
SYSTEM = Actor.system_actor("fleet-simulator")


class Command(BaseCommand):
    help = "Run simulated gateways (real edge agents) and their sensors against the studio's broker."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", default="demo")
        parser.add_argument("--devices", type=int, default=6, help="how many of the tenant's devices to run")
        parser.add_argument("--hz", type=float, default=2.0, help="sensor readings per second, per sensor")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--status-interval", type=float, default=2.0)

    def handle(self, *args, **options):
        tenant = Tenant.objects.filter(slug=options["tenant"]).first()
        if tenant is None:
            raise CommandError(f"no tenant {options['tenant']!r} (run manage.py seed_demo)")
        devices = list(Device.objects.filter(tenant=tenant).order_by("device_id")[: options["devices"]])
        if not devices:
            raise CommandError(f"{tenant.slug} has no devices")
        work = Path(settings.DATA_DIR) / "fleet"
        work.mkdir(parents=True, exist_ok=True)
        key = studio_signing_key()
        pub = Path(settings.SIGNING_KEY_PATH).with_suffix(".pub")
        bundles: dict[str, Path] = {}
        agents: list[subprocess.Popen] = []
        sites: list[Site] = []
        aiot = str(Path(sys.executable).with_name("aiot"))
        for i, device in enumerate(devices):
            slug = GROUP_BLUEPRINTS.get(device.group, "smart-warehouse-safety")
            if slug not in bundles:
                bp = Blueprint.objects.filter(tenant=tenant, slug=slug).first()
                if bp is None:
                    raise CommandError(f"{tenant.slug} has no blueprint {slug} (run manage.py seed_demo)")
                version = bp.versions.order_by("-major", "-minor", "-patch").first()
                bundle = do_compile_version(SYSTEM, version, {})
                path = work / f"{bundle.bundle_id}.aiotb"
                path.write_bytes(bytes(bundle.data))
                bundles[slug] = path
            token = do_rotate_device_token(SYSTEM, device)
            prefix = f"{device.device_id}/"
            agents.append(
                subprocess.Popen(
                    [
                        aiot,
                        "edge",
                        "run",
                        "--bundle",
                        str(bundles[slug]),
                        "--broker",
                        settings.MQTT_URL,
                        "--device-id",
                        device.device_id,
                        "--tenant",
                        tenant.slug,
                        "--token",
                        token,
                        "--trust",
                        str(pub),
                        "--state-dir",
                        str(work / device.device_id),
                        "--source-prefix",
                        prefix,
                        "--status-interval",
                        str(options["status_interval"]),
                        "--log-level",
                        "warning",
                    ]
                )
            )
            sites.append(Site(prefix, slug, options["seed"] + i))
        self.stdout.write(f"fleet: {len(agents)} edge agents for {tenant.slug} (signer {key_id(key.public_key())})")
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        client, target = make_client(settings.MQTT_URL, f"aiot-sensors-{tenant.slug}")
        client.connect_async(target.host, target.port, keepalive=30)
        client.loop_start()
        period = 1.0 / options["hz"]
        try:
            while not stop.is_set():
                started = time.monotonic()
                now_ms = time.time() * 1000
                for site in sites:
                    for topic, payload in site.tick(now_ms):
                        client.publish(topic, payload, qos=0)
                if any(a.poll() is not None for a in agents):
                    self.stderr.write("fleet: an agent stopped; stopping the fleet")
                    break
                stop.wait(max(0.0, period - (time.monotonic() - started)))
        finally:
            for a in agents:
                if a.poll() is None:
                    a.send_signal(signal.SIGTERM)
            for a in agents:
                try:
                    a.wait(10)
                except subprocess.TimeoutExpired:
                    a.kill()
            client.loop_stop()
            client.disconnect()
