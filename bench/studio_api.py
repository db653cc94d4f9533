"""The studio API's latency: saving a 200-node graph, and simulate on a 10,000-event trace.

    .venv/bin/python bench/studio_api.py [--saves 200] [--simulations 20]

In-process (Django's test client, no network), on a fresh SQLite database in a temp folder, so
the figures are the server's own work: parsing, validation, the database, the interpreter. The
graph has exactly 200 nodes (bench/compiled.py's generated graph); p99 is of the timed calls
(with 20 simulations, their slowest).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time

from common import machine, pin_to_one_core

DATA = tempfile.mkdtemp(prefix="aiot-bench-")
os.environ.update({"AIOT_DATA_DIR": DATA, "DJANGO_SETTINGS_MODULE": "aiot_studio.settings"})
os.environ.pop("DATABASE_URL", None)
os.environ.pop("REDIS_URL", None)


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round((len(values) - 1) * p / 100))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--saves", type=int, default=200)
    ap.add_argument("--simulations", type=int, default=20)
    args = ap.parse_args()
    pin_to_one_core()
    load, started_at = os.getloadavg(), time.time()
    import django

    django.setup()
    from compiled import generated_graph
    from django.core.management import call_command
    from rest_framework.test import APIClient

    from blueprints.actions import Actor, do_add_member, do_create_blueprint, do_create_tenant

    call_command("migrate", verbosity=0)
    system = Actor.system_actor("bench")
    tenant = do_create_tenant(system, "bench", "Bench")
    user = do_add_member(system, tenant, "designer", "designer", password="x" * 12).user
    graph = generated_graph(200)
    assert len(graph["nodes"]) == 200
    do_create_blueprint(system, tenant, "big", "Big", graph=graph)
    client = APIClient()
    client.force_authenticate(user)

    saves = []
    for i in range(args.saves):
        body = {"graph": graph, "version": f"1.0.{i}"}
        started = time.perf_counter()
        r = client.post("/api/v1/t/bench/blueprints/big/versions/", body, format="json")
        saves.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 201, r.content[:300]

    trace = [
        {
            "topic": f"plant/m{i % 100}/sensor",
            "payload": {f"x{j}": (i * 7 + j) % 40 for j in range(20)},
            "arrival_ms": i * 10,
        }
        for i in range(10_000)
    ]
    sims = []
    for _ in range(args.simulations):
        started = time.perf_counter()
        r = client.post(
            "/api/v1/t/bench/simulate", {"graph": graph, "trace": trace, "series": ["w0", "c0"]}, format="json"
        )
        sims.append((time.perf_counter() - started) * 1000)
        assert r.status_code == 200, r.content[:300]
    out = r.json()
    print(f"machine: {machine()}; load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(started_at))}")
    print(
        f"save a {len(graph['nodes'])}-node graph as a new version ({len(json.dumps(graph)) // 1024} KiB): "
        f"p50 {statistics.median(saves):.1f} ms, p99 {pct(saves, 99):.1f} ms over {len(saves)}"
    )
    print(
        f"simulate a 10,000-event trace on it ({out['summary']['actions']} actions, 2 series): "
        f"p50 {statistics.median(sims):.0f} ms, p99 {pct(sims, 99):.0f} ms over {len(sims)}"
    )


if __name__ == "__main__":
    sys.exit(main())
