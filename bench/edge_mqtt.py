"""Our edge agent and Node-RED side by side, under the same MQTT load (../shared/bench).

    .venv/bin/python bench/edge_mqtt.py [--smoke] [--repeat N]

Builds the warehouse near-miss rule (../shared/bench/warehouse_rule.graph.json) into a bundle and
runs `../shared/bench/run.sh both -- aiot edge run …`: a fresh Mosquitto, the same driver, our
agent then Node-RED, and the comparison table. `--smoke` runs 1,000 and 5,000 msg/s without the
saturation ramp (a few minutes); without it, the full run (1,000, 5,000, burst, saturation).
Environment knobs of run.sh (RATES, REPEAT, …) pass through. Results: ./bench-results/.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "bench"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--smoke", action="store_true", help="RATES=1000,5000 SATURATION=0")
    ap.add_argument("--repeat", type=int, default=1, help="independent runs (3 for figures you quote)")
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
    if args.smoke:
        env.setdefault("RATES", "1000,5000")
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
    ]
    return subprocess.run(["bash", *command], env=env, cwd=ROOT).returncode


if __name__ == "__main__":
    sys.exit(main())
