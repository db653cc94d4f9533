"""Fixtures for the edge agent tests: a real Mosquitto, signed bundles, agents as subprocesses.

A private ``mosquitto`` is started on a free loopback port unless ``AIOT_TEST_MQTT_URL`` names a
broker to use. Mosquitto is required: without it these tests fail (they never skip).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_compiler.build import build_bundle

from .harness import AgentProcess, Broker, Listener, Publisher, bench_graph, private_broker


@pytest.fixture(scope="session")
def broker(tmp_path_factory) -> Iterator[Broker]:
    url = os.environ.get("AIOT_TEST_MQTT_URL")
    if url:
        parts = urlsplit(url)
        yield Broker(parts.hostname or "127.0.0.1", parts.port or 1883)
        return
    b = private_broker(tmp_path_factory.mktemp("mosquitto"))
    yield b
    b.stop()


@pytest.fixture
def listeners() -> Iterator[Callable[..., Listener]]:
    made: list[Listener] = []

    def make(broker: Broker, topics: list[str], **kw) -> Listener:
        made.append(Listener(broker, topics, **kw))
        return made[-1]

    yield make
    for lst in made:
        lst.close()


@pytest.fixture
def publisher(broker) -> Iterator[Publisher]:
    p = Publisher(broker)
    yield p
    p.close()


@pytest.fixture
def agents(broker, tmp_path) -> Iterator[Callable[..., AgentProcess]]:
    made: list[AgentProcess] = []

    def make(bundle: Path | None, *extra: str, broker_: Broker | None = None, **kw) -> AgentProcess:
        made.append(AgentProcess(broker_ or broker, bundle, tmp_path, *extra, **kw).start())
        return made[-1]

    yield make
    for a in made:
        a.kill()


@pytest.fixture(scope="session")
def signing_key(tmp_path_factory) -> tuple[Ed25519PrivateKey, Path]:
    key = Ed25519PrivateKey.generate()
    pub = tmp_path_factory.mktemp("keys") / "trusted.pub"
    pub.write_bytes(
        key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return key, pub


@pytest.fixture(scope="session")
def bench_bundle(tmp_path_factory, signing_key) -> Path:
    path = tmp_path_factory.mktemp("bundles") / "warehouse.aiotb"
    path.write_bytes(build_bundle(bench_graph(), {}, signing_key[0]).data)
    return path
