"""Everything the agent publishes: QoS 1, in order, bounded, and kept across broker restarts.

paho keeps every QoS 1 message it was given until the broker acknowledges it, and sends the
unacknowledged ones again after a reconnect. It identifies them by a 16-bit message id, so it
cannot hold 100,000 of them; and its own queue limit would drop silently. So the agent gives paho
at most ``window`` messages at a time and keeps the rest here, in order, up to ``queue_max`` in
all. A message that finds the queue full is dropped and counted (``queue.dropped``), never lost
without a trace.
"""

from __future__ import annotations

from collections import deque

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from .logs import Log
from .status import Counters

__all__ = ["Outbox"]


class Outbox:
    def __init__(self, client: mqtt.Client, *, queue_max: int, window: int, counters: Counters, log: Log):
        self.client = client
        self.queue_max = queue_max
        self.window = window  # at most this many unacknowledged in paho (MQTT 5: the broker's Receive Maximum)
        self.counters = counters
        self.log = log
        self.inflight = 0
        self._queue: deque[tuple[str, str, bool]] = deque()

    @property
    def pending(self) -> int:
        """Messages not yet acknowledged by the broker."""
        return self.inflight + len(self._queue)

    def put(self, topic: str, payload: str, retain: bool = False) -> bool:
        """Publish in order, or queue; False (and counted) when there is no room."""
        if self.inflight + len(self._queue) >= self.queue_max:
            self.counters.dropped += 1
            if self.counters.dropped == 1 or self.counters.dropped % 1000 == 0:
                self.log.error("queue_full", dropped=self.counters.dropped, queue_max=self.queue_max)
            return False
        if self._queue or self.inflight >= self.window:
            self._queue.append((topic, payload, retain))
        else:
            self.send_now(topic, payload, retain)
        return True

    def send_now(self, topic: str, payload: str, retain: bool = False) -> None:
        """Give one message to paho, past the queue. Without a connection paho keeps it and sends
        it after reconnecting."""
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
        self.inflight += 1

    def acked(self, reason_code) -> None:
        self.inflight -= 1
        if reason_code.is_failure:  # MQTT 5: the broker refused it (e.g. not authorised)
            self.counters.publish_errors += 1
            self.log.warning("publish_refused", reason=str(reason_code))

    def pump(self) -> None:
        """Move queued messages to paho as acknowledgements make room."""
        queue = self._queue
        while queue and self.inflight < self.window:
            self.send_now(*queue.popleft())
