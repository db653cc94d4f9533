"""Shared by the benchmarks: the warehouse blueprint, seeded traces, timing, the machine."""

from __future__ import annotations

import contextlib
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

from aiot_studio.cli import free_port, wait_for_port  # the studio's own: one copy

ROOT = Path(__file__).resolve().parent.parent
WAREHOUSE = ROOT / "blueprints" / "builtin" / "smart-warehouse-safety"
COLD_CHAIN = ROOT / "blueprints" / "builtin" / "cold-chain-monitor"


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, {system}"


def warehouse_trace(path: Path, keys: int, events: int, seed: int = 42) -> Path:
    """Forklift telemetry for the warehouse blueprint: keys in round robin, 10 Hz per key."""
    rng = random.Random(seed)
    sites = max(1, keys // 50)
    with path.open("w") as f:
        for i in range(events):
            k = i % keys
            ts = 1_700_000_000_000 + (i // keys) * 100
            payload = {
                "ts": ts,
                "speed_kmh": round(rng.uniform(0, 20), 2),
                "zone": rng.choice(("aisle", "dock", "yard")),
                "proximity_m": round(rng.uniform(0.2, 30), 2),
                "thermal_c": round(rng.uniform(15, 38), 1),
                "motion_level": round(rng.random(), 3),
                "lidar_blob_m2": round(rng.uniform(0, 1.2), 3),
            }
            topic = f"site/s{k % sites:02d}/forklift/fl-{k:05d}/telemetry"
            f.write(json.dumps({"topic": topic, "payload": payload}, separators=(",", ":")))
            f.write("\n")
    return path


def cold_chain_trace(path: Path, keys: int, events: int, seed: int = 42) -> Path:
    """Reefer telemetry for the cold chain blueprint, keyed by the payload's ``unit_id``, as a
    gateway that polls its units writes it: every 10 s each unit's temperature, and every third
    time each unit's door report after them (a quarter of the lines)."""
    rng = random.Random(seed)
    written, tick = 0, 0
    with path.open("w") as f:
        while written < events:
            ts = 1_700_000_000_000 + tick * 10_000
            rounds = [("telemetry", lambda: {"temp_c": round(rng.uniform(-25, 12), 2), "setpoint_c": -18})]
            if tick % 3 == 0:
                rounds.append(("door", lambda: {"open": rng.random() < 0.1}))
            for kind, values in rounds:
                for k in range(min(keys, events - written)):
                    payload = {"ts": ts, "unit_id": f"reefer-{k:05d}", **values()}
                    topic = f"coldchain/site{k % 10}/{kind}"
                    f.write(json.dumps({"topic": topic, "payload": payload}, separators=(",", ":")))
                    f.write("\n")
                    written += 1
            tick += 1
    return path


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def pin_to_one_core() -> None:
    """The figures are per core: run on one CPU, with onnxruntime single-threaded (it is)."""
    with contextlib.suppress(AttributeError, OSError):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_mosquitto(work: Path) -> tuple[subprocess.Popen, int]:
    """A private Mosquitto on a free loopback port, Nagle off (as the side-by-side bench runs it)."""
    port = free_port()
    (work / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nset_tcp_nodelay true\nmax_queued_messages 100000\n"
    )
    proc = subprocess.Popen(
        [shutil.which("mosquitto") or "/usr/sbin/mosquitto", "-c", str(work / "mosquitto.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, "mosquitto")
    return proc, port


def stop_all(procs: list[subprocess.Popen], timeout: float = 15) -> None:
    """SIGTERM every process (the last started first), then wait; kill what does not stop."""
    for p in reversed(procs):
        p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            p.kill()
