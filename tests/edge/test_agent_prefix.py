"""A gateway whose site is bridged into a shared broker under a prefix: it reads only its own
site's telemetry, the graph sees the topics without the prefix, and commands go back under it."""

from __future__ import annotations

import json

from .harness import forklift_message, latest_status, wait_online


def test_a_source_prefix_scopes_telemetry_and_commands(agents, listeners, broker, publisher, bench_bundle):
    agent = agents(bench_bundle, "--source-prefix", "site-7/")
    listener = listeners(broker, [f"{agent.prefix}/#"])
    wait_online(listener, agent)
    mine = [(f"site-7/{t}", p) for t, p in (forklift_message(i, alert=True) for i in range(10))]
    others = [forklift_message(i, alert=True) for i in range(10, 15)]  # no prefix: another site's
    publisher.publish(mine + others)
    actions = f"{agent.prefix}/actions"
    listener.wait(lambda: len(listener.on(actions)) >= 10, what="the prefixed site's alerts")
    listener.wait(lambda: latest_status(listener, agent)["events_in"] == 10, what="a status with 10 events")
    records = listener.json_on(actions)
    assert sorted(r["values"]["seq"] for r in records) == list(range(10))
    assert {r["key"] for r in records} == {f"fl{i}" for i in range(10)}  # topic:3 counted without the prefix
    assert json.loads(json.dumps(latest_status(listener, agent)))["events_rejected"] == 0
