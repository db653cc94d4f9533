"""Our edge agent and Node-RED side by side, under the same MQTT load (../shared/bench).

    .venv/bin/python bench/edge_mqtt.py [--smoke] [--repeat N]

Builds the warehouse near-miss rule (../shared/bench/warehouse_rule.graph.json) into a bundle and
runs `../shared/bench/run.sh both -- aiot edge run …`: a fresh Mosquitto, the same driver, our
agent then Node-RED, and the comparison table. By default RATES=1000,8000 (the two rates issue 4
asks about) and the saturation ramp; `--smoke` runs 1,000 and 8,000 msg/s without the ramp (a few
minutes). Environment knobs of run.sh (RATES, SATURATION, REPEAT, …) win. Results:
./bench-results/. `--profile DIR` runs our agent alone (`run.sh aiot`, no ramp) under
`py-spy record`, writing a flame graph and the raw samples into DIR. `--aiot-only` leaves
Node-RED out; `--agent-arg=--batch-ms=3` (repeatable) passes options to the agent.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="RATES=1000,8000 SATURATION=0")
    ap.add_argument("--repeat", type=int, default=1, help="independent runs (3 for figures you quote)")
    ap.add_argument("--profile", metavar="DIR", help="our agent alone, under py-spy record (raw stacks in DIR)")
    ap.add_argument("--aiot-only", action="store_true", help="our agent alone (run.sh aiot), no Node-RED")
    ap.add_argument(
        "--agent-arg",
        action="append",
        default=[],
        metavar="ARG",
        help="an extra argument for `aiot edge run`, e.g. --agent-arg=--batch-ms=3 (repeatable)",
    )
    args = ap.parse_args()
    aiot = str(Path(sys.executable).with_name("aiot"))
    work = Path(tempfile.mkdtemp(prefix="aiot-edge-bench-"))
    bundle = work / "warehouse.aiotb"
    key = work / "bench"
    subprocess.run([aiot, "keys", "generate", "-o", str(key)], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(
        [aiot, "bundle", "build", str(SHARED / "warehouse_rule.graph.json"), "-o", str(bundle), "--key", f"{key}.key"],
        check=True,
        stdout=subprocess.DEVNULL,
    )
    env = {**os.environ, "REPEAT": str(args.repeat)}
    env.setdefault("RATES", "1000,8000")
    if args.smoke:
        env.setdefault("SATURATION", "0")
    command = [
        str(SHARED / "run.sh"),
        "both",
        "--",
        aiot,
        "edge",
        "run",
        "--bundle",
        str(bundle),
        "--broker",
        "mqtt://127.0.0.1:{port}",
        "--device-id",
        "bench",
        "--tenant",
        "bench",
        "--state-dir",
        str(work / "state"),
        *args.agent_arg,
    ]
    if args.aiot_only:
        command[1] = "aiot"
    if args.profile:
        return profile(command, env, work, Path(args.profile))
    return subprocess.run(["bash", *command], env=env, cwd=ROOT).returncode


def _agent_pid(marker: str) -> int | None:
    """The PID of the agent whose command line holds ``marker`` (its private state dir)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"edge" in argv and marker.encode() in argv and not any(b"run.sh" in a for a in argv):
            return int(entry.name)
    return None


def profile(command: list[str], env: dict, work: Path, out: Path) -> int:
    """``run.sh aiot`` (no saturation ramp), with py-spy sampling the agent's PID throughout."""
    out.mkdir(parents=True, exist_ok=True)
    pyspy = Path(sys.executable).with_name("py-spy")
    env = {**env, "SATURATION": "0"}
    command = [command[0], "aiot", *command[2:]]
    bench = subprocess.Popen(["bash", *command], env=env, cwd=ROOT)
    marker = str(work / "state")
    deadline = time.monotonic() + 60
    pid = None
    while pid is None and bench.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
        pid = _agent_pid(marker)
    if pid is None:
        bench.wait()
        print("the agent did not start", file=sys.stderr)
        return 1
    raw = out / "agent.raw.txt"
    spy_args = ["record", "--pid", str(pid), "--rate", "250", "--native", "--format", "raw", "-o", str(raw)]
    spy = subprocess.Popen([str(pyspy), *spy_args], stdout=subprocess.DEVNULL)
    rc = bench.wait()
    spy.wait()
    print(f"py-spy samples of pid {pid}: {raw}", file=sys.stderr)
    return rc


if __name__ == "__main__":
    sys.exit(main())
