"""``logic.*``: Kleene three-valued logic, and ``logic.select``."""

from __future__ import annotations

from ..registry import NodeKind, Port, PortTypeError, register
from ..types import ANY, BOOL


@register
class And(NodeKind):
    name = "logic.and"
    group = "logic"
    doc = "true when every input is true; false when any is false; else missing (Kleene)."
    variadic = ("in", BOOL, 2)
    output = BOOL

    def make_step(self, node):
        def step(ins, state, ev):
            if False in ins:
                return False
            return None if None in ins else True

        return step

    def lower(self, node, g, ins):
        masks = [g.truth(x) for x in ins]
        return g.kleene(g.and_(*[true for true, _ in masks]), g.or_(*[false for _, false in masks]))


@register
class Or(NodeKind):
    name = "logic.or"
    group = "logic"
    doc = "true when any input is true; false when every one is false; else missing (Kleene)."
    variadic = ("in", BOOL, 2)
    output = BOOL

    def make_step(self, node):
        def step(ins, state, ev):
            if True in ins:
                return True
            return None if None in ins else False

        return step

    def lower(self, node, g, ins):
        masks = [g.truth(x) for x in ins]
        return g.kleene(g.or_(*[true for true, _ in masks]), g.and_(*[false for _, false in masks]))


@register
class Not(NodeKind):
    name = "logic.not"
    group = "logic"
    doc = "not x; missing stays missing."
    inputs = (Port("in", BOOL),)
    output = BOOL

    def make_step(self, node):
        return lambda ins, state, ev: None if ins[0] is None else not ins[0]

    def lower(self, node, g, ins):
        return g.kleene_not(ins[0])


@register
class Select(NodeKind):
    name = "logic.select"
    group = "logic"
    doc = "then if cond is true, else if it is false; missing when cond is missing."
    inputs = (Port("cond", BOOL), Port("then", ANY), Port("else", ANY))

    def output_type(self, node, in_types):
        self.check_inputs(node, in_types)
        then, other = in_types["then"], in_types["else"]
        if then.kind != other.kind:
            raise PortTypeError("else", f"expect {then.kind} like then, got {other}")
        if then.kind == "category" and then.enum is not None and other.enum is not None:
            return type(then)("category", tuple(dict.fromkeys(then.enum + other.enum)))
        return then

    def make_step(self, node):
        def step(ins, state, ev):
            cond = ins[0]
            if cond is None:
                return None
            return ins[1] if cond else ins[2]

        return step

    def lower(self, node, g, ins):
        (c, cm), (t, tm), (e, em) = ins
        return g.where(c, t, e), g.and_(cm, g.where(c, tm, em))
