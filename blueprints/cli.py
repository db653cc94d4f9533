"""``aiot blueprint``: the built-in blueprints, listed and exported (no Django needed)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rules_engine.cli import CliError
from rules_engine.values import dumps

from .package import PackageError, builtin_packages, find_builtin, load_package


def _list(args: argparse.Namespace) -> int:
    try:
        packages = builtin_packages()
    except PackageError as exc:
        raise CliError(str(exc)) from None
    if args.json:
        rows = [
            {
                **{k: p.meta.get(k) for k in ("slug", "version", "title", "category", "tags", "description")},
                "nodes": len(p.graph.get("nodes", [])),
                "scenarios": len(p.scenarios),
                "models": sorted(p.models),
            }
            for p in packages
        ]
        print(json.dumps(rows, indent=2))
        return 0
    for p in packages:
        print(
            f"{p.slug:28} {p.meta['version']:8} {p.meta.get('category', ''):12} {p.meta.get('title', '')}"
            f"  ({len(p.graph.get('nodes', []))} nodes, {len(p.scenarios)} scenarios)"
        )
    return 0


def _export(args: argparse.Namespace) -> int:
    try:
        package = find_builtin(args.slug)
        out = Path(args.output)
        if out.exists() and any(out.iterdir()) and not args.force:
            raise CliError(f"{out} exists and is not empty (use --force to write into it)")
        written = package.export(out)
    except PackageError as exc:
        raise CliError(str(exc)) from None
    except OSError as exc:
        raise CliError(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"{package.slug} {package.meta['version']}: {len(written)} files in {out}")
    return 0


def _test(args: argparse.Namespace) -> int:
    """Run every scenario of a built-in blueprint (or a package folder) on both engines."""
    from .scenarios import run_scenario

    try:
        package = load_package(Path(args.slug)) if Path(args.slug).is_dir() else find_builtin(args.slug)
    except PackageError as exc:
        raise CliError(str(exc)) from None
    failed = 0
    for rel, scenario in package.scenarios.items():
        for engine in args.engine or ["reference", "onnx"]:
            result = run_scenario(package, scenario, engine)
            mark = "ok  " if result.passed else "FAIL"
            print(
                f"{mark} {package.slug} {rel} [{engine}]: {len(result.records)} actions, "
                f"{result.summary['accepted']} accepted, {sum(result.summary['rejected'].values())} rejected"
            )
            if not result.passed:
                failed += 1
                print(f"     {result.difference}")
            if args.verbose:
                for record in result.records:
                    print(f"     {dumps(record)}")
    return 1 if failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    bp = commands.add_parser("blueprint", help="the built-in blueprints")
    sub = bp.add_subparsers(dest="blueprint_command", metavar="SUBCOMMAND", required=True)
    ls = sub.add_parser("list", help="list the built-in blueprints")
    ls.add_argument("--json", action="store_true", help="print JSON instead of a table")
    ls.set_defaults(run=_list)
    ex = sub.add_parser("export", help="write one blueprint's files (graph, README, models, scenarios)")
    ex.add_argument("slug", metavar="SLUG")
    ex.add_argument("-o", "--output", required=True, metavar="DIR")
    ex.add_argument("--force", action="store_true", help="write into a folder that is not empty")
    ex.set_defaults(run=_export)
    t = sub.add_parser("test", help="run a blueprint's scenarios on the engines and compare with what they expect")
    t.add_argument("slug", metavar="SLUG|DIR", help="a built-in blueprint's slug, or an exported package folder")
    t.add_argument("--engine", action="append", choices=["reference", "onnx"], help="engines to run (default: both)")
    t.add_argument("-v", "--verbose", action="store_true", help="print the action records")
    t.set_defaults(run=_test, engine=None)
