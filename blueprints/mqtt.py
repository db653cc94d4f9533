"""MQTT URLs (``mqtt://user:pass@host:port``, ``mqtts://`` for TLS) to paho clients."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt


@dataclass(frozen=True)
class MqttTarget:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_mqtt_url(url: str) -> MqttTarget:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
        raise ValueError(f"{url!r}: an MQTT URL is mqtt://host:port or mqtts://host:port")
    tls = parts.scheme in ("mqtts", "ssl")
    return MqttTarget(
        parts.hostname or "127.0.0.1",
        parts.port or (8883 if tls else 1883),
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
    )


def make_client(url: str, client_id: str) -> tuple[mqtt.Client, MqttTarget]:
    target = parse_mqtt_url(url)
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True, protocol=mqtt.MQTTv311
    )
    if target.username:
        client.username_pw_set(target.username, target.password)
    if target.tls:
        client.tls_set(cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client, target


def publish_once(
    url: str, messages: list[tuple[str, bytes]], client_id: str = "aiot-studio", timeout: float = 10.0
) -> None:
    """Publish messages QoS 1 and wait until the broker has them all (raises OSError if it cannot)."""
    import uuid

    if not messages:
        return
    client, target = make_client(url, f"{client_id}-{uuid.uuid4().hex[:8]}")
    client.connect(target.host, target.port, keepalive=30)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        for info in infos:
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise OSError(f"the broker did not take {info.mid} within {timeout} s")
    finally:
        client.disconnect()
        client.loop_stop()
