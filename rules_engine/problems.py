"""Validation problems: what is wrong, where (node and JSON pointer), in one sentence."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["CODES", "GraphInvalid", "Problem", "pointer"]

CODES = frozenset(
    {
        "schema",
        "duplicate_id",
        "unknown_type",
        "unknown_port",
        "duplicate_input",
        "unfed_input",
        "type_mismatch",
        "cycle",
        "unreachable_action",
        "const_only",
        "unknown_param",
        "param_value",
        "unknown_field",
    }
)


@dataclass(frozen=True, order=True)
class Problem:
    path: str
    code: str
    node: str | None
    message: str

    def __post_init__(self) -> None:
        assert self.code in CODES, self.code

    def to_json(self) -> dict:
        return asdict(self)


def pointer(*parts: object) -> str:
    """A JSON pointer (RFC 6901) from path parts."""
    out = []
    for part in parts:
        out.append(str(part).replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(out) if out else ""


class GraphInvalid(ValueError):
    """Raised when a graph cannot be planned; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        first = problems[0] if problems else None
        super().__init__(
            f"{len(problems)} problem(s); first: {first.path} {first.code}: {first.message}"
            if first
            else "invalid graph"
        )
