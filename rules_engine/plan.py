"""The resolved graph every engine runs: parameters substituted, ports wired, nodes ordered.

A :class:`Plan` comes only out of :func:`rules_engine.validation.build_plan`, so an engine never
sees an invalid graph. It serialises to ``plan.json`` inside a bundle and back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from .types import PortType

if TYPE_CHECKING:
    from .registry import NodeKind, Port

__all__ = ["ModelInfo", "ModelProvider", "Plan", "PlanNode"]


@dataclass(frozen=True)
class ModelInfo:
    """What validation and the engines need to know of an ONNX model."""

    ref: str
    input_name: str
    input_width: int | None  # None: the model accepts any width
    input_dtype: str  # numpy dtype name, e.g. "float32"
    outputs: tuple[str, ...]
    sha256: str


class ModelProvider(Protocol):
    """Finds and runs the ONNX models ``model.onnx`` nodes refer to (edge_compiler has one)."""

    def describe(self, ref: str) -> ModelInfo:
        """Raises LookupError or ValueError with a clear message when it cannot."""
        ...

    def run_row(self, ref: str, output: str, row: list[float]) -> list[float]:
        """The named output of the model for one row, flattened."""
        ...


@dataclass
class PlanNode:
    id: str
    index: int  # position in the document's nodes array
    type: str
    kind: NodeKind
    params: dict[str, Any]  # resolved: $param replaced, defaults filled by the kind
    ports: list[Port] = field(default_factory=list)
    inputs: dict[str, str] = field(default_factory=dict)  # port -> feeding node id
    out_type: PortType | None = None
    # Filled by the plan builder:
    in_types: dict[str, PortType] = field(default_factory=dict)
    model: ModelInfo | None = None

    @property
    def is_source(self) -> bool:
        return self.type == "source.telemetry"

    @property
    def is_action(self) -> bool:
        return self.type.startswith("action.")

    def fed_ports(self) -> list[str]:
        """Ports in declaration order that an edge feeds."""
        return [p.name for p in self.ports if p.name in self.inputs]


@dataclass
class Plan:
    name: str
    nodes: list[PlanNode]  # document order
    order: list[str]  # topological order (ties broken by document order)
    params: dict[str, Any]  # the blueprint parameter values used
    base_dir: str | None = None  # where relative model paths are found

    def __post_init__(self) -> None:
        self.by_id = {n.id: n for n in self.nodes}
        self.sources = [n for n in self.nodes if n.is_source]
        self.actions = [n for n in self.nodes if n.is_action]
        self.upstream_sources = self._upstream_sources()
        self.downstream = {
            s.id: [nid for nid in self.order if s.id in self.upstream_sources[nid]] for s in self.sources
        }

    def _upstream_sources(self) -> dict[str, frozenset[str]]:
        ups: dict[str, frozenset[str]] = {}
        for nid in self.order:
            node = self.by_id[nid]
            if node.is_source:
                ups[nid] = frozenset([nid])
            else:
                acc: set[str] = set()
                for src in node.inputs.values():
                    acc |= ups[src]
                ups[nid] = frozenset(acc)
        return ups

    def to_json(self) -> dict:
        """The resolved graph as an ``aiot.graph/v1`` document (no ``$param`` left)."""
        return {
            "format": "aiot.graph/v1",
            "name": self.name,
            "params": {"type": "object", "properties": {}},
            "nodes": [{"id": n.id, "type": n.type, "params": n.params} for n in self.nodes],
            "edges": [{"from": src, "to": f"{n.id}.{port}"} for n in self.nodes for port, src in n.inputs.items()],
        }
