"""The README's first command: ``aiot studio`` on its embedded default (SPEC §10), as a newcomer runs it.

No DATABASE_URL, REDIS_URL or MQTT_URL: SQLite, a private Valkey and an embedded MQTT broker on
loopback, the web server, a Celery worker and the bridge as processes of their own, the demo tenant
with a user per role and a simulated fleet. The test signs in as a demo user, waits for live
devices and alerts, checks that the private services listen on loopback only, and stops the
studio with SIGTERM: every process it started is gone.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
AIOT = Path(sys.executable).parent / "aiot"
START_S = 180  # a hang guard, not a speed check: on an idle machine it takes ~20 s
FLEET_S = 180


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listeners(port: int) -> set[str]:
    """The local addresses (hex, as /proc/net/tcp writes them) listening on ``port``."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, state = fields[1], fields[3]
            if state == "0A" and int(address.rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                found.add(address.rsplit(":", 1)[0])
    return found


LOOPBACK = {"0100007F", "00000000000000000000000001000000"}  # 127.0.0.1, ::1


class Studio:
    def __init__(self, tmp: Path):
        self.port = _free_port()
        env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", "MQTT_URL")}
        env["AIOT_DATA_DIR"] = str(tmp / "data")
        self.proc = subprocess.Popen(
            [str(AIOT), "studio", "--port", str(self.port), "--fleet", "2"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # its own process group: what is left of it afterwards can be found
        )
        self.output: list[str] = []
        self.ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()
        cookies = http.cookiejar.CookieJar()
        self.http = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(cookies))

    def _read(self) -> None:
        for line in self.proc.stdout:  # type: ignore[union-attr]
            self.output.append(line)
            if "AIoT Studio is running" in line:
                self.ready.set()

    def text(self) -> str:
        return "".join(self.output)

    def call(self, path: str, body: dict | None = None) -> dict | list:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/api/v1{path}",
            data=data,
            headers={"Content-Type": "application/json", "Accept": "application/json"},
        )
        with self.http.open(request, timeout=30) as response:
            return json.loads(response.read())


def _results(page: dict | list) -> list:
    return page["results"] if isinstance(page, dict) else page


def test_the_studio_starts_on_its_embedded_default_shows_a_live_fleet_and_stops_cleanly(tmp_path):
    studio = Studio(tmp_path)
    pgid = studio.proc.pid
    try:
        assert studio.ready.wait(START_S), f"aiot studio did not start:\n{studio.text()}"
        time.sleep(0.5)  # the lines printed after the first
        text = studio.text()
        assert "demo-designer" in text and "demo-password" in text, text  # the credentials
        redis = re.search(r"Redis: redis://127\.0\.0\.1:(\d+)", text)
        mqtt = re.search(r"MQTT: mqtt://127\.0\.0\.1:(\d+)", text)
        assert redis and mqtt, f"the private Valkey and broker are not on loopback:\n{text}"
        for port in (int(redis.group(1)), int(mqtt.group(1))):
            listening = _listeners(port)
            assert listening and listening <= LOOPBACK, (port, listening)

        me = studio.call("/auth/login", {"username": "demo-viewer", "password": "demo-password"})
        assert me, me
        deadline = time.monotonic() + FLEET_S
        online = alerts = []
        while time.monotonic() < deadline:
            online = [d for d in _results(studio.call("/t/demo/devices/")) if d["state"] == "online"]
            alerts = _results(studio.call("/t/demo/alerts/"))
            if online and alerts:
                break
            time.sleep(2)
        assert online, f"no simulated device came online:\n{studio.text()[-3000:]}"
        assert alerts, f"no alert reached the studio:\n{studio.text()[-3000:]}"
    finally:
        if studio.proc.poll() is None:
            studio.proc.send_signal(signal.SIGTERM)
        try:
            code = studio.proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(pgid, signal.SIGKILL)
            raise
    assert code == 0, studio.text()[-3000:]
    time.sleep(0.5)
    left = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == pgid:
                    left.append((entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"))
            except (ProcessLookupError, PermissionError, FileNotFoundError):
                continue
    if left:
        os.killpg(pgid, signal.SIGKILL)
    assert not left, f"processes left after SIGTERM: {left}"
