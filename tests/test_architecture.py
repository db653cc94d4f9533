"""Who may import whom (SPEC §2), checked on the source of every package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "rules_engine": {"rules_engine", "jsonschema", "numpy"},
    "edge_compiler": {"edge_compiler", "rules_engine", "onnx", "onnxruntime", "skl2onnx", "cryptography", "numpy"},
    "edge_agent": {"edge_agent", "rules_engine", "edge_compiler", "paho", "onnxruntime", "numpy", "cryptography"},
}
# The agent reads bundles and runs compiled logic; it never compiles.
AGENT_FORBIDDEN = {"edge_compiler.compiler", "edge_compiler.lower", "edge_compiler.build", "edge_compiler.engine"}
STDLIB = set(__import__("sys").stdlib_module_names)


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module)
    return out


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_it_may(package):
    wrong = {}
    for path in (ROOT / package).rglob("*.py"):
        for name in imports_of(path):
            top = name.split(".")[0]
            if top in STDLIB or top == "__future__":
                continue
            if top not in ALLOWED[package] or (package == "edge_agent" and name in AGENT_FORBIDDEN):
                wrong.setdefault(str(path.relative_to(ROOT)), []).append(name)
    assert not wrong, f"{package} imports what SPEC §2 forbids: {wrong}"


def test_the_agent_runs_without_the_compiler_or_django():
    """Not only its own imports: nothing it imports pulls the compiler or the studio in."""
    import subprocess
    import sys

    code = (
        "import sys, edge_agent.cli, edge_agent.agent, edge_agent.engine, edge_agent.deploy\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'rest_framework', 'celery',"
        " 'channels', 'blueprints', 'aiot_studio') or m in ('edge_compiler.compiler', 'edge_compiler.lower',"
        " 'edge_compiler.build', 'edge_compiler.engine', 'edge_compiler.cli'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={"PATH": "/usr/bin:/bin"}
    )
    assert out.stdout.strip() == "", f"the agent pulls in: {out.stdout.strip()}"
