"""paho's MQTT client with a shortcut for the one packet that comes by the thousand.

paho turns every incoming PUBLISH into an ``MQTTMessage`` (which makes a ``MQTTMessageInfo`` and
with it a ``threading.Condition``), formats a debug line, and matches the topic against the
per-topic callback filters before calling ``on_message``. For telemetry (QoS 0, MQTT 3.1.1) that
is half of paho's cost per message: measured 21 µs → 10 µs per message on loopback.

:class:`FastClient` takes only that path: a QoS 0 PUBLISH on MQTT 3.1.1 goes straight to
``fast_message(topic, payload, retain)``. Everything else — QoS 1 and 2 (acknowledgements),
MQTT 5 (properties), anything malformed — is paho's own code. This leans on two private names of
paho 2 (``_handle_publish`` and ``_in_packet``); when they are not there, the client is plain paho
(``FAST_PATH`` is False) and ``on_message`` does the work.
"""

from __future__ import annotations

from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

__all__ = ["FAST_PATH", "FastClient"]

FAST_PATH = hasattr(mqtt.Client, "_handle_publish")


class FastClient(mqtt.Client):
    fast_message: Callable[[str | None, bytes, bool], None] | None = None

    def _handle_publish(self) -> MQTTErrorCode:
        handler = self.fast_message
        packet = getattr(self, "_in_packet", None)
        if handler is None or not isinstance(packet, dict) or self._protocol == mqtt.MQTTv5:
            return super()._handle_publish()
        command = packet.get("command", 0)
        data = packet.get("packet")
        if command & 0x06 or not isinstance(data, (bytes, bytearray)) or len(data) < 2:
            return super()._handle_publish()  # QoS 1/2 need paho's acknowledgements
        end = 2 + ((data[0] << 8) | data[1])
        if end > len(data):
            return super()._handle_publish()  # malformed: paho reports it
        try:
            topic: str | None = data[2:end].decode("utf-8")
        except UnicodeDecodeError:
            topic = None
        handler(topic, bytes(data[end:]), bool(command & 0x01))
        return MQTTErrorCode.MQTT_ERR_SUCCESS
