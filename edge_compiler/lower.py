"""The builder node types lower themselves with: a small vocabulary over ONNX operators.

A node type's ``lower(node, g, ins)`` (in ``rules_engine/nodes/``) receives a
:class:`Lowering` ``g`` and its inputs as :data:`Val` pairs, and returns its output pair. Every
value is a pair of tensors over the batch: the value (float64 for numbers and categories, bool
for bools) and its validity mask (bool: false = missing). Tensor and node names carry the rule
node id (``speed/Greater_3``), so a profile or a Netron view maps back to the blueprint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

__all__ = ["DTYPES", "Lowering", "StateSpec", "Val"]

Val = tuple[str, str]  # (value tensor, validity mask tensor)

DTYPES = {
    "double": TensorProto.DOUBLE,
    "bool": TensorProto.BOOL,
    "int64": TensorProto.INT64,
    "float": TensorProto.FLOAT,
}
ONNX_NAMES = {v: k for k, v in DTYPES.items()}
BOOL_OPS = {"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not", "IsNaN", "IsInf", "Xor"}
NP_DTYPES = {"double": np.float64, "bool": np.bool_, "int64": np.int64, "float": np.float32}


@dataclass(frozen=True)
class StateSpec:
    """One state tensor kept per key: [B] or [B, width], with its value for a new key."""

    name: str
    dtype: str
    width: int | None
    init: Any

    def to_json(self) -> dict:
        init = self.init
        if isinstance(init, float) and np.isnan(init):
            init = "nan"
        return {"name": self.name, "dtype": self.dtype, "width": self.width, "init": init}


class Lowering:
    """An ONNX graph under construction, scoped to one rule node at a time."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self.inputs: list[onnx.ValueInfoProto] = []
        self.outputs: list[onnx.ValueInfoProto] = []
        self.states: list[StateSpec] = []
        self.state_updates: dict[str, str] = {}
        self.scope = "graph"
        self.active: str | None = None  # this rule node is evaluated on these rows
        self._consts: dict[tuple, str] = {}
        self._counter = 0
        self.dtypes: dict[str, str] = {}  # tensor → dtype, where known
        # Peepholes, so that node types can lower plainly and the graph stays small: every node
        # costs a kernel launch per evaluation, which dominates small batches.
        self._batched: dict[str, str] = {}  # scalar → [B] of it, made once
        self._all_true: set[str] = set()  # tensors true on every row
        self._negation: dict[str, str] = {}  # Not(x) → x, both ways
        self._exposed: set[str] = set()  # tensors already graph outputs under their own name
        self._made: dict[tuple, str] = {}  # (op, operands) → its tensor: And/Or of the same, made once
        # Kleene bools by their masks: (value, validity) → (known true, known false). Logic reads
        # and writes these, so that And is And of the true masks, Not a swap, no op at all.
        self._truth: dict[Val, tuple[str, str]] = {}
        self._negated: dict[Val, Val] = {}  # a Not's output → its input: its masks are those swapped
        self.ts = self.input("ts", "double")
        self._batch_shape = self.op("Shape", self.ts, scope="graph")

    # --- the graph's interface ----------------------------------------------------------------
    def input(self, name: str, dtype: str, width: int | None = None) -> str:
        shape = ["B"] if width is None else ["B", width]
        self.inputs.append(helper.make_tensor_value_info(name, DTYPES[dtype], shape))
        self.dtypes[name] = dtype
        return name

    def output(self, name: str, tensor: str, dtype: str, width: int | None = None) -> str:
        shape = ["B"] if width is None else ["B", width]
        self.op("Identity", tensor, out=name)
        self.outputs.append(helper.make_tensor_value_info(name, DTYPES[dtype], shape))
        return name

    # --- operators ----------------------------------------------------------------------------
    def op(
        self,
        op_type: str,
        *inputs: str,
        out: str | None = None,
        scope: str | None = None,
        domain: str = "",
        **attrs: Any,
    ) -> str:
        self._counter += 1
        scope = scope or self.scope
        name = out or f"{scope}/{op_type}_{self._counter}"
        self.nodes.append(
            helper.make_node(
                op_type, list(inputs), [name], name=f"{scope}/{op_type}_{self._counter}", domain=domain, **attrs
            )
        )
        if op_type in BOOL_OPS:
            self.dtypes[name] = "bool"
        elif op_type == "Cast":
            self.dtypes[name] = ONNX_NAMES.get(attrs["to"], "other")
        elif op_type == "Shape":
            self.dtypes[name] = "int64"
        elif inputs:
            self.dtypes[name] = self.dtypes.get(inputs[1] if op_type == "Where" else inputs[0], "other")
        return name

    def op_multi(self, op_type: str, inputs: list[str], n_out: int, domain: str = "", **attrs: Any) -> list[str]:
        self._counter += 1
        outs = [f"{self.scope}/{op_type}_{self._counter}_{i}" for i in range(n_out)]
        self.nodes.append(
            helper.make_node(
                op_type, inputs, outs, name=f"{self.scope}/{op_type}_{self._counter}", domain=domain, **attrs
            )
        )
        return outs

    def const(self, value: Any, dtype: str = "double") -> str:
        """A constant (a scalar, or a 1-D list) shared by the whole graph."""
        key = (dtype, repr(value))
        if key not in self._consts:
            array = np.asarray(value, dtype=NP_DTYPES[dtype])
            name = f"const/{dtype}_{len(self._consts)}"
            self.initializers.append(numpy_helper.from_array(array, name))
            self._consts[key] = name
            self.dtypes[name] = dtype
        return self._consts[key]

    def batch(self, scalar: str) -> str:
        """A scalar repeated over the batch: [B]."""
        if scalar not in self._batched:
            self._batched[scalar] = self.op("Expand", scalar, self._batch_shape, scope="graph")
            if scalar == self.true():
                self._all_true.add(self._batched[scalar])
        return self._batched[scalar]

    def expose(self, tensor: str, dtype: str) -> str:
        """Make ``tensor`` readable after a run; → the name to read it by (an output or an input).

        No Identity: an input is read from the feeds, a computed tensor is an output as it is."""
        if tensor in self._exposed or any(i.name == tensor for i in self.inputs):
            return tensor
        self._exposed.add(tensor)
        self.outputs.append(helper.make_tensor_value_info(tensor, DTYPES[dtype], ["B"]))
        return tensor

    def batch_size(self) -> str:
        """[B] as a 1-D int64 tensor (for Slice ends)."""
        return self._batch_shape

    def true(self) -> str:
        return self.const(True, "bool")

    def false(self) -> str:
        return self.const(False, "bool")

    def and_(self, *xs: str) -> str:
        kept = list(dict.fromkeys(x for x in xs if x not in self._all_true)) or [xs[0]]
        out = kept[0]
        for x in kept[1:]:
            out = self._commutative("And", out, x)
        return out

    def or_(self, *xs: str) -> str:
        xs = tuple(dict.fromkeys(xs))
        out = xs[0]
        for x in xs[1:]:
            out = self._commutative("Or", out, x)
        return out

    def _commutative(self, op_type: str, a: str, b: str) -> str:
        key = (op_type, frozenset((a, b)))
        if key not in self._made:
            self._made[key] = self.op(op_type, a, b)
        return self._made[key]

    # --- Kleene bools -------------------------------------------------------------------------
    def truth(self, x: Val) -> tuple[str, str]:
        """A bool's (known true, known false) masks: both false where it is missing."""
        if x not in self._truth:
            if x in self._negated:
                true, false = self.truth(self._negated[x])
                self._truth[x] = (false, true)
            else:
                v, m = x
                self._truth[x] = (self.and_(m, v), self.and_(m, self.not_(v)))
        return self._truth[x]

    def kleene(self, true: str, false: str) -> Val:
        """The bool whose known true and known false masks these are."""
        x = (true, self.or_(true, false))  # where it is known, its value is its true mask
        self._truth[x] = (true, false)
        return x

    def kleene_not(self, x: Val) -> Val:
        """not x (missing stays missing); its masks are x's swapped, made only if read."""
        out = (self.not_(x[0]), x[1])
        if out not in self._negated and self._negated.get(x) != out:  # not not x is x: no cycle
            self._negated[out] = x
        return out

    def not_(self, x: str) -> str:
        if x not in self._negation:
            out = self.op("Not", x)
            self._negation[x], self._negation[out] = out, x
        return self._negation[x]

    def where(self, cond: str, a: str, b: str) -> str:
        if cond in self._all_true or a == b:
            return a
        if self.dtypes.get(a) == "bool":  # onnxruntime has no bool Where kernel
            return self.op("Or", self.op("And", cond, a), self.op("And", self.not_(cond), b))
        return self.op("Where", cond, a, b)

    def finite(self, x: str) -> str:
        """x is neither NaN nor ±inf."""
        return self.not_(self.op("Or", self.op("IsNaN", x), self.op("IsInf", x)))

    def number(self, v: str, *masks: str) -> Val:
        """A computed number: missing where any mask is false or the value is not finite."""
        return v, self.and_(*masks, self.finite(v))

    def unsqueeze(self, x: str) -> str:
        """[B] → [B, 1]."""
        return self.op("Unsqueeze", x, self.const([1], "int64"))

    def shift_in(self, buffer: str, x: str, width: int) -> str:
        """[B, W] with its oldest column dropped and x appended as the newest."""
        rest = self.op(
            "Slice", buffer, self.const([1], "int64"), self.const([width], "int64"), self.const([1], "int64")
        )
        return self.op("Concat", rest, self.unsqueeze(x), axis=1)

    def reduce(self, op_type: str, x: str) -> str:
        """Reduce [B, W] over W → [B]."""
        return self.op(op_type, x, self.const([1], "int64"), keepdims=0)

    def prune(self) -> None:
        """Drop the nodes and constants no output depends on (a peephole can leave some behind)."""
        needed = {o.name for o in self.outputs}
        kept: list[onnx.NodeProto] = []
        for node in reversed(self.nodes):  # nodes are in topological order
            if any(out in needed for out in node.output):
                kept.append(node)
                needed.update(node.input)
        self.nodes = kept[::-1]
        self.initializers = [i for i in self.initializers if i.name in needed]
        # An input the model does not read is not fed (each costs a binding per run); the host
        # still reads the fields it names for the records. State inputs stay: the host feeds them all.
        self.inputs = [i for i in self.inputs if i.name in needed or i.name.startswith("state_in/")]

    # --- state --------------------------------------------------------------------------------
    def state(self, name: str, dtype: str, init: Any, width: int | None = None) -> str:
        """This rule node's per-key state tensor (as it was before this event)."""
        full = f"{self.scope}.{name}"
        self.states.append(StateSpec(full, dtype, width, init))
        return self.input(f"state_in/{full}", dtype, width)

    def set_state(self, name: str, new: str) -> None:
        """The state after this event; kept only on rows where this rule node is evaluated."""
        full = f"{self.scope}.{name}"
        spec = next(s for s in self.states if s.name == full)
        old = f"state_in/{full}"
        if self.active is None or self.active in self._all_true:
            self.state_updates[full] = new
            return
        active = self.active if spec.width is None else self.unsqueeze(self.active)
        self.state_updates[full] = self.where(active, new, old)
