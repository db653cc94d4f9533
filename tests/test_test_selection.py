"""The PostgreSQL leg's selection (tests/conftest.py): ``--database-tests`` keeps every test that
reaches the database (the studio's, the end-to-end ones) and deselects, never skips, the others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = [
    "tests/test_values.py",
    "tests/test_embedded_studio.py",
    "tests/studio/test_errors.py",
    "tests/e2e/test_catalog.py",
]


def collected(*options: str) -> tuple[set[str], str]:
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *options, *SAMPLE],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]
    return {line.split("::")[0] for line in out.stdout.splitlines() if "::" in line}, out.stdout


def test_the_database_leg_keeps_the_tests_that_use_the_database_and_deselects_the_rest():
    everything, _ = collected()
    assert everything == set(SAMPLE)
    kept, report = collected("--database-tests")
    assert kept == {"tests/studio/test_errors.py", "tests/e2e/test_catalog.py"}
    assert " deselected" in report  # deselected, so a skip count never hides them
