"""``aiot edge run``: the gateway runtime. MQTT in, micro-batches through the bundle, actions out.

One thread does the work. It owns the paho client and drives it through paho's external-loop API
(``socket()``, ``loop_read()``, ``loop_write()``, ``loop_misc()``): it decodes each message as
it is read, evaluates the batch once the socket is drained (or the batch is full, or its time is
up), and publishes the records. No hand-over between threads on the hot path, no GIL contention
and no wake-up per message; paho's own reconnect loop is replaced by a small backoff of ours.
The only other thread downloads and verifies deployed bundles (``bundles.py``); the swap happens
here, between batches.

Nothing that arrives can stop it: every message is decoded under a ``try``, rejects are counted by
reason (with a small sample), a failing compiled run falls back to the reference interpreter, and
a lost broker is retried with backoff while actions wait in a bounded queue (``outbox.py``).
"""

from __future__ import annotations

import contextlib
import gc
import random
import select
import signal
import socket
import time
import traceback
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from rules_engine.events import Event
from rules_engine.values import dumps

from .bundles import Bundles, Prepared
from .config import AgentConfig
from .deploy import DeployError, DeployRequest, parse_request
from .logs import Log
from .mqtt_fast import FastClient
from .outbox import Outbox
from .status import Counters

__all__ = ["Agent"]

SHARE_MIN = 8  # a batch waits for company only when the arrival rate brings this many in batch_ms
RATE_WINDOW_S = 0.05  # the arrival rate is measured over windows of this length
QUIET_S = 0.005  # while a batch waits, the socket is read at most this often (not per message)
MISC_INTERVAL_S = 1.0  # keepalive pings and timeouts (paho's loop_misc)
FINAL_ACK_WAIT_S = 2.0  # for the offline status at exit


class Agent:
    def __init__(self, config: AgentConfig, log: Log):
        self.config = config
        self.log = log
        self.counters = Counters()
        prefix = config.topic_prefix
        self.topic_actions = f"{prefix}/actions"
        self.topic_status = f"{prefix}/status"
        self.topic_deploy = f"{prefix}/deploy"
        self.topic_deploy_result = f"{prefix}/deploy/result"
        self.batch_s = config.batch_ms / 1000.0
        self.last_deploy: dict | None = None

        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self.bundles = Bundles(config, log, self._engine_error, self._wake)
        self._decoder = self.bundles.active.decoder
        self._seen_rejected: dict[str, int] = dict(self._decoder.stats.rejected)

        self._batch: list[Event] = []
        self._batch_keys: set[str] = set()  # the keys in _batch
        self._read_until = 0.0  # the batch's first event has waited batch_ms by then: stop reading
        self._eval_at = 0.0  # when the batch is evaluated (once the socket is drained)
        self._last_eval = -1e9  # when the last evaluation started
        self._dense = False  # traffic brings company within batch_ms: evaluations are paced
        self._rate = 0.0  # events a second, over the last RATE_WINDOW_S
        self._rate_since = 0.0
        self._rate_accepted = 0
        self._packets = 0  # packets our callbacks saw: tells the read loop it got something
        self._last_read = 0.0

        self._connected = False
        self._ever_connected = False
        self._backoff = config.reconnect_min_s
        self._next_attempt = 0.0
        self._next_status = 0.0
        self._next_misc = 0.0
        self._stop_signal: int | None = None
        self._stopping = False
        self._drain_deadline = 0.0

        self.client = self._make_client()
        self.outbox = Outbox(
            self.client, queue_max=config.queue_max, window=config.inflight_max, counters=self.counters, log=log
        )
        self._fast = self.outbox.fast  # our own reads and writes of the hot packets (mqtt_fast.py)

    @property
    def evaluator(self):
        return self.bundles.active

    def _engine_error(self, event: str, reason: str) -> None:
        if event == "fallback":
            self.log.warning("engine_fallback", reason=reason, detail="evaluating with the reference interpreter")
        else:
            self.counters.errors += 1
            self.log.error(event, reason=reason)

    # ---------------------------------------------------------------- MQTT client
    def _make_client(self) -> FastClient:
        c = self.config
        v5 = c.protocol == "5"
        kwargs: dict[str, Any] = {"client_id": c.client_id, "protocol": mqtt.MQTTv5 if v5 else mqtt.MQTTv311}
        if not v5:
            kwargs["clean_session"] = c.clean_session
        client = FastClient(mqtt.CallbackAPIVersion.VERSION2, **kwargs)
        client.fast_messages = self._messages
        client.suppress_exceptions = True  # our callbacks catch their own; paho's loop must go on regardless
        client.max_inflight_messages_set(0)  # the outbox's window bounds what paho holds
        client.connect_timeout = 10.0
        if c.username:
            client.username_pw_set(c.username, c.password)
        if c.tls:
            client.tls_set(ca_certs=c.tls_ca, certfile=c.tls_cert, keyfile=c.tls_key)
            if c.tls_insecure:
                client.tls_insecure_set(True)
        client.will_set(self.topic_status, dumps({"state": "offline", "reason": "connection lost"}), 1, True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        client.on_socket_open = self._on_socket_open
        if self.log.enabled("debug"):
            client.on_log = lambda _c, _u, level, buf: self.log.debug("mqtt", message=buf)
        if v5:
            client.connect_async(c.host, c.port, c.keepalive, clean_start=c.clean_session)
        else:
            client.connect_async(c.host, c.port, c.keepalive)
        return client

    def _on_socket_open(self, client, userdata, sock) -> None:
        # Small packets must not wait for Nagle: an alert is one small packet.
        with contextlib.suppress(OSError, AttributeError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self.log.error("connect_refused", broker=self.config.redacted_broker(), reason=str(reason_code))
            return
        self._connected = True
        self._backoff = self.config.reconnect_min_s
        if self._ever_connected:
            self.counters.reconnects += 1
        self._ever_connected = True
        receive_max = getattr(properties, "ReceiveMaximum", None) if properties is not None else None
        self.outbox.window = min(self.config.inflight_max, receive_max or self.config.inflight_max)
        prefix = self.config.source_prefix
        topics = [(prefix + t, self.config.qos) for t in self.evaluator.topics] + [(self.topic_deploy, 1)]
        if not self._stopping:
            client.subscribe(topics)
        self.log.info(
            "connected",
            broker=self.config.redacted_broker(),
            session_present=bool(flags.session_present),
            subscribed=[t for t, _ in topics],
            pending=self.outbox.pending,
        )
        self._next_status = 0.0  # say we are online at once
        self.outbox.connected()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        was_connected, self._connected = self._connected, False
        self.outbox.disconnected()
        delay = self._schedule_reconnect()
        if was_connected and not self._stopping:
            self.log.warning("disconnected", reason=str(reason_code), retry_in_s=delay, pending=self.outbox.pending)

    def _schedule_reconnect(self) -> float:
        delay = self._backoff * random.uniform(0.8, 1.2)
        self._next_attempt = time.monotonic() + delay
        self._backoff = min(self._backoff * 2, self.config.reconnect_max_s)
        return round(delay, 2)

    def _connect(self) -> None:
        try:
            self.client.reconnect()
        except Exception as exc:  # refused, unreachable, TLS: all mean "try again later"
            delay = self._schedule_reconnect()
            self.log.warning("connect_failed", broker=self.config.redacted_broker(), error=str(exc), retry_in_s=delay)

    def _on_publish(self, client, userdata, mid, reason_code, properties) -> None:
        self._packets += 1
        self.outbox.acked(reason_code)

    # ---------------------------------------------------------------- messages in
    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        """paho's way in (QoS 1 and 2, MQTT 5); QoS 0 on 3.1.1 comes to _messages directly."""
        try:
            topic: str | None = msg.topic
        except UnicodeDecodeError:
            topic = None
        self._message(topic, msg.payload, bool(msg.retain))

    def _message(self, topic: str | None, payload: bytes, retain: bool) -> None:
        """One message: decoded at once (arrival time = now), its events added to the batch."""
        self._messages([(topic, payload, retain)])

    def _messages(self, messages: list[tuple[str | None, bytes, bool]]) -> None:
        """Messages read together (in order): decoded at once (arrival time = now), their events
        added to the batch. One call for all of a read: this loop is the agent's hottest, so its
        counts are kept in locals and added once (before a batch opens: its timing reads them)."""
        self._packets += len(messages)
        counters = self.counters
        prefix = self.config.source_prefix
        deploy_topic = self.topic_deploy
        decoder = self._decoder  # a deploy swaps it between batches, never within a read
        decode, stats = decoder.decode_bytes, decoder.stats
        arrival_ms = time.time() * 1000.0
        batch, keys = self._batch, self._batch_keys
        events_in = accepted = 0
        try:
            for topic, payload, retain in messages:
                if topic is None:  # not UTF-8: no source can match it
                    counters.unmatched += 1
                    continue
                if topic == deploy_topic:
                    self._on_deploy(payload, retain)
                    continue
                if prefix:
                    if not topic.startswith(prefix):
                        counters.unmatched += 1
                        continue
                    topic = topic[len(prefix) :]
                events_in += 1
                events_before = stats.events
                try:
                    events = decode(topic, payload, arrival_ms)
                except Exception as exc:  # a decoder bug must cost one message, not the agent
                    counters.errors += 1
                    self.log.error("decode_error", topic=topic, error=f"{type(exc).__name__}: {exc}")
                    continue
                made = stats.events - events_before
                if made != len(events):
                    if made == 0:
                        counters.unmatched += 1
                    else:
                        self._note_rejected(topic, payload, arrival_ms)
                if not events:
                    continue
                accepted += len(events)
                for event in events:
                    if event.key in keys:
                        # The batch is one wave (one run of the model) up to here; with this event
                        # it would take two, the second for a few events. Evaluate it now instead:
                        # sooner, and each run shared by as many events as it can be. The batch
                        # this event opens is due when the evaluated one was: its events may have
                        # waited as long.
                        counters.accepted += accepted
                        accepted = 0
                        due = self._eval_at, self._read_until
                        self._evaluate()
                        self._open_batch()
                        self._eval_at, self._read_until = due
                        batch, keys = self._batch, self._batch_keys
                    elif not batch:
                        counters.accepted += accepted
                        accepted = 0
                        self._open_batch()
                    batch.append(event)
                    keys.add(event.key)
        finally:
            counters.events_in += events_in
            counters.accepted += accepted

    def _open_batch(self) -> None:
        """Time a new batch. With --batch-linger it waits batch_ms for company. Otherwise sparse
        traffic (fewer than SHARE_MIN events expected within batch_ms) is evaluated as soon as the
        socket is drained: the lowest latency, and nothing to share an evaluation with anyway.
        Denser traffic starts at most one evaluation per batch_ms, so that each evaluation's fixed
        cost is shared by many events. Either way an event waits at most batch_ms."""
        now = time.monotonic()
        self._read_until = now + self.batch_s
        accepted = self.counters.accepted
        if now - self._rate_since >= RATE_WINDOW_S:
            self._rate = (accepted - self._rate_accepted) / (now - self._rate_since)
            self._rate_since, self._rate_accepted = now, accepted
        # The window under way counts too: traffic that turns dense is batched within milliseconds.
        rate = max(self._rate, (accepted - self._rate_accepted) / RATE_WINDOW_S)
        self._dense = not self.config.batch_linger and rate * self.batch_s >= SHARE_MIN
        if self.config.batch_linger:
            self._eval_at = self._read_until
        elif not self._dense:
            self._eval_at = now
        else:
            self._eval_at = max(now, self._last_eval + self.batch_s)

    def _note_rejected(self, topic: str, payload: bytes, arrival_ms: float) -> None:
        reasons: dict[str, int] = {}
        seen = self._seen_rejected
        for reason, n in self._decoder.stats.rejected.items():
            if n != seen.get(reason, 0):
                reasons[reason] = n - seen.get(reason, 0)
                seen[reason] = n
        self.counters.note_rejected(reasons, topic, payload, arrival_ms)
        if self.log.enabled("debug"):
            self.log.debug("rejected", topic=topic, reasons=reasons, bytes=len(payload))

    # ---------------------------------------------------------------- evaluation and actions out
    def _evaluate(self) -> None:
        batch, self._batch = self._batch, []
        self._batch_keys = set()
        self._last_eval = time.monotonic()
        batch_max = self.config.batch_max
        for start in range(0, len(batch), batch_max):  # a message may make more than one event
            events = batch[start : start + batch_max] if len(batch) > batch_max else batch
            t0 = time.perf_counter()
            records = self.evaluator.run(events, texts=True)
            self.counters.eval_ms.append((time.perf_counter() - t0) * 1000.0)
            self.counters.batches += 1
            for record in records:
                self._emit(record)

    def _emit(self, record: dict | str) -> None:
        counters = self.counters
        if type(record) is str:  # an alert, written by its action
            if self.outbox.put(self.topic_actions, record):
                counters.actions_out += 1
            return
        try:
            text = dumps(record)
        except (TypeError, ValueError, RecursionError) as exc:
            counters.errors += 1
            self.log.error("record_not_serialisable", action=record.get("action"), error=str(exc))
            return
        if self.outbox.put(self.topic_actions, text):
            counters.actions_out += 1
        if record.get("kind") == "command":
            topic, payload = record.get("topic"), record.get("payload")
            if not isinstance(topic, str) or not topic or "+" in topic or "#" in topic or "\0" in topic:
                counters.publish_errors += 1
                self.log.warning("command_topic_invalid", action=record.get("action"), topic=topic)
                return
            try:
                body = payload if isinstance(payload, str) else dumps(payload)
            except (TypeError, ValueError, RecursionError) as exc:
                counters.publish_errors += 1
                self.log.warning("command_payload_invalid", action=record.get("action"), error=str(exc))
                return
            if self.outbox.put(self.config.source_prefix + topic, body):
                counters.commands_out += 1

    # ---------------------------------------------------------------- status
    def _status(self, state: str) -> dict:
        ev = self.evaluator
        manifest = ev.bundle.manifest
        return {
            "state": state,
            "device": self.config.device_id,
            "tenant": self.config.tenant,
            "bundle": ev.bundle_id,
            "blueprint": manifest.get("blueprint"),
            "name": manifest.get("name"),
            "engine": ev.engine,
            "fallback_reason": ev.fallback_reason,
            "keys": ev.keys,
            **self.counters.snapshot(),
            "eval_ms": self.counters.take_eval_ms(),
            "batch": {
                "max_ms": self.config.batch_ms,
                "max_events": self.config.batch_max,
                "shared_from_per_s": round(SHARE_MIN / self.batch_s) if self.batch_s else None,
            },
            "queue": {"pending": self.outbox.pending, "dropped": self.counters.dropped, "max": self.config.queue_max},
            "previous_bundle": self.bundles.previous_id,
            "deploy": self.last_deploy,
            "ts": int(time.time() * 1000),
        }

    def _publish_status(self, state: str = "online") -> None:
        if self._connected:
            # Past the queue: the status must not wait behind a backlog of actions.
            self.outbox.send_now(self.topic_status, dumps(self._status(state)), retain=True)
            self.outbox.flush()

    # ---------------------------------------------------------------- deployments
    def _on_deploy(self, payload: bytes, retain: bool) -> None:
        if self._stopping:
            return
        try:
            request = parse_request(payload)
        except DeployError as exc:
            self._report(Prepared(DeployRequest(), error=str(exc)))
            return
        if request.rollback and retain:
            self.log.warning("deploy_ignored", detail="a retained rollback request is not acted on")
            return
        self.log.info("deploy_requested", retained=retain, **request.describe())
        self.bundles.submit(request, retain)

    def _apply_deploys(self) -> None:
        """Swap in what the deploy worker made ready. Called between batches."""
        while (prepared := self.bundles.take_ready()) is not None:
            try:
                self._apply(prepared)
            finally:
                self.bundles.done()

    def _apply(self, p: Prepared) -> None:
        if p.error or p.noop or p.evaluator is None:
            if not (p.noop and p.retained):  # a retained request for what runs: seen after each reconnect
                self._report(p)
            return
        old, new = self.evaluator, p.evaluator
        kept = new.adopt_state(old)
        persisted = self.bundles.install(new)
        self._decoder = new.decoder
        self._seen_rejected = dict(new.decoder.stats.rejected)
        if self._connected:
            prefix = self.config.source_prefix
            gone = [prefix + t for t in old.topics if t not in new.topics]
            added = [(prefix + t, self.config.qos) for t in new.topics if t not in old.topics]
            if gone:
                self.client.unsubscribe(gone)
            if added:
                self.client.subscribe(added)
        self._report(p, state="kept" if kept else "reset", previous=old.bundle_id, persisted=persisted)
        if not kept:
            self.log.warning("state_reset", detail="the new bundle's state layout differs: per-key state starts afresh")

    def _report(self, p: Prepared, **extra: Any) -> None:
        ok = p.error is None
        result = {
            "ok": ok,
            "bundle": self.evaluator.bundle_id,
            "error": p.error,
            "state": "kept" if p.noop else extra.pop("state", None),
            "engine": self.evaluator.engine,
            "rollback": p.request.rollback,
            "id": p.request.id,
            "request": p.request.describe(),
            "ts": int(time.time() * 1000),
            **extra,
        }
        if p.noop:
            result["detail"] = "this bundle is already running"
        self.last_deploy = result
        (self.log.info if ok else self.log.error)("deploy_result", **result)
        self.outbox.put(self.topic_deploy_result, dumps(result))
        self._next_status = 0.0

    # ---------------------------------------------------------------- the loop
    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"\0")

    def _on_signal(self, signum: int, frame: Any) -> None:
        if self._stop_signal is not None:
            self._drain_deadline = 0.0  # a second signal: stop waiting for the queue
        self._stop_signal = signum

    def _read(self) -> None:
        """Read until the socket is drained, the batch is full or its first event has waited long enough."""
        client, batch_max = self.client, self.config.batch_max
        if self._fast:
            while True:
                room = batch_max - len(self._batch)
                if room <= 0 or client.fast_read(room) <= 0:
                    return
                if not (client.fast_more or client.fast_buffered()):
                    return  # drained: the read took less than it could
                if self.batch_s and self._batch and time.monotonic() >= self._read_until:
                    return
        while True:
            before = self._packets
            if client.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or client.socket() is None:
                return
            if self._packets == before or len(self._batch) >= batch_max:
                return
            if self.batch_s and self._batch and time.monotonic() >= self._read_until:
                return

    def _tick(self, timeout: float) -> None:
        """One pass: wait for the socket (or a wake-up), read, evaluate, publish.

        While a batch waits for its evaluation (``_eval_at``), the socket is not watched: what
        arrives meanwhile is read in one go when the batch is due, or QUIET_S after the last
        read, rather than with one wake-up per message. Under dense traffic the same holds
        between batches: the next one cannot be evaluated before ``_last_eval + batch_ms``, so
        the agent sleeps until then and reads everything at once (telemetry and the broker's
        acknowledgements of the last alerts) instead of waking for each; when that read finds
        nothing, traffic has stopped and the socket is watched again."""
        client = self.client
        sock = client.socket()
        rlist: list = [self._wake_r]
        wlist: list = []
        ready = False  # something to read without waiting for the socket
        read_at = self._paced_read_at() if sock is not None else None
        if sock is not None:
            if read_at is not None:
                wait = read_at - time.monotonic()
                if wait <= 0:
                    ready = True
                else:
                    timeout = min(timeout, wait)
            else:
                rlist.append(sock)
                if self._fast:
                    ready = client.fast_buffered()
                else:
                    ready = getattr(sock, "pending", None) is not None and sock.pending() > 0  # TLS
            if client.want_write():
                wlist.append(sock)
        try:
            readable, _, _ = select.select(rlist, wlist, [], 0.0 if ready else max(0.0, timeout))
        except (OSError, ValueError):  # the socket was closed under us: paho notices on the next call
            readable = []
        if read_at is not None and not ready and time.monotonic() >= read_at:
            ready = True  # the batch is due: what arrived meanwhile joins it before it is evaluated
        if sock is not None and (ready or sock in readable):
            self._last_read = time.monotonic()
            packets = self._packets
            self._read()
            if self._dense and not self._batch and self._packets == packets:
                self._dense = False  # a paced read found nothing: traffic stopped
        if self._wake_r in readable:
            with contextlib.suppress(OSError):
                self._wake_r.recv(4096)
        batch = self._batch
        if batch and (len(batch) >= self.config.batch_max or time.monotonic() >= self._eval_at or self._stopping):
            self._evaluate()
        if not self._batch and self.bundles.has_ready():
            self._apply_deploys()
        self.outbox.pump()
        self.outbox.flush()
        if client.socket() is not None and client.want_write():
            client.loop_write()

    def _paced_read_at(self) -> float | None:
        """When to read next without watching the socket (while a batch waits, or dense traffic
        sleeps until its next evaluation); None: watch it."""
        if self._stopping:
            return None
        if self._batch:
            return min(self._eval_at, self._last_read + QUIET_S)
        if self._dense:
            return self._last_eval + self.batch_s
        return None

    def _timeout(self, now: float) -> float:
        timeout = self._next_status - now
        if self._batch:
            timeout = min(timeout, self._eval_at - now)
        if self.client.socket() is None:
            timeout = min(timeout, self._next_attempt - now)
        else:
            timeout = min(timeout, self._next_misc - now)
        if self._stopping:
            timeout = min(timeout, 0.05)
        return timeout

    def run(self) -> int:
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, self._on_signal)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        self.bundles.start()
        ev = self.evaluator
        self.log.info(
            "starting",
            bundle=ev.bundle_id,
            engine=ev.engine,
            fallback_reason=ev.fallback_reason,
            broker=self.config.redacted_broker(),
            device=self.config.device_id,
            tenant=self.config.tenant,
            topics=ev.topics,
            batch_ms=self.config.batch_ms,
            batch_max=self.config.batch_max,
        )
        self._next_status = self._next_misc = time.monotonic()
        # What start-up made (modules, the bundle, the ONNX session) lives as long as the process:
        # out of the collector's sight, so that no full collection walks it during the stream.
        gc.collect()
        gc.freeze()
        while True:
            now = time.monotonic()
            if self._stop_signal is not None and not self._stopping:
                self._begin_shutdown()
            if self._stopping and (self._drained() or now >= self._drain_deadline):
                break
            try:
                self._step(now)
            except Exception as exc:  # a bug must not stop the agent: say so, and go on
                self.counters.errors += 1
                self.log.error("internal_error", error=f"{type(exc).__name__}: {exc}", trace=traceback.format_exc())
                time.sleep(0.01)
        self._finish()
        return 0

    def _step(self, now: float) -> None:
        if self.client.socket() is None and now >= self._next_attempt:
            self._connect()
        self._tick(self._timeout(time.monotonic()))
        now = time.monotonic()
        if now >= self._next_misc:
            self._next_misc = now + MISC_INTERVAL_S
            if self.client.socket() is not None:
                self.client.loop_misc()
        if now >= self._next_status:
            self._next_status = now + self.config.status_interval
            self._publish_status()

    # ---------------------------------------------------------------- shutdown
    def _begin_shutdown(self) -> None:
        self._stopping = True
        self._drain_deadline = time.monotonic() + self.config.drain_s
        self.log.info("stopping", signal=signal.Signals(self._stop_signal).name, pending=self.outbox.pending)
        if self._connected:
            prefix = self.config.source_prefix
            self.client.unsubscribe([*(prefix + t for t in self.evaluator.topics), self.topic_deploy])

    def _drained(self) -> bool:
        return not self._batch and self.outbox.pending == 0

    def _finish(self) -> None:
        """The batch evaluated, the queue drained (or drain_s passed): say offline, and go."""
        if self._batch:
            self._evaluate()
        if self._connected:
            self.outbox.send_now(self.topic_status, dumps({**self._status("offline"), "reason": "shutdown"}), True)
            deadline = time.monotonic() + FINAL_ACK_WAIT_S
            while self._connected and self.outbox.pending and time.monotonic() < deadline:
                self._tick(0.05)
        undelivered = self.outbox.pending
        if self._connected:
            self.client.disconnect()
            with contextlib.suppress(Exception):
                self.client.loop_write()
        if undelivered:
            self.log.warning("undelivered_at_exit", count=undelivered)
        self.bundles.stop()
        self.log.info("stopped", actions_out=self.counters.actions_out, events_in=self.counters.events_in)
