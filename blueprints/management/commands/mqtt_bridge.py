"""``manage.py mqtt_bridge``: agents' status and alerts into the studio (see blueprints/bridge.py)."""

import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand

from blueprints.bridge import FLUSH_MS, Bridge
from blueprints.live import freeze_startup_objects


class Command(BaseCommand):
    help = "Subscribe to every tenant's agent status and action topics; store and forward them."

    def add_arguments(self, parser):
        parser.add_argument("--mqtt-url", default=None, help="default: MQTT_URL")
        parser.add_argument("--flush-ms", type=int, default=FLUSH_MS, help="at most one batch per flush")

    def handle(self, *args, **options):
        stop = threading.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
        bridge = Bridge(options["mqtt_url"] or settings.MQTT_URL, flush_ms=options["flush_ms"])
        freeze_startup_objects()  # the process is up: what it made so far lives as long as it does
        self.stdout.write(f"mqtt bridge: {bridge.target.host}:{bridge.target.port}, topics aiot/+/devices/+/...")
        bridge.run(until=stop)
        self.stdout.write(f"mqtt bridge stopped: {bridge.stats}")
