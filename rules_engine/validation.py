"""Validation of ``aiot.graph/v1`` documents: every problem at once, each with node and path.

:func:`validate` returns the problems; :func:`build_plan` returns a :class:`Plan` or raises
:class:`GraphInvalid`. Both accept anything (hostile JSON included) and never raise otherwise.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from .document import schema_references
from .patterns import SchemaValidator, check_schema, schema_pattern_problems
from .plan import ModelProvider, Plan, PlanNode
from .problems import GraphInvalid, Problem, pointer
from .registry import NodeProblem, PortTypeError, get_kind
from .types import PortType

__all__ = ["MAX_NODES", "build_plan", "graph_schema", "resolve_params", "validate"]

MAX_NODES = 2000
MAX_EDGES = 10000


@cache
def graph_schema() -> dict:
    """The ``aiot.graph/v1`` JSON Schema shipped with the package."""
    text = resources.files("rules_engine").joinpath("graph.schema.json").read_text("utf-8")
    return json.loads(text)


@cache
def _doc_validator() -> Draft202012Validator:
    return Draft202012Validator(graph_schema())


def _schema_problems(validator: Draft202012Validator, value: Any, prefix: tuple, node: str | None) -> list[Problem]:
    out = []
    for err in validator.iter_errors(value):
        where = pointer(*prefix, *err.absolute_path)
        message = err.message if len(err.message) < 300 else err.message[:297] + "..."
        out.append(Problem(where, "schema", node, message))
    return out


def validate(doc: Any, params: Any = None, *, models: ModelProvider | None = None) -> list[Problem]:
    """Every problem of the document (and of the blueprint parameter values), sorted."""
    try:
        _plan, problems = _check(doc, params, models, base_dir=None)
    except RecursionError:  # a hostile document deeper than our pre-checks assumed
        problems = [Problem("", "schema", None, "the document nests too deeply")]
    return sorted(set(problems))


def build_plan(
    doc: Any, params: Any = None, *, models: ModelProvider | None = None, base_dir: str | None = None
) -> Plan:
    """The resolved plan of a valid document; raises GraphInvalid with every problem otherwise."""
    plan, problems = _check(doc, params, models, base_dir)
    if problems or plan is None:
        raise GraphInvalid(sorted(set(problems)))
    return plan


# --------------------------------------------------------------------------------------------
def resolve_params(doc: dict, values: Any) -> tuple[dict[str, Any], list[Problem]]:
    """Blueprint parameter values: the declared defaults, overridden by ``values``."""
    problems: list[Problem] = []
    schema = doc.get("params") or {"type": "object", "properties": {}}
    invalid = check_schema(schema)
    if invalid is not None:
        problems.append(Problem("/params", "schema", None, f"params is not a valid JSON Schema: {invalid}"))
    message = "is not supported in the parameter schema: write the schema inline"
    problems += [
        Problem(pointer("params", *path), "schema", None, f"{path[-1]} {message}") for path in schema_references(schema)
    ]
    # Regexes that could run for minutes on a value (docs/graph-format.md): refused before any runs.
    problems += [
        Problem(pointer("params", *path), "schema", None, why) for path, why in schema_pattern_problems(schema)
    ]
    if problems:  # no value is checked against a schema that is not usable
        return {}, problems
    declared = schema.get("properties") or {}
    if values is None:
        values = {}
    if not isinstance(values, dict):
        return {}, [Problem("/params", "param_value", None, "parameter values must be a JSON object")]
    resolved: dict[str, Any] = {}
    for name, prop in declared.items():
        if name in values:
            resolved[name] = values[name]
        elif isinstance(prop, dict) and "default" in prop:
            resolved[name] = copy.deepcopy(prop["default"])
    for name in values:
        if name not in declared:
            problems.append(Problem("/params", "param_value", None, f"no parameter named {name!r} is declared"))
    for name, prop in declared.items():
        where = pointer("params", "properties", name)
        if name not in resolved:
            problems.append(Problem(where, "param_value", None, f"parameter {name!r} has no value and no default"))
            continue
        errors = list(SchemaValidator(prop).iter_errors(resolved[name]))
        for err in errors:
            problems.append(Problem(where, "param_value", None, f"parameter {name!r}: {err.message}"))
        if errors:  # nodes using it are left unresolved: the bad value is the one problem
            del resolved[name]
    return resolved, problems


def _substitute(node_params: dict, index: int, node_id: str, values: dict, declared: dict):
    """Replace top-level ``{"$param": name}`` values; returns (params, problems, unresolved)."""
    out: dict[str, Any] = {}
    problems = []
    unresolved = False
    for key, value in node_params.items():
        if isinstance(value, dict) and set(value) == {"$param"}:
            name = value["$param"]
            where = pointer("nodes", index, "params", key)
            if not isinstance(name, str) or name not in declared:
                problems.append(Problem(where, "unknown_param", node_id, f"no blueprint parameter named {name!r}"))
                unresolved = True
                out[key] = None  # present, so that ports this param stands in for stay blocked
            elif name not in values:
                unresolved = True  # reported once, as param_value, by resolve_params
                out[key] = None
            else:
                out[key] = copy.deepcopy(values[name])
        else:
            out[key] = value
    return out, problems, unresolved


def _with_defaults(params: dict, schema: dict) -> dict:
    out = dict(params)
    for name, prop in (schema.get("properties") or {}).items():
        if name not in out and isinstance(prop, dict) and "default" in prop:
            out[name] = copy.deepcopy(prop["default"])
    return out


@cache
def _params_validator(type_name: str) -> Draft202012Validator:
    kind = get_kind(type_name)
    assert kind is not None
    return Draft202012Validator(kind.params_schema)


def _check(doc: Any, params: Any, models: ModelProvider | None, base_dir: str | None):
    if not isinstance(doc, dict):
        return None, [Problem("", "schema", None, f"a graph must be a JSON object, not {type(doc).__name__}")]
    nodes_raw, edges_raw = doc.get("nodes"), doc.get("edges")
    if isinstance(nodes_raw, list) and len(nodes_raw) > MAX_NODES:
        return None, [Problem("/nodes", "schema", None, f"{len(nodes_raw)} nodes; at most {MAX_NODES} are allowed")]
    if isinstance(edges_raw, list) and len(edges_raw) > MAX_EDGES:
        return None, [Problem("/edges", "schema", None, f"{len(edges_raw)} edges; at most {MAX_EDGES} are allowed")]

    problems = _schema_problems(_doc_validator(), doc, (), None)
    if not isinstance(nodes_raw, list) or not isinstance(edges_raw, list):
        return None, problems
    bad_items = {tuple(p.path.split("/")[1:3]) for p in problems}

    values, param_problems = resolve_params(doc, params)
    problems += param_problems
    declared = (doc.get("params") or {}).get("properties") or {} if isinstance(doc.get("params"), dict) else {}

    # ---- nodes -------------------------------------------------------------------------
    nodes: dict[str, PlanNode] = {}
    unknown_types: set[str] = set()  # edges touching these are not judged: the type is the problem
    usable: set[str] = set()  # nodes whose params resolved and checked: types can be derived
    for i, raw in enumerate(nodes_raw):
        if ("nodes", str(i)) in bad_items or not isinstance(raw, dict):
            continue
        nid, type_name = raw["id"], raw["type"]
        if nid in nodes:
            problems.append(Problem(pointer("nodes", i), "duplicate_id", nid, f"the id {nid!r} is used twice"))
            continue
        kind = get_kind(type_name)
        if kind is None:
            problems.append(Problem(pointer("nodes", i), "unknown_type", nid, f"there is no node type {type_name!r}"))
            unknown_types.add(nid)
            continue
        raw_params = raw.get("params") or {}
        resolved, sub_problems, unresolved = _substitute(raw_params, i, nid, values, declared)
        problems += sub_problems
        node = PlanNode(nid, i, type_name, kind, resolved)
        nodes[nid] = node
        if unresolved:
            continue
        param_problems = _schema_problems(_params_validator(type_name), resolved, ("nodes", i, "params"), nid)
        if param_problems:
            problems += param_problems
            continue
        node.params = _with_defaults(resolved, kind.params_schema)
        checked = kind.check_params(node)
        for exc in checked:
            problems.append(Problem(pointer("nodes", i, *exc.path), exc.code, nid, str(exc)))
        if not checked:
            usable.add(nid)

    # ---- edges -------------------------------------------------------------------------
    edge_of: dict[tuple[str, str], int] = {}
    fed: dict[str, list[str]] = {nid: [] for nid in nodes}
    targets: list[tuple[int, str, str, str]] = []
    fed_by_unknown: dict[str, set[str]] = {}  # (edge index, from, to node, port-or-"")
    for j, raw in enumerate(edges_raw):
        if ("edges", str(j)) in bad_items or not isinstance(raw, dict):
            continue
        src, to = raw["from"], raw["to"]
        dst, _, port = to.partition(".")
        if dst in unknown_types:
            continue
        if src in unknown_types:  # the port counts as fed; its node cannot be typed
            if dst in nodes and port:
                fed_by_unknown.setdefault(dst, set()).add(port)
                fed[dst].append(port)
            continue
        if src not in nodes:
            problems.append(
                Problem(pointer("edges", j, "from"), "unknown_port", None, f"no node {src!r} to take a value from")
            )
            continue
        if dst not in nodes:
            problems.append(Problem(pointer("edges", j, "to"), "unknown_port", None, f"no node {dst!r} to feed"))
            continue
        targets.append((j, src, dst, port))
        if port:
            fed[dst].append(port)

    for nid, node in nodes.items():
        node.ports = node.kind.ports(node.params, fed[nid])
    for j, src, dst, port in targets:
        node = nodes[dst]
        names = [p.name for p in node.ports]
        if not port:
            if len(names) != 1:
                listing = ", ".join(names) if names else "none"
                problems.append(
                    Problem(
                        pointer("edges", j, "to"),
                        "unknown_port",
                        dst,
                        f"{dst} ({node.type}) has {len(names)} inputs ({listing}): name the port, as {dst}.PORT",
                    )
                )
                continue
            port = names[0]
        elif port not in names:
            listing = ", ".join(names) if names else "none"
            problems.append(
                Problem(
                    pointer("edges", j, "to"),
                    "unknown_port",
                    dst,
                    f"{node.type} {dst} has no input {port!r} (inputs: {listing})",
                )
            )
            continue
        if port in node.inputs:
            problems.append(
                Problem(
                    pointer("edges", j, "to"),
                    "duplicate_input",
                    dst,
                    f"{dst}.{port} is already fed by {node.inputs[port]}",
                )
            )
            continue
        node.inputs[port] = src
        edge_of[(dst, port)] = j

    unfed: set[str] = set()
    for nid, node in nodes.items():
        blocked = node.kind.blocked_ports(node)
        for port, why in blocked.items():
            if port in node.inputs:
                problems.append(Problem(pointer("edges", edge_of[(nid, port)], "to"), "duplicate_input", nid, why))
        for p in node.ports:
            if p.required and p.name not in node.inputs and p.name not in blocked:
                usable.discard(nid)  # its type cannot be derived; the missing edge is the problem
                unfed.add(nid)
                if p.name in fed_by_unknown.get(nid, ()):
                    continue
                problems.append(
                    Problem(
                        pointer("nodes", node.index),
                        "unfed_input",
                        nid,
                        f"{node.type} {nid} needs an edge into {nid}.{p.name} ({p.type.kind})",
                    )
                )

    # ---- cycles and order --------------------------------------------------------------
    order, cyclic = _topological(nodes)
    for members in cyclic:
        first = min(members, key=lambda n: nodes[n].index)
        names = " → ".join(sorted(members, key=lambda n: nodes[n].index))
        problems.append(
            Problem(pointer("nodes", nodes[first].index), "cycle", first, f"these nodes form a cycle: {names}")
        )

    # ---- types -------------------------------------------------------------------------
    typed: dict[str, PortType] = {}
    for nid in order:
        node = nodes[nid]
        if nid not in usable or any(src not in typed for src in node.inputs.values()):
            continue
        node.in_types = {port: typed[src] for port, src in node.inputs.items()}
        if node.type == "model.onnx" and models is not None:
            try:
                node.model = models.describe(node.params["model"])
            except (LookupError, ValueError, OSError) as exc:
                problems.append(Problem(pointer("nodes", node.index, "params", "model"), "param_value", nid, str(exc)))
                continue
        try:
            typed[nid] = node.out_type = node.kind.output_type(node, node.in_types)
        except PortTypeError as exc:
            edge = edge_of.get((nid, exc.port))
            where = pointer("edges", edge, "to") if edge is not None else pointer("nodes", node.index)
            src = node.inputs.get(exc.port)
            who = f" (from {src})" if src else ""
            problems.append(Problem(where, "type_mismatch", nid, f"{nid}.{exc.port}: {exc}{who}"))
        except NodeProblem as exc:
            problems.append(Problem(pointer("nodes", node.index, *exc.path), exc.code, nid, str(exc)))

    # ---- reachability ------------------------------------------------------------------
    # A node downstream of an unfed input is not judged: the missing edge is the one problem.
    reached: dict[str, bool] = {}  # some source upstream
    const_fed: dict[str, bool] = {}  # every fed input comes from consts alone
    broken: set[str] = set()
    for nid in order:
        node = nodes[nid]
        srcs = list(node.inputs.values())
        if nid in unfed or any(s in broken for s in srcs):
            broken.add(nid)
            reached[nid] = const_fed[nid] = False
            continue
        if node.is_source:
            reached[nid], const_fed[nid] = True, False
        elif node.type == "const":
            reached[nid], const_fed[nid] = False, True
        else:
            reached[nid] = any(reached.get(s, False) for s in srcs)
            const_fed[nid] = bool(srcs) and all(const_fed.get(s, False) for s in srcs)
            if const_fed[nid]:
                problems.append(
                    Problem(
                        pointer("nodes", node.index),
                        "const_only",
                        nid,
                        f"{nid} is fed by constants alone: its value never changes",
                    )
                )
        if node.is_action and not reached[nid]:
            problems.append(
                Problem(
                    pointer("nodes", node.index),
                    "unreachable_action",
                    nid,
                    f"no source reaches {nid}: it can never fire",
                )
            )

    if problems:
        return None, problems
    plan_nodes = sorted(nodes.values(), key=lambda n: n.index)
    return Plan(doc.get("name", ""), plan_nodes, order, values, base_dir), []


def _topological(nodes: dict[str, PlanNode]) -> tuple[list[str], list[set[str]]]:
    """Kahn's order with ties broken by document position; the nodes left over form cycles."""
    import heapq

    indegree = dict.fromkeys(nodes, 0)
    children: dict[str, list[str]] = {nid: [] for nid in nodes}
    for nid, node in nodes.items():
        for src in set(node.inputs.values()):
            indegree[nid] += 1
            children[src].append(nid)
    ready = [(nodes[n].index, n) for n, d in indegree.items() if d == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        _, nid = heapq.heappop(ready)
        order.append(nid)
        for child in children[nid]:
            indegree[child] -= 1
            if indegree[child] == 0:
                heapq.heappush(ready, (nodes[child].index, child))
    left = {n for n, d in indegree.items() if d > 0}
    return order, _cycles(left, nodes)


def _cycles(left: set[str], nodes: dict[str, PlanNode]) -> list[set[str]]:
    """Strongly connected components with a cycle among the leftover nodes (iterative Tarjan)."""
    succ = {n: [s for s in set(nodes[n].inputs.values()) if s in left] for n in left}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    comps: list[set[str]] = []
    counter = 0
    for root in sorted(left, key=lambda n: nodes[n].index):
        if root in index:
            continue
        work = [(root, iter(succ[root]))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            for w in it:
                if w not in index:
                    index[w] = low[w] = counter
                    counter += 1
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(succ[w])))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    comp = set()
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        comp.add(w)
                        if w == v:
                            break
                    if len(comp) > 1 or v in succ[v]:
                        comps.append(comp)
    return comps
