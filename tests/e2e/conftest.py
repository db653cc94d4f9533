"""End-to-end: the studio as real processes (daphne, a Celery worker, the MQTT bridge, a private
Mosquitto, the test Valkey), driven through Debian's Chromium by Playwright.

The live studio is one per test process (session scope): with ``-n 2`` every xdist worker that gets
e2e tests starts its own on free ports, with its own data folder, database and Redis key prefix.
Its database is on the tests' database server: a SQLite file by default, a fresh PostgreSQL
database (dropped afterwards) when the tests run on PostgreSQL (AIOT_TEST_DATABASE_URL, the
PostgreSQL leg of `.ci/run`).
The e2e tests carry ``xdist_group("e2e")``, so with ``--dist loadgroup`` they share one worker and
one studio.

Every test that opens a page fails if the page logged a console error or threw.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest

from tests.edge.harness import Broker, private_broker

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DIST_INDEX = ROOT / "frontend" / "dist" / "index.html"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
TENANT = "demo"
PASSWORD = "demo-password"  # seed_demo's


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------ the studio
@contextmanager
def studio_database(data_dir: Path) -> Iterator[str]:
    """The live studio's DATABASE_URL, on the server the tests' own settings use (DATABASE_URL,
    which tests/django_env.py sets from AIOT_TEST_DATABASE_URL): a PostgreSQL database of this
    test process, made empty and dropped afterwards; else a SQLite file in its data folder."""
    tests_url = os.environ.get("DATABASE_URL", "")
    if urlsplit(tests_url).scheme not in ("postgres", "postgresql", "pgsql"):
        yield f"sqlite:///{data_dir / 'e2e.sqlite3'}"
        return
    import psycopg

    name = f"aiot_e2e_{os.getpid()}"
    server = urlsplit(tests_url)._replace(scheme="postgresql").geturl()

    def run(sql: str) -> None:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(sql)

    # WITH (FORCE): the studio's processes may still hold connections when it is dropped.
    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')  # a crashed run's, under a reused pid
    run(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(tests_url)._replace(path=f"/{name}").geturl()
    finally:
        run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class LiveStudio:
    url: str
    broker: Broker
    data_dir: Path
    database_url: str
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    def log(self, name: str) -> str:
        path = self.data_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def logs_tail(self, chars: int = 3000) -> str:
        return "\n".join(f"--- {n}.log\n{self.log(n)[-chars:]}" for n in ("daphne", "celery", "bridge"))

    def check_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.procs.items() if p.poll() is not None}
        if dead:
            pytest.fail(f"studio processes exited: {dead}\n{self.logs_tail()}")

    def publish(self, device: str, kind: str, payload: dict, *, retain: bool = False, tenant: str = TENANT) -> None:
        """Publishes as the device's edge agent would: ``aiot/{tenant}/devices/{device}/{kind}``, QoS 1."""
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"e2e-{uuid.uuid4().hex[:8]}")
        client.connect(self.broker.host, self.broker.port, 30)
        client.loop_start()
        try:
            info = client.publish(f"aiot/{tenant}/devices/{device}/{kind}", json.dumps(payload), qos=1, retain=retain)
            info.wait_for_publish(10)
            assert info.is_published(), "the broker did not take the message"
        finally:
            client.disconnect()
            client.loop_stop()


def _wait(what: str, ready: Callable[[], bool], procs: dict[str, subprocess.Popen], logs: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
        if dead:
            break
        time.sleep(0.1)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in sorted(logs.glob("*.log")))
    pytest.fail(f"the live studio: {what} not ready within {timeout:.0f} s\n{tails}")


def _http_up(url: str) -> bool:
    try:
        urllib.request.urlopen(url, timeout=1).close()
        return True
    except urllib.error.HTTPError:
        return True  # 401/403: the server answers
    except OSError:
        return False


def _stop(procs: dict[str, subprocess.Popen]) -> None:
    for p in procs.values():
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 10
    for p in procs.values():
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


@pytest.fixture(scope="session")
def studio_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e-studio")


@pytest.fixture(scope="session")
def studio_database_url(studio_data_dir) -> Iterator[str]:
    with studio_database(studio_data_dir) as url:  # dropped after the live studio has stopped
        yield url


@pytest.fixture(scope="session")
def live_studio(studio_data_dir, studio_database_url) -> Iterator[LiveStudio]:
    if not DIST_INDEX.is_file():
        pytest.fail("the browser app is not built (frontend/dist/index.html is missing): run `make frontend`")
    redis_url = os.environ.get("REDIS_URL")
    assert redis_url, "REDIS_URL is unset: run pytest with `-p tests.django_env` (pyproject's addopts do)"
    data_dir, database_url = studio_data_dir, studio_database_url
    broker = private_broker(data_dir / "mosquitto")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "aiot_studio.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "AIOT_REDIS_PREFIX": f"e2e-{os.getpid()}",
        "MQTT_URL": broker.url,
        "AIOT_DATA_DIR": str(data_dir),
        "AIOT_PUBLIC_URL": url,
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("AIOT_TEST_DB_NAME", "AIOT_CELERY_EAGER", "DJANGO_ALLOW_ASYNC_UNSAFE", "AIOT_TASK_STEP_DELAY_S"):
        env.pop(name, None)
    procs: dict[str, subprocess.Popen] = {}

    def start(name: str, args: list[str]) -> subprocess.Popen:
        with open(data_dir / f"{name}.log", "ab") as log:  # the child keeps its own copy of the fd
            procs[name] = subprocess.Popen(args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        return procs[name]

    try:
        # The database is made while the servers import (none of them touches it before a request).
        boot = start("bootstrap", [sys.executable, "-m", "tests.e2e.bootstrap"])
        start("daphne", [str(BIN / "daphne"), "-b", "127.0.0.1", "-p", str(port), "aiot_studio.asgi:application"])
        start(
            "celery",
            [str(BIN / "celery"), "-A", "aiot_studio", "worker", "-P", "solo", "-l", "info", "-n", f"e2e-{port}@%h"],
        )
        start("bridge", [sys.executable, str(ROOT / "manage.py"), "mqtt_bridge"])
        try:
            boot.wait(180)
        except subprocess.TimeoutExpired:
            boot.kill()
            boot.wait(10)
        if boot.returncode:
            pytest.fail(f"migrate + seed_demo failed:\n{(data_dir / 'bootstrap.log').read_text()[-4000:]}")
        del procs["bootstrap"]

        def logged(name: str, text: str) -> Callable[[], bool]:
            return lambda: text in (data_dir / f"{name}.log").read_text(errors="replace")

        _wait("the web server", lambda: _http_up(f"{url}/api/v1/auth/me"), procs, data_dir, 60)
        _wait("the Celery worker", logged("celery", " ready."), procs, data_dir, 60)
        _wait("the MQTT bridge", logged("bridge", "bridge connected"), procs, data_dir, 60)
        yield LiveStudio(url, broker, data_dir, database_url, procs)
    finally:
        _stop(procs)
        broker.stop()


# -------------------------------------------------------------------------------- pytest-playwright
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (the e2e tests use Debian's Chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args, live_studio):
    return {**browser_context_args, "base_url": live_studio.url, "viewport": {"width": 1280, "height": 800}}


# ------------------------------------------------------------------------------ console errors
def _allowed(message) -> bool:
    """The one error a healthy app logs: before sign-in, ``GET /auth/me`` answers 401/403 and
    Chromium reports the failed load."""
    loc = (message.location or {}).get("url", "")
    return (
        message.text.startswith("Failed to load resource: the server responded with a status of 40")
        and ("401" in message.text or "403" in message.text)
        and loc.endswith("/api/v1/auth/me")
    )


class ConsoleErrors:
    def __init__(self) -> None:
        self.errors: list[str] = []

    def watch(self, page) -> None:
        def on_console(message) -> None:
            if message.type == "error" and not _allowed(message):
                loc = (message.location or {}).get("url", "")
                self.errors.append(f"console.error on {page.url}: {message.text} ({loc})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught on {page.url}: {exc}"))


@pytest.fixture(autouse=True)
def console_errors(request) -> Iterator[ConsoleErrors]:
    """Collects console errors and uncaught exceptions of every page the test opens (the ``page``
    fixture's, and those of contexts made with ``new_browser_context``)."""
    watcher = ConsoleErrors()
    request.node.stash[CONSOLE_KEY] = watcher
    if "page" in request.fixturenames or "context" in request.fixturenames:
        request.getfixturevalue("context").on("page", watcher.watch)
    yield watcher


CONSOLE_KEY = pytest.StashKey[ConsoleErrors]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    result = yield
    watcher = item.stash.get(CONSOLE_KEY, None)
    if watcher and watcher.errors:
        raise AssertionError("the page logged errors:\n  " + "\n  ".join(watcher.errors))
    return result


@pytest.fixture
def page(page, live_studio):
    page.set_default_timeout(15_000)
    yield page
    live_studio.check_alive()


@pytest.fixture
def new_browser_context(browser, browser_context_args, console_errors) -> Iterator[Callable[..., object]]:
    """Another browser context (another user, another viewport), watched for console errors."""
    made = []

    def make(**overrides):
        ctx = browser.new_context(**{**browser_context_args, **overrides})
        ctx.set_default_timeout(15_000)
        ctx.on("page", console_errors.watch)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


# ------------------------------------------------------------------------------------ helpers
def sign_in(page, username: str, tenant: str = TENANT) -> None:
    """Signs ``username`` in; the app lands on their (first) workspace, ``tenant``."""
    page.goto("/login")
    page.get_by_test_id("login-username").fill(username)
    page.get_by_test_id("login-password").fill(PASSWORD)
    page.get_by_test_id("login-submit").click()
    page.wait_for_url(f"**/t/{tenant}")
    page.get_by_test_id("current-user").filter(has_text=username).wait_for()


def api(page, method: str, path: str, body: dict | None = None) -> dict | list | None:
    """Calls ``/api/v1{path}`` with the page's session (and its CSRF token), as the app does."""
    csrf = next((c["value"] for c in page.context.cookies() if c["name"] == "csrftoken"), "")
    response = page.request.fetch(
        f"/api/v1{path}",
        method=method,
        headers={"X-CSRFToken": csrf, "Content-Type": "application/json", "Accept": "application/json"},
        data=json.dumps(body) if body is not None else None,
    )
    assert response.ok, f"{method} {path}: {response.status} {response.text()[:500]}"
    return response.json() if response.status != 204 else None


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path
