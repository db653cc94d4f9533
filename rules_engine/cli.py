"""The ``aiot`` command line: the dispatcher, and the ``aiot graph`` commands.

Each package adds its own sub-commands through the ``aiot.commands`` entry point group, so the
dispatcher here imports none of them.
"""

from __future__ import annotations

import argparse
import ctypes
import gc
import json
import sys
from collections.abc import Sequence
from importlib.metadata import entry_points
from pathlib import Path

from .document import JsonError, loads_limited
from .engines import load_engine, load_model_provider, run_trace
from .problems import GraphInvalid, Problem
from .trace import TraceError, write_records
from .validation import build_plan, validate
from .values import dumps

__all__ = ["CliError", "load_graph_args", "main", "register_graph", "replay", "settle_for_a_replay"]


class CliError(Exception):
    """An error the command line reports as one line on stderr, with exit status 1."""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aiot", description="AIoT Studio: edge AI rules, compiled.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for ep in sorted(entry_points(group="aiot.commands"), key=lambda e: e.name):
        try:
            register = ep.load()
        except ImportError:  # a part that is not installed here (e.g. the studio on a gateway)
            continue
        register(commands)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args) or 0)
    except CliError as exc:
        print(f"aiot {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `aiot graph run ... | head`
        return 0
    except KeyboardInterrupt:
        return 130


# --------------------------------------------------------------------------------------------
def read_json_file(path: str, what: str) -> object:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {what} {path}: {exc.strerror}") from None
    try:
        return loads_limited(data, what=f"{what} {path}")
    except JsonError as exc:
        raise CliError(str(exc)) from None


def load_graph_args(args: argparse.Namespace) -> tuple[object, object, str]:
    """The graph document, the parameter values and the graph's folder, from the arguments."""
    doc = read_json_file(args.graph, "graph")
    params = read_json_file(args.params, "params") if getattr(args, "params", None) else None
    return doc, params, str(Path(args.graph).resolve().parent)


def print_problems(problems: list[Problem], where: str) -> None:
    for p in problems:
        print(json.dumps({"node": p.node, "path": p.path, "code": p.code, "message": p.message}))
    print(f"{where}: {len(problems)} problem(s)", file=sys.stderr)


def _validate(args: argparse.Namespace) -> int:
    doc, params, base = load_graph_args(args)
    problems = validate(doc, params, models=load_model_provider(base))
    if problems:
        print_problems(problems, args.graph)
        return 1
    return 0


def _run(args: argparse.Namespace) -> int:
    doc, params, base = load_graph_args(args)
    models = load_model_provider(base)
    try:
        plan = build_plan(doc, params, models=models, base_dir=base)
    except GraphInvalid as exc:
        print_problems(exc.problems, args.graph)
        return 1
    try:
        engine = load_engine(args.engine, plan, models)
    except (LookupError, ValueError) as exc:
        raise CliError(str(exc)) from None
    return replay(engine, args.trace)


# glibc's mallopt parameters
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_KEPT_BLOCKS = 1 << 25  # bytes: arrays up to this size come from the heap, and go back to it


def settle_for_a_replay() -> None:
    """The process made ready for one long replay, once its engine is made.

    What start-up made (modules, the plan, an ONNX session) lives until the end: frozen out of
    the collector's sight, so that its full collections during a long trace do not walk it. And
    glibc would give each freed array of a few MB back to the kernel, so that the next chunk's
    arrays fault their pages in again (~15 % of a compiled replay, measured): it keeps them in
    the heap instead, for the rest of the process (a replay is the end of a command). Elsewhere
    than glibc, the collector alone."""
    gc.collect()
    gc.freeze()
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, TypeError):  # not glibc (TypeError: Windows has no CDLL(None))
        return
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    mallopt(_M_MMAP_THRESHOLD, _KEPT_BLOCKS)
    mallopt(_M_TRIM_THRESHOLD, 4 * _KEPT_BLOCKS)


def replay(engine, trace_path: str) -> int:
    """A trace through an engine, as `aiot graph run` and `aiot edge replay` print it: the
    records on stdout, one a line; the summary on stderr; a bad trace line ends it naming the line."""
    settle_for_a_replay()
    try:
        with open(trace_path, "rb") as f:
            write_records(run_trace(engine, f, trace_path, texts="all"), sys.stdout)
    except OSError as exc:
        raise CliError(f"cannot read trace {trace_path}: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise CliError(f"trace {trace_path} is not UTF-8 (byte {exc.start})") from None
    except TraceError as exc:
        sys.stdout.flush()
        raise CliError(str(exc)) from None
    sys.stdout.flush()
    print(dumps(engine.stats.to_json()), file=sys.stderr)
    return 0


def register_graph(commands: argparse._SubParsersAction) -> None:
    graph = commands.add_parser("graph", help="validate and run rule graphs (aiot.graph/v1)")
    sub = graph.add_subparsers(dest="graph_command", metavar="SUBCOMMAND", required=True)

    v = sub.add_parser(
        "validate",
        help="check a graph; print one JSON problem a line",
        description="Exit 0 when the graph is valid; else exit 1 and print every problem.",
    )
    v.add_argument("graph", metavar="GRAPH.json")
    v.add_argument("--params", metavar="P.json", help="blueprint parameter values (a JSON object)")
    v.set_defaults(run=_validate)

    r = sub.add_parser(
        "run",
        help="replay a trace through a graph; print the action records",
        description="Action records go to stdout, one a line; the summary to stderr.",
    )
    r.add_argument("graph", metavar="GRAPH.json")
    r.add_argument("--trace", required=True, metavar="T.jsonl", help="telemetry, one JSON object a line")
    r.add_argument("--params", metavar="P.json", help="blueprint parameter values (a JSON object)")
    r.add_argument(
        "--engine",
        default="reference",
        choices=["reference", "onnx"],
        help="reference: the interpreter (default); onnx: the graph compiled to ONNX",
    )
    r.set_defaults(run=_run)


if __name__ == "__main__":
    sys.exit(main())
