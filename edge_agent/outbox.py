"""Everything the agent publishes: QoS 1, in order, bounded, and kept across broker restarts.

At most ``window`` messages are unacknowledged at once; the rest wait here, in order, up to
``queue_max`` in all (the two together). A message that finds no room is dropped and counted
(``queue.dropped``), never lost without a trace. An unacknowledged message is sent again (DUP) after
a reconnect, before anything queued.

Two ways out, the same semantics:

* on plain-TCP MQTT 3.1.1 (``FastClient.fast_io``) the outbox builds the PUBLISH packets itself,
  numbers them with paho's packet-id counter, keeps each until its PUBACK, and writes all that one
  pass of the agent's loop made with one ``send`` (:meth:`flush`);
* otherwise each message goes through paho's ``publish``, which keeps it until it is acknowledged
  and resends it after a reconnect; paho identifies them by a 16-bit id and its own queue limit
  would drop silently, hence the window.
"""

from __future__ import annotations

from collections import deque

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from .logs import Log
from .mqtt_fast import publish_packet, topic_field
from .status import Counters

__all__ = ["Outbox"]

TOPIC_CACHE = 256


class Outbox:
    def __init__(self, client: mqtt.Client, *, queue_max: int, window: int, counters: Counters, log: Log):
        self.client = client
        self.queue_max = queue_max
        self.window = window  # at most this many unacknowledged (MQTT 5: the broker's Receive Maximum)
        self.counters = counters
        self.log = log
        self.fast = bool(getattr(client, "fast_io", False))
        self.online = False  # fast: CONNACK received on the current connection
        self._paho_inflight = 0
        self._unacked: dict[int, bytes] = {}  # fast: packet id → the PUBLISH, in sending order
        self._out: list[bytes] = []  # fast: packets made since the last flush
        self._topics: dict[str, bytes] = {}
        self._queue: deque[tuple[str, str, bool]] = deque()
        if self.fast:
            client.fast_puback = self.acked_mid  # type: ignore[attr-defined]

    @property
    def inflight(self) -> int:
        return len(self._unacked) if self.fast else self._paho_inflight

    @property
    def pending(self) -> int:
        """Messages not yet acknowledged by the broker."""
        return self.inflight + len(self._queue)

    def put(self, topic: str, payload: str, retain: bool = False) -> bool:
        """Publish in order, or queue; False (and counted) when there is no room."""
        queue = self._queue
        inflight = len(self._unacked) if self.fast else self._paho_inflight
        if inflight + len(queue) >= self.queue_max:
            self.counters.dropped += 1
            if self.counters.dropped == 1 or self.counters.dropped % 1000 == 0:
                self.log.error("queue_full", dropped=self.counters.dropped, queue_max=self.queue_max)
            return False
        if queue or inflight >= self.window or (self.fast and not self.online):
            queue.append((topic, payload, retain))
        else:
            self.send_now(topic, payload, retain)
        return True

    def send_now(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish one message, past the queue. Without a connection it is kept and sent after
        reconnecting."""
        if self.fast:
            self._send_fast(topic, payload, retain)
            return
        try:
            info = self.client.publish(topic, payload, qos=1, retain=retain)
        except (ValueError, TypeError) as exc:  # an invalid topic or an oversized payload
            self.counters.publish_errors += 1
            self.log.warning("publish_invalid", topic=topic, error=str(exc))
            return
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            self.counters.dropped += 1
            self.log.error("publish_dropped", topic=topic, reason="paho's queue is full")
            return
        self._paho_inflight += 1

    def _send_fast(self, topic: str, payload: str, retain: bool) -> None:
        try:
            field = self._topics.get(topic)
            if field is None:
                field = topic_field(topic)
                if len(self._topics) >= TOPIC_CACHE:
                    self._topics.clear()
                self._topics[topic] = field
            unacked = self._unacked
            mid = self.client._mid_generate()  # type: ignore[attr-defined]
            while mid in unacked:  # 65,535 ids, at most window + a few in use
                mid = self.client._mid_generate()  # type: ignore[attr-defined]
            packet = publish_packet(field, mid, payload.encode("utf-8"), retain)
        except (ValueError, TypeError, UnicodeEncodeError) as exc:
            self.counters.publish_errors += 1
            self.log.warning("publish_invalid", topic=topic, error=str(exc))
            return
        unacked[mid] = packet
        if self.online:
            self._out.append(packet)

    def flush(self) -> None:
        """Write what was published since the last flush, in one go (fast path)."""
        out = self._out
        if out:
            data = b"".join(out)
            out.clear()
            if self.online and self.client.socket() is not None:
                self.client.fast_write(data)  # type: ignore[attr-defined]

    def acked(self, reason_code) -> None:
        """paho's path: one of ours was acknowledged."""
        self._paho_inflight -= 1
        if reason_code.is_failure:  # MQTT 5: the broker refused it (e.g. not authorised)
            self.counters.publish_errors += 1
            self.log.warning("publish_refused", reason=str(reason_code))

    def acked_mid(self, mid: int) -> None:
        """Fast path: a PUBACK (a duplicate or a stranger's is ignored)."""
        self._unacked.pop(mid, None)

    def connected(self) -> None:
        """A new connection is up (CONNACK): send the unacknowledged again, then the queue."""
        if not self.fast:
            return
        self.online = True
        self._out = [bytes((p[0] | 0x08,)) + p[1:] for p in self._unacked.values()]  # DUP
        self.pump()
        self.flush()

    def disconnected(self) -> None:
        self.online = False
        self._out.clear()  # every packet in it is unacknowledged: sent again after reconnecting

    def pump(self) -> None:
        """Move queued messages out as acknowledgements make room."""
        queue = self._queue
        if not queue or (self.fast and not self.online):
            return
        window = self.window
        send = self.send_now
        while queue and self.inflight < window:
            send(*queue.popleft())
