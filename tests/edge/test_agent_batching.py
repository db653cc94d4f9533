"""Batching adapts to the arrival rate: sparse traffic is evaluated message by message (the lowest
latency), dense traffic shares evaluations (at most one per ``batch_ms``)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from .harness import forklift_message, latest_status, wait_online

BATCH_MS = 50  # evaluations are shared from 8 / 50 ms = 160 events a second


def _evaluations(listener, agent, events_in: int) -> int:
    listener.wait(
        lambda: latest_status(listener, agent)["events_in"] == events_in,
        what=f"a status with {events_in} events in",
    )
    return latest_status(listener, agent)["batches"]


def test_sparse_traffic_is_evaluated_at_once_and_dense_traffic_shares_evaluations(
    agents, listeners, broker, publisher, bench_bundle
):
    agent = agents(bench_bundle, "--batch-ms", str(BATCH_MS))
    listener = listeners(broker, [f"{agent.prefix}/#"])
    status = wait_online(listener, agent)
    assert status["batch"]["shared_from_per_s"] == 160

    # 50 a second: one event expected per batch_ms. Each is evaluated as soon as it is read,
    # not up to 50 ms later with its neighbours.
    for i in range(30):
        publisher.publish([forklift_message(i, alert=True)])
        time.sleep(0.02)
    sparse = _evaluations(listener, agent, 30)
    # Sharing would make ~12 (two or three a 50 ms window); a loaded machine may bunch a few.
    assert sparse >= 20, f"{sparse} evaluations for 30 messages 20 ms apart"

    # ~2,000 a second for about a second, in groups of 4 every 2 ms: evaluations are spaced by
    # batch_ms (about 20 in a second), or made when a key comes again (the 50 forklifts take
    # turns: every 50 events at most), where evaluating each group at once would take ~500.
    started = time.monotonic()
    infos = []
    for g in range(500):
        infos += [publisher.client.publish(*forklift_message(30 + 4 * g + j, alert=False), qos=1) for j in range(4)]
        time.sleep(0.002)
    for info in infos:
        info.wait_for_publish(10)
    seconds = time.monotonic() - started
    dense = _evaluations(listener, agent, 2030) - sparse
    bound = seconds * 1000 / BATCH_MS + 2000 / 50 + 5
    assert dense <= bound, f"{dense} evaluations for 2,000 messages in {seconds:.2f} s (at most {bound:.0f})"


def test_a_key_coming_again_has_the_batch_evaluated_at_once(agents, listeners, broker, publisher, bench_bundle):
    """A batch is one run of the model over distinct keys. The event that would repeat a key has
    the batch evaluated then, not after batch_ms and then in a second run; it opens the next."""
    agent = agents(bench_bundle, "--batch-ms", "5000", "--batch-linger")
    listener = listeners(broker, [f"{agent.prefix}/#"])
    wait_online(listener, agent)

    def seqs() -> list[int]:
        return [json.loads(p)["values"]["seq"] for p in listener.on(f"{agent.prefix}/actions")]

    # Forklifts fl0–fl4, then the same five again (forklift_message keys by i % 50).
    publisher.publish([forklift_message(i, alert=True) for i in (0, 1, 2, 3, 4, 50, 51, 52, 53, 54)])
    listener.wait(lambda: len(seqs()) >= 5, what="the first batch's alerts")
    assert seqs() == [0, 1, 2, 3, 4], "the first five are out while the second five linger"
    listener.wait(lambda: len(seqs()) == 10, what="the second batch's alerts")
    assert seqs() == [0, 1, 2, 3, 4, 50, 51, 52, 53, 54]
    listener.wait(lambda: latest_status(listener, agent)["batches"] >= 2, what="a status after the second batch")
    assert latest_status(listener, agent)["batches"] == 2


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def test_after_dense_traffic_stops_the_agent_rests_and_answers_a_lone_message_at_once(
    agents, listeners, broker, publisher, bench_bundle
):
    """Under dense traffic the agent sleeps until its next evaluation is due instead of waking for
    each message. When traffic stops it must go back to waiting on the socket: neither spin on a
    due time in the past nor hold a lone message for a pacing that no longer applies."""
    agent = agents(bench_bundle, "--batch-ms", str(BATCH_MS))
    listener = listeners(broker, [f"{agent.prefix}/#"])
    wait_online(listener, agent)
    infos = []
    for g in range(200):  # ~2,000 a second for 0.4 s: dense for a 50 ms window
        infos += [publisher.client.publish(*forklift_message(4 * g + j, alert=False), qos=1) for j in range(4)]
        time.sleep(0.002)
    for info in infos:
        info.wait_for_publish(10)
    _evaluations(listener, agent, 800)
    time.sleep(0.2)

    before = _cpu_seconds(agent.proc.pid)
    time.sleep(2.0)
    idle = _cpu_seconds(agent.proc.pid) - before
    assert idle < 0.5, f"the idle agent used {idle:.2f} s of CPU in 2 s: it spins"

    # At rest the socket is watched again: a lone alerting message is read and answered.
    seen = len(listener.on(f"{agent.prefix}/actions"))
    publisher.publish([forklift_message(900, alert=True)])
    listener.wait(lambda: len(listener.on(f"{agent.prefix}/actions")) > seen, what="the lone message's alert")
