"""The node-type registry: every node type declares its ports, params schema and behaviour.

One node type (or a small family) per module in ``rules_engine/nodes/``; each registers itself
with :func:`register`. The registry exports itself as JSON for the editor and the compiler.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from .types import ANY, PortType

if TYPE_CHECKING:
    from .plan import PlanNode

__all__ = [
    "GROUPS",
    "NodeKind",
    "NodeProblem",
    "Port",
    "PortTypeError",
    "Step",
    "export_registry",
    "get_kind",
    "kinds",
    "register",
]

# Palette groups, in the order the editor shows them.
GROUPS = {
    "sources": "Sources",
    "fields": "Fields and constants",
    "math": "Math",
    "logic": "Logic",
    "state": "Windows and state",
    "models": "Models",
    "actions": "Actions",
}

PORT_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# A step computes a node's output from its input values (in port order), its per-key state
# and the event being evaluated. It returns the output value (None = missing).
Step = Callable[[list, Any, Any], Any]


@dataclass(frozen=True)
class Port:
    name: str
    type: PortType
    doc: str = ""
    required: bool = True

    def to_json(self) -> dict:
        return {"name": self.name, "type": self.type.to_json(), "doc": self.doc, "required": self.required}


class PortTypeError(Exception):
    """An input port fed with a value of the wrong type; ``port`` names it."""

    def __init__(self, port: str, message: str):
        self.port = port
        super().__init__(message)


class NodeProblem(Exception):
    """A problem a node type finds in one node: a SPEC §3 code and the path under the node."""

    def __init__(self, code: str, path: tuple[str, ...], message: str):
        self.code = code
        self.path = path
        super().__init__(message)


class NodeKind:
    """A node type. Subclasses set the class attributes and override what they need."""

    name: ClassVar[str]
    group: ClassVar[str]
    doc: ClassVar[str]
    params_schema: ClassVar[dict] = {"type": "object", "additionalProperties": False}
    inputs: ClassVar[tuple[Port, ...]] = ()
    # in1…inN: the port prefix, its type, and the least N.
    variadic: ClassVar[tuple[str, PortType, int] | None] = None
    # Actions take any other port name, of any scalar type.
    open_ports: ClassVar[bool] = False
    output: ClassVar[PortType | None] = None
    stateful: ClassVar[bool] = False

    # --- ports and types -------------------------------------------------------------
    def ports(self, params: dict, fed: list[str]) -> list[Port]:
        """The input ports of one node, given its params and the ports edges feed."""
        ports = list(self.inputs)
        if self.variadic is not None:
            prefix, ptype, least = self.variadic
            numbers = [int(p[len(prefix) :]) for p in fed if re.fullmatch(rf"{prefix}[1-9][0-9]*", p)]
            count = max([least, *numbers])
            ports += [Port(f"{prefix}{i}", ptype) for i in range(1, count + 1)]
        if self.open_ports:
            known = {p.name for p in ports}
            ports += [Port(p, ANY, required=False) for p in fed if p not in known and PORT_NAME.match(p)]
        return ports

    def check_inputs(self, node: PlanNode, in_types: dict[str, PortType]) -> None:
        """Raises PortTypeError when an input is fed a value its port does not accept."""
        for port in self.ports(node.params, list(in_types)):
            got = in_types.get(port.name)
            if got is not None and not port.type.accepts(got):
                raise PortTypeError(port.name, f"expect {port.type.kind}, got {got}")

    def output_type(self, node: PlanNode, in_types: dict[str, PortType]) -> PortType:
        """The node's output type; raises PortTypeError or NodeProblem when its inputs are wrong."""
        self.check_inputs(node, in_types)
        assert self.output is not None, self.name
        return self.output

    def check_params(self, node: PlanNode) -> list[NodeProblem]:
        """Checks beyond the params schema that need no types (e.g. one of two params)."""
        return []

    def blocked_ports(self, node: PlanNode) -> dict[str, str]:
        """Ports that a param stands in for (an edge into them is a duplicate input), with why."""
        return {}

    # --- behaviour -------------------------------------------------------------------
    def new_state(self, node: PlanNode) -> Any:
        """Per-key state for one node, created at its first evaluation for a key."""
        return None

    def make_step(self, node: PlanNode) -> Step:
        raise NotImplementedError(self.name)

    def lower(self, node: PlanNode, g: Any, ins: list[tuple[str, str]]) -> tuple[str, str]:
        """The same step as ONNX operators over a batch, through the compiler's builder ``g``
        (``edge_compiler.lower.Lowering``): inputs and output are (value, valid-mask) tensors."""
        raise NotImplementedError(f"{self.name} has no ONNX lowering")

    # --- export ------------------------------------------------------------------------
    @classmethod
    def to_json(cls) -> dict:
        out: dict = {
            "type": cls.name,
            "group": cls.group,
            "doc": cls.doc.strip(),
            "params_schema": cls.params_schema,
            "inputs": [p.to_json() for p in cls.inputs],
            "output": cls.output.to_json() if cls.output else None,
            "stateful": cls.stateful,
        }
        if cls.variadic is not None:
            prefix, ptype, least = cls.variadic
            out["variadic"] = {"prefix": prefix, "type": ptype.to_json(), "min": least}
        if cls.open_ports:
            out["open_ports"] = {"type": ANY.to_json(), "doc": "any other port name: a value for the record"}
        return out


_REGISTRY: dict[str, NodeKind] = {}


def register(cls: type[NodeKind]) -> type[NodeKind]:
    assert cls.name not in _REGISTRY, f"node type {cls.name} registered twice"
    assert cls.group in GROUPS, cls.group
    _REGISTRY[cls.name] = cls()
    return cls


def _load() -> None:
    from . import nodes  # noqa: F401  (importing registers every node type)


def get_kind(name: str) -> NodeKind | None:
    _load()
    return _REGISTRY.get(name)


def kinds() -> dict[str, NodeKind]:
    _load()
    return dict(_REGISTRY)


def export_registry() -> dict:
    """The registry as JSON: what the editor draws and what the compiler lowers."""
    _load()
    return {
        "format": "aiot.node-types/v1",
        "groups": [{"id": k, "title": v} for k, v in GROUPS.items()],
        "port_types": ["number", "bool", "category", "record", "any"],
        "compatibility": {
            "number": ["number"],
            "bool": ["bool"],
            "category": ["category"],
            "record": ["record"],
            "any": ["number", "bool", "category"],
        },
        "node_types": [kind.to_json() for kind in _REGISTRY.values()],
    }
