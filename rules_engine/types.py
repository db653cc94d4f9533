"""Port types and the missing value.

A value travelling on an edge is a Python ``float`` (number), ``bool``, ``str`` (category) or a
``dict`` (a source's record); ``None`` is *missing* everywhere (SPEC §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACTION", "ANY", "BOOL", "NUMBER", "RECORD", "PortType", "category"]


@dataclass(frozen=True)
class PortType:
    """The type of a port or of a node's output.

    ``enum`` is the declared strings of a category; ``schema`` the JSON Schema of a record.
    """

    kind: str  # number | bool | category | record | any | action
    enum: tuple[str, ...] | None = None
    schema: object = None

    def accepts(self, other: PortType) -> bool:
        """Whether a port of this type can be fed by an output of type ``other``."""
        if self.kind == "any":
            return other.kind in ("number", "bool", "category")
        return self.kind == other.kind

    def __str__(self) -> str:
        if self.kind == "category" and self.enum is not None:
            return "category(" + ", ".join(self.enum) + ")"
        return self.kind

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.enum is not None:
            out["enum"] = list(self.enum)
        return out

    def __hash__(self) -> int:  # schema is a dict: hash by kind and enum only
        return hash((self.kind, self.enum))


NUMBER = PortType("number")
BOOL = PortType("bool")
RECORD = PortType("record")
ANY = PortType("any")
ACTION = PortType("action")


def category(values: tuple[str, ...] | list[str] | None = None) -> PortType:
    return PortType("category", tuple(values) if values is not None else None)
