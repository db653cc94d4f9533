"""Blueprint packages on disk (``aiot.blueprint/v1``): the built-in ones and exported ones.

A package is a folder: ``blueprint.json`` (slug, title, description, category, tags, version,
budget, scenario files), ``graph.json``, ``README.md``, ``models/*.onnx``, ``scenarios/*.json``.
This module needs no Django: the command line and the studio both use it.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from rules_engine.document import JsonError, loads_limited

__all__ = ["BUILTIN_DIR", "BlueprintPackage", "PackageError", "builtin_packages", "find_builtin", "load_package"]

BUILTIN_DIR = Path(__file__).resolve().parent / "builtin"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
FORMAT = "aiot.blueprint/v1"


class PackageError(ValueError):
    """A package folder that is not a valid blueprint; the message names the file."""


@dataclass
class BlueprintPackage:
    root: Path
    meta: dict
    graph: dict
    readme: str
    scenarios: dict[str, dict] = field(default_factory=dict)  # relative path -> scenario
    models: dict[str, bytes] = field(default_factory=dict)  # relative path -> bytes

    @property
    def slug(self) -> str:
        return self.meta["slug"]

    def export(self, out_dir: Path) -> list[Path]:
        """Copy the package's files into ``out_dir`` (created); returns the files written."""
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for rel in ["blueprint.json", "graph.json", "README.md", *self.scenarios, *self.models]:
            target = out_dir / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(self.root / rel, target)
            written.append(target)
        return written


def _json(path: Path) -> dict:
    try:
        value = loads_limited(path.read_bytes(), what=str(path))
    except OSError as exc:
        raise PackageError(f"cannot read {path}: {exc.strerror}") from None
    except JsonError as exc:
        raise PackageError(str(exc)) from None
    if not isinstance(value, dict):
        raise PackageError(f"{path}: expected a JSON object")
    return value


def load_package(root: Path) -> BlueprintPackage:
    meta = _json(root / "blueprint.json")
    if meta.get("format") != FORMAT:
        raise PackageError(f"{root / 'blueprint.json'}: format must be {FORMAT!r}")
    for name, pattern in (("slug", SLUG), ("version", SEMVER)):
        if not isinstance(meta.get(name), str) or not pattern.match(meta[name]):
            raise PackageError(f"{root / 'blueprint.json'}: {name} {meta.get(name)!r} is not valid")
    graph = _json(root / "graph.json")
    try:
        readme = (root / "README.md").read_text("utf-8")
    except OSError:
        readme = ""
    scenarios = {rel: _json(root / rel) for rel in meta.get("scenarios", [])}
    models = {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "models").glob("*.onnx"))}
    return BlueprintPackage(root, meta, graph, readme, scenarios, models)


def builtin_packages() -> list[BlueprintPackage]:
    return [load_package(p.parent) for p in sorted(BUILTIN_DIR.glob("*/blueprint.json"))]


def find_builtin(slug: str) -> BlueprintPackage:
    path = BUILTIN_DIR / slug
    if not SLUG.match(slug) or not (path / "blueprint.json").is_file():
        known = ", ".join(p.slug for p in builtin_packages())
        raise PackageError(f"no built-in blueprint {slug!r} (built in: {known})")
    return load_package(path)
