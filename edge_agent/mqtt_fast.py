"""paho's MQTT client, with our own code for the packets that come and go by the thousand.

paho reads a packet with three ``recv`` calls (command byte, length, body), turns every incoming
PUBLISH into an ``MQTTMessage`` (with a ``threading.Condition``), formats a debug line for each,
and writes each outgoing packet with its own ``send``. At thousands of messages a second with
``TCP_NODELAY`` on both ends, that per-packet cost is most of the agent's CPU.

:class:`FastClient` keeps paho for the connection (CONNECT, SUBSCRIBE, keepalive, last will,
reconnect) and, on plain-TCP MQTT 3.1.1 (``fast_io``), does the hot packets itself:

* :meth:`FastClient.fast_read`: one ``recv`` of everything the socket holds, then every complete
  packet in it: the QoS 0 PUBLISH packets go to ``fast_messages([(topic, payload, retain), ...])``
  (all of a read in one call, not a call per message), a PUBACK to ``fast_puback(mid)``; any other
  packet (CONNACK, SUBACK, PINGRESP, QoS 1/2 PUBLISH, ...) is handed to paho's own handler exactly
  as paho's reader would have, after the messages that came before it.
* :func:`publish_packet`: a QoS 1 PUBLISH, built in one go; the outbox tracks its id, writes many
  of them with one ``send`` (through paho's output queue, so they never interleave with paho's own
  packets) and sends them again after a reconnect.

Elsewhere (MQTT 5, TLS) the client is plain paho, but for ``_handle_publish``: a QoS 0 PUBLISH on
MQTT 3.1.1 still skips ``MQTTMessage``. This leans on private names of paho 2 (``_handle_publish``,
``_in_packet``, ``_packet_handle``, ``_packet_queue``, ``_loop_rc_handle``,
``_last_bytes_received``); when they are not there, ``FAST_PATH`` is False and the agent runs on
paho's own path (a test says so).
"""

from __future__ import annotations

from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

__all__ = ["FAST_PATH", "FastClient", "publish_packet"]

FAST_PATH = all(
    hasattr(mqtt.Client, name)
    for name in ("_handle_publish", "_packet_handle", "_packet_queue", "_loop_rc_handle", "_mid_generate")
) and hasattr(mqtt, "time_func")

RECV_BYTES = 256 * 1024  # one read: ~2,000 telemetry messages
MAX_REMAINING = 268_435_455  # the largest MQTT remaining length
_time = getattr(mqtt, "time_func", None)


def _fresh_in_packet() -> dict:
    return {
        "command": 0,
        "have_remaining": 0,
        "remaining_count": [],
        "remaining_mult": 1,
        "remaining_length": 0,
        "packet": bytearray(b""),
        "to_process": 0,
        "pos": 0,
    }


def _remaining(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | 0x80 if n else byte)
        if not n:
            return bytes(out)


def topic_field(topic: str) -> bytes:
    """A PUBLISH topic as it goes on the wire; ValueError for what paho's ``publish`` refuses."""
    data = topic.encode("utf-8")
    if not data:
        raise ValueError("Invalid topic.")
    if b"+" in data or b"#" in data:
        raise ValueError("Publish topic cannot contain wildcards.")
    if len(data) > 65535:
        raise ValueError("Publish topic is too long.")
    return len(data).to_bytes(2, "big") + data


def publish_packet(topic: bytes, mid: int, payload: bytes, retain: bool = False) -> bytes:
    """A QoS 1 PUBLISH (MQTT 3.1.1) of ``topic`` (a :func:`topic_field`) with packet id ``mid``."""
    size = len(topic) + 2 + len(payload)
    if size > MAX_REMAINING:
        raise ValueError("Payload too large.")
    first = 0x33 if retain else 0x32
    if size < 128:
        prefix = bytes((first, size))
    elif size < 16384:  # an alert: two length bytes
        prefix = bytes((first, size & 0x7F | 0x80, size >> 7))
    else:
        prefix = bytes((first,)) + _remaining(size)
    return b"".join((prefix, topic, mid.to_bytes(2, "big"), payload))


class FastClient(mqtt.Client):
    fast_messages: Callable[[list[tuple[str | None, bytes, bool]]], None] | None = None
    fast_puback: Callable[[int], None] | None = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._fast_buf = b""
        self.fast_more = False  # the last read filled its buffer: more may be waiting in the socket

    @property
    def fast_io(self) -> bool:
        """Whether :meth:`fast_read` and :func:`publish_packet` may be used on this connection."""
        return FAST_PATH and self._protocol != mqtt.MQTTv5 and not self._ssl and self.fast_messages is not None

    def reconnect(self) -> MQTTErrorCode:
        self._fast_buf = b""  # what was left of the old connection's stream
        return super().reconnect()

    def fast_buffered(self) -> bool:
        """Whether a complete packet waits in our buffer (select would not say so)."""
        buf = self._fast_buf
        if len(buf) < 2:
            return False
        length, shift, i = 0, 0, 1
        while i < len(buf) and i <= 4:
            byte = buf[i]
            length |= (byte & 0x7F) << shift
            shift += 7
            i += 1
            if byte < 0x80:
                return i + length <= len(buf)
        return i > 4  # a malformed length: let fast_read report it

    def fast_read(self, limit: int) -> int:
        """Read once (unless a complete packet is already buffered) and handle complete packets,
        at most ``limit`` QoS 0 PUBLISH packets. Returns how many packets were handled; -1 when
        the connection is lost (paho's on_disconnect has been called)."""
        sock = self._sock
        if sock is None:
            return -1
        buf = self._fast_buf
        if not self.fast_buffered():
            try:
                data = sock.recv(RECV_BYTES)
            except (BlockingIOError, InterruptedError):
                return 0
            except OSError:
                self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
                return -1
            if not data:
                self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_CONN_LOST)
                return -1
            self._last_bytes_received = _time()
            self.fast_more = len(data) == RECV_BYTES
            buf = buf + data if buf else data
        handler = self.fast_messages
        puback = self.fast_puback
        messages: list[tuple[str | None, bytes, bool]] = []  # handed over together, in order
        size = len(buf)
        pos = 0
        handled = 0
        published = 0
        while pos + 2 <= size and published < limit:
            command = buf[pos]
            byte = buf[pos + 1]
            if byte < 0x80:
                length, start = byte, pos + 2
            elif pos + 2 < size and buf[pos + 2] < 0x80:  # two length bytes: most telemetry
                length, start = (byte & 0x7F) | (buf[pos + 2] << 7), pos + 3
            else:
                length, shift, i = byte & 0x7F, 7, pos + 2
                while True:
                    if i >= size:
                        length = -1
                        break
                    byte = buf[i]
                    length |= (byte & 0x7F) << shift
                    i += 1
                    if byte < 0x80:
                        break
                    if i - pos > 4:
                        self._fast_buf = b""
                        self._loop_rc_handle(MQTTErrorCode.MQTT_ERR_PROTOCOL)
                        return -1
                    shift += 7
                if length < 0:
                    break
                start = i
            end = start + length
            if end > size:
                break
            handled += 1
            if command & 0xF6 == 0x30 and length >= 2 and handler is not None:  # PUBLISH, QoS 0
                topic_end = start + 2 + ((buf[start] << 8) | buf[start + 1])
                if topic_end <= end:
                    try:
                        topic: str | None = buf[start + 2 : topic_end].decode("utf-8")
                    except UnicodeDecodeError:
                        topic = None
                    pos = end
                    published += 1
                    messages.append((topic, buf[topic_end:end], bool(command & 0x01)))
                    continue
            elif command == 0x40 and length == 2 and puback is not None:  # PUBACK
                pos = end
                puback((buf[start] << 8) | buf[start + 1])
                continue
            pos = end
            if messages:  # what came before this packet is handled before it
                handler(messages)  # type: ignore[misc]
                messages = []
            rc = self._paho_packet(command, buf[start:end])
            if rc:
                self._fast_buf = b""
                self._loop_rc_handle(rc)
                return -1
            if self._sock is not sock:  # paho closed or replaced the connection
                self._fast_buf = b""
                return handled
        self._fast_buf = buf[pos:] if pos < size else b""
        if messages:
            handler(messages)  # type: ignore[misc]
        return handled

    def _paho_packet(self, command: int, body: bytes) -> MQTTErrorCode:
        """One complete packet through paho's own handler, as its reader would have given it."""
        packet = _fresh_in_packet()
        packet.update(command=command, have_remaining=1, remaining_length=len(body), packet=bytearray(body))
        self._in_packet = packet
        try:
            rc = self._packet_handle()
        except Exception as exc:  # paho's MalformedPacket and the like
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = MQTTErrorCode.MQTT_ERR_PROTOCOL
        finally:
            self._in_packet = _fresh_in_packet()
        return rc

    def fast_write(self, data: bytes) -> None:
        """Queue bytes made of whole packets behind paho's own, and write what the socket takes."""
        self._packet_queue(0, data, 0, 0)

    def _handle_publish(self) -> MQTTErrorCode:
        handler = self.fast_messages
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
        handler([(topic, bytes(data[end:]), bool(command & 0x01))])
        return MQTTErrorCode.MQTT_ERR_SUCCESS
