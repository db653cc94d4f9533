"""How long the eight certification steps take on each built-in blueprint.

    .venv/bin/python bench/certify.py [--runs 1]

In-process, on a fresh SQLite database in a temp folder: the same Celery task chain the worker
runs (``blueprints.tasks.certify_step``), executed eagerly, so the figures are the pipeline's
own work (builds, engines, generated traces) without the queue's hops. Prints each step's time,
the verdict and the total per blueprint.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, machine

DATA = tempfile.mkdtemp(prefix="aiot-cert-bench-")
os.environ.update(
    {"AIOT_DATA_DIR": DATA, "DJANGO_SETTINGS_MODULE": "aiot_studio.settings", "AIOT_LOG_LEVEL": "WARNING"}
)
for name in ("DATABASE_URL", "REDIS_URL"):
    os.environ.pop(name, None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--runs", type=int, default=1, help="certifications per blueprint")
    args = ap.parse_args()
    sys.path.insert(0, str(Path(ROOT)))
    import django

    django.setup()
    from django.core.management import call_command

    from aiot_studio.celery import app
    from blueprints.actions import Actor, do_create_tenant, do_install_package
    from blueprints.models import Certification
    from blueprints.package import builtin_packages
    from blueprints.tasks import start_certification

    call_command("migrate", verbosity=0)
    app.conf.task_always_eager = True  # the chain runs here, step after step
    system = Actor.system_actor("bench")
    tenant = do_create_tenant(system, "bench", "Bench")
    print(f"machine: {machine()}")
    for package in builtin_packages():
        version = do_install_package(system, tenant, package).versions.get()
        for run in range(args.runs):
            started = time.perf_counter()
            cert, _ = start_certification(system, version)
            total = time.perf_counter() - started
            cert = Certification.objects.get(pk=cert.pk)
            steps = ", ".join(f"{s['step']} {s.get('elapsed_s', 0):.1f}" for s in cert.steps)
            print(f"{package.slug} (run {run + 1}): {cert.state} in {total:.1f} s — {steps}")
            for s in cert.steps:
                if s["status"] == "failed":
                    print(f"  {s['step']} failed: {s.get('message')}")
                if s["step"] == "performance":
                    print(f"  performance: {s.get('figures')}")


if __name__ == "__main__":
    main()
