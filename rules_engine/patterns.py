"""Regular expressions that graphs bring in their JSON Schemas: refused unless they run fast.

A payload schema or a parameter schema may hold ``pattern`` values and ``patternProperties``
keys. Python's ``re`` backtracks, so a pattern such as ``^(a+)+$`` takes exponential time, and
even ``a*a*b`` takes minutes on a few thousand characters. :func:`schema_pattern_problems` reads
every such pattern with Python's own regex parser and refuses, before anything runs:

- a pattern that does not compile, or is longer than :data:`MAX_PATTERN_CHARS`;
- a repeat (maximum > 1) holding another repeat (``?`` included), an alternation or a backreference;
- any backreference, and a lookaround holding a repeat;
- more than :data:`MAX_LARGE_REPEATS` repeats whose maximum is large (> 64, or unbounded);
- a pattern whose estimated steps are over budget (see :func:`estimated_steps`): 1,024 a
  character of maxLength; for a ``patternProperties`` key, 64 a character of a name of any length;
- a ``pattern`` whose schema object has no ``maxLength`` of at most :data:`MAX_PATTERN_INPUT`.

:class:`SchemaValidator` is the one jsonschema class that checks instances against a graph's
schemas: Draft 2020-12, except that ``pattern`` does not run its regex on a string longer than
the schema's ``maxLength`` (which fails that string anyway, so verdicts are jsonschema's).
"""

from __future__ import annotations

import re
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import SchemaError

from .document import MAX_DOCUMENT_BYTES, subschemas

try:  # Python 3.11+
    from re import _constants as _c
    from re import _parser as _sre_parse
except ImportError:  # pragma: no cover - older Pythons
    import sre_constants as _c  # type: ignore[no-redef]
    import sre_parse as _sre_parse  # type: ignore[no-redef]

__all__ = [
    "MAX_LARGE_REPEATS",
    "MAX_PATTERN_CHARS",
    "MAX_PATTERN_INPUT",
    "SchemaValidator",
    "check_schema",
    "estimated_steps",
    "pattern_problems",
    "schema_pattern_problems",
]

MAX_PATTERN_CHARS = 1000  # a longer pattern is refused unread
MAX_PATTERN_INPUT = 4096  # the largest maxLength a schema object with a pattern may have
SMALL_REPEAT = 64  # a repeat whose maximum is larger (or unbounded) is a "large" one
MAX_LARGE_REPEATS = 3
STEPS_PER_CHAR = 1024  # budget of estimated steps (see estimated_steps) per character of input
NAME_STEPS_PER_CHAR = 64  # the same for patternProperties keys, which must run in linear time
NAME_LENGTH = MAX_DOCUMENT_BYTES  # property names are bounded by the document or payload size

_MAXREPEAT = _c.MAXREPEAT
_REPEATS = {_c.MAX_REPEAT, _c.MIN_REPEAT}
if hasattr(_c, "POSSESSIVE_REPEAT"):
    _REPEATS.add(_c.POSSESSIVE_REPEAT)
_ASSERTS = {_c.ASSERT, _c.ASSERT_NOT}
_BACKREFS = {_c.GROUPREF, _c.GROUPREF_EXISTS}
_ATOMIC = getattr(_c, "ATOMIC_GROUP", None)
_POSSESSIVE = getattr(_c, "POSSESSIVE_REPEAT", None)
_SINGLE_CHAR = {_c.LITERAL, _c.NOT_LITERAL, _c.ANY, _c.IN}
_CATEGORIES = {
    _c.CATEGORY_DIGIT: r"\d",
    _c.CATEGORY_NOT_DIGIT: r"\D",
    _c.CATEGORY_SPACE: r"\s",
    _c.CATEGORY_NOT_SPACE: r"\S",
    _c.CATEGORY_WORD: r"\w",
    _c.CATEGORY_NOT_WORD: r"\W",
}

NESTED = "a repeated group that itself repeats can take exponential time"
ALTERNATION = "a repeated alternation (a|b|…)+ can take exponential time"
BACKREFERENCE = "backreferences (\\1, (?P=name), (?(1)…)) are not supported: they can take exponential time"
LOOKAROUND = "a lookahead or lookbehind holding a repeat can take exponential time"


# --------------------------------------------------------------------------------------------
class _Shape:
    """What the static checks found in one parsed pattern."""

    def __init__(self) -> None:
        self.reasons: list[str] = []
        self.large_repeats = 0

    def refuse(self, reason: str) -> None:
        if reason not in self.reasons:
            self.reasons.append(reason)


def _contains(items, ops: set) -> bool:
    """Whether a parsed (sub)pattern holds an op of ``ops`` at any depth (iterative)."""
    stack = [items]
    while stack:
        for op, av in stack.pop():
            if op in ops:
                return True
            stack += _children(op, av)
    return False


def _contains_repeat(items, *, optional: bool) -> bool:
    """Whether ``items`` hold a repeat with a maximum > 1 (or, with ``optional``, any repeat
    that is not a no-op, such as ``?``)."""
    stack = [items]
    while stack:
        for op, av in stack.pop():
            if op in _REPEATS and (av[1] > 1 or (optional and av[0] != av[1])):
                return True
            stack += _children(op, av)
    return False


def _children(op, av) -> list:
    if op in _REPEATS:
        return [av[2]]
    if op is _c.SUBPATTERN:
        return [av[3]]
    if op is _c.BRANCH:
        return list(av[1])
    if op in _ASSERTS:
        return [av[1]]
    if op is _c.GROUPREF_EXISTS:
        return [b for b in av[1:] if b is not None]
    if op is _ATOMIC:
        return [av]
    return []


def _shape(parsed) -> _Shape:
    shape = _Shape()
    stack = [parsed]
    while stack:
        for op, av in stack.pop():
            if op in _BACKREFS:
                shape.refuse(BACKREFERENCE)
            elif op in _REPEATS:
                _lo, hi, body = av
                if hi > SMALL_REPEAT:
                    shape.large_repeats += 1
                if hi > 1:
                    if _contains_repeat(body, optional=True):
                        shape.refuse(NESTED)
                    if _contains(body, {_c.BRANCH, _c.GROUPREF_EXISTS}):
                        shape.refuse(ALTERNATION)
            elif op in _ASSERTS and _contains_repeat(av[1], optional=False):
                shape.refuse(LOOKAROUND)
            stack += _children(op, av)
    return shape


# --------------------------------------------------------------------------------------------
# The cost model: an upper estimate of the steps of ``re.search(pattern, s)``, len(s) <= n.
# ``re`` enters the pattern at each start position (once, when it begins with ^ or \A). Each
# item costs a step per entry; a repeat costs a step per character it consumes (its greedy run,
# then its back-off), up to min(max, n), per entry. An item hands on to the next item once per
# way it can match: a repeat [lo, hi] once per length it can stop at, an alternation once per
# branch. A repeat of one character that the next literal character of the pattern cannot be
# (``[a-z]+@``), or that ends the pattern, or that is possessive, hands on once: ``re`` skips
# the other lengths without entering the rest of the pattern. A repeat with a minimum of 0 or 1
# that ends the pattern costs one step per entry: the first entry that matches it ends the
# search. Branches and optional parts add up, sequences multiply: nested repeats (refused
# anyway) come out exponential, ``a*a*b`` cubic, ``a.*b`` quadratic, ``^FL-[0-9]+$`` linear.


class _Unknown:
    pass


_END = _Unknown()  # nothing follows: the pattern has matched
_OTHER = _Unknown()  # something follows that is not a plain literal character


def _char_can_be(item, char: str, flags: int) -> bool:
    """Whether a one-character item may match ``char`` (True when unsure)."""
    if flags & re.IGNORECASE:
        return True
    op, av = item
    if op is _c.LITERAL:
        return chr(av) == char
    if op is _c.NOT_LITERAL:
        return chr(av) != char
    if op is _c.ANY:
        return char != "\n" or bool(flags & re.DOTALL)
    if op is _c.IN:
        negate = False
        hit = False
        for sub_op, sub_av in av:
            if sub_op is _c.NEGATE:
                negate = True
            elif sub_op is _c.LITERAL:
                hit = hit or chr(sub_av) == char
            elif sub_op is _c.RANGE:
                hit = hit or sub_av[0] <= ord(char) <= sub_av[1]
            elif sub_op is _c.CATEGORY and sub_av in _CATEGORIES:
                regex = re.compile(_CATEGORIES[sub_av], flags & re.ASCII)
                hit = hit or regex.fullmatch(char) is not None
            else:
                return True
        return hit != negate
    return True


def _forced(body, follow, flags: int) -> bool:
    """A repeat of one character with one way to go on (see the cost model)."""
    if follow is _END:
        return True
    if len(body) != 1 or body[0][0] not in _SINGLE_CHAR or isinstance(follow, _Unknown):
        return False
    return not _char_can_be(body[0], follow, flags)


def _cost(items, n: int, entries: int, follow, flags: int) -> tuple[int, int]:
    """(steps, exits) of a parsed sequence entered ``entries`` times; exits: the times it hands
    on to what follows (recursive: patterns are at most 1,000 characters and the caller catches
    RecursionError)."""
    steps = 0
    for i, (op, av) in enumerate(items):
        if i + 1 < len(items):
            nxt_op, nxt_av = items[i + 1]
            nxt = chr(nxt_av) if nxt_op is _c.LITERAL and not flags & re.IGNORECASE else _OTHER
        else:
            nxt = follow
        if op in _REPEATS:
            lo, hi, body = av
            top = min(hi, n)
            if hi == 0:
                continue
            if hi == 1:
                body_steps, body_exits = _cost(body, n, entries, nxt, flags)
                steps += body_steps
                entries = body_exits + (entries if lo == 0 else 0)
                continue
            one, _ = _cost(body, n, 1, _OTHER, flags)  # a body without choices (refused otherwise)
            if nxt is _END and lo <= 1:  # the first entry that matches once ends the search
                steps += entries * max(one, 1) + max(top, 1) * max(one, 1)
                continue
            steps += entries * max(top, 1) * max(one, 1)
            if lo < top and op is not _POSSESSIVE and not _forced(body, nxt, flags):
                entries *= top - lo + 1
        elif op is _c.SUBPATTERN:
            group_flags = (flags | av[1]) & ~av[2]
            steps, entries = _add(steps, _cost(av[3], n, entries, nxt, group_flags))
        elif op is _c.BRANCH:
            outs = [_cost(alt, n, entries, nxt, flags) for alt in av[1]]
            steps += sum(o[0] for o in outs)
            entries = sum(o[1] for o in outs)
        elif op in _ASSERTS:
            steps += _cost(av[1], n, entries, _OTHER, flags)[0]
        elif op is _ATOMIC:
            steps += _cost(av, n, entries, _OTHER, flags)[0]
        else:
            steps += entries
    return steps, entries


def _add(steps: int, cost: tuple[int, int]) -> tuple[int, int]:
    return steps + cost[0], cost[1]


def estimated_steps(pattern: str, n: int) -> int:
    """The cost model's steps for ``re.search(pattern, s)`` with ``len(s) <= n``."""
    parsed = _sre_parse.parse(pattern)
    flags = parsed.state.flags
    items = list(parsed)
    first = items[0] if items else None
    anchored = first == (_c.AT, _c.AT_BEGINNING_STRING) or (
        first == (_c.AT, _c.AT_BEGINNING) and not flags & re.MULTILINE
    )
    steps, exits = _cost(items, n, 1 if anchored else n + 1, _END, flags)
    return steps + exits


# --------------------------------------------------------------------------------------------
def _quote(pattern: str) -> str:
    """The pattern as written (escaped only when it holds unprintable characters), shortened."""
    short = pattern if len(pattern) <= 80 else pattern[:77] + "…"
    return f"'{short}'" if short.isprintable() else repr(short)


def pattern_problems(pattern: str, *, max_length: int | None) -> list[str]:
    """Why ``re.search(pattern, s)`` may be slow, in sentences (empty: the pattern is fine).

    ``max_length`` bounds ``len(s)`` (a ``pattern``'s maxLength); None means a property name,
    which must take time linear in its length.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        return [f"the pattern is {len(pattern):,} characters long; at most {MAX_PATTERN_CHARS:,} are allowed"]
    try:
        re.compile(pattern)
        parsed = _sre_parse.parse(pattern)
    except Exception as exc:  # re.error, and the odd OverflowError or RecursionError
        why = exc.msg if isinstance(exc, re.error) else "it is too complex"
        return [f"{_quote(pattern)} is not a regular expression Python can use: {why}"]
    try:
        shape = _shape(parsed)
        if shape.large_repeats > MAX_LARGE_REPEATS:
            shape.refuse(
                f"{shape.large_repeats} open-ended repeats (+, *, or a maximum over {SMALL_REPEAT}) can take "
                f"polynomial time; at most {MAX_LARGE_REPEATS} are allowed"
            )
        if shape.reasons:
            return [f"{reason}: {_quote(pattern)}" for reason in shape.reasons]
        if max_length is None:
            steps, limit = estimated_steps(pattern, NAME_LENGTH), NAME_STEPS_PER_CHAR * (NAME_LENGTH + 1)
        else:
            steps, limit = estimated_steps(pattern, max_length), STEPS_PER_CHAR * (max_length + 1)
    except RecursionError:
        return [f"{_quote(pattern)} nests too deeply to be checked"]
    if steps <= limit:
        return []
    if max_length is None:
        return [
            f"{_quote(pattern)} can take time that grows faster than the length of a property name; "
            "anchor it with ^, or use fewer open-ended repeats such as + and *"
        ]
    return [
        f"{_quote(pattern)} may try about {_round(steps)} steps on a string of {max_length:,} characters "
        f"(at most {STEPS_PER_CHAR:,} a character are allowed): lower maxLength, anchor it with ^, "
        "or use fewer open-ended repeats such as + and *"
    ]


def _round(steps: int) -> str:
    return f"{steps:,}" if steps < 10**6 else f"{steps:.1e}"


def _max_length(schema: dict) -> int | None:
    value = schema.get("maxLength")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if isinstance(value, float) and not value.is_integer():
        return None
    return int(value)


def schema_pattern_problems(schema: Any) -> list[tuple[tuple[str, ...], str]]:
    """(path, message) for every regex of a graph's JSON Schema that could run too long.

    ``pattern`` values are read with their schema object's ``maxLength``, which must be at most
    MAX_PATTERN_INPUT; ``patternProperties`` keys (matched against property names, whose length
    only the payload or document size bounds) must run in linear time.
    """
    found: list[tuple[tuple[str, ...], str]] = []
    for path, item in subschemas(schema):
        pattern = item.get("pattern")
        if isinstance(pattern, str):
            where = (*path, "pattern")
            limit = _max_length(item)
            if limit is None:
                found.append(
                    (
                        where,
                        f"a pattern needs a maxLength of at most {MAX_PATTERN_INPUT:,} next to it, so that the "
                        "regular expression only ever runs on short strings",
                    )
                )
            elif limit > MAX_PATTERN_INPUT:
                shown = f"{limit:,}" if limit < 10**12 else f"{float(limit):.1e}"
                found.append(
                    (where, f"maxLength is {shown}: next to a pattern it must be at most {MAX_PATTERN_INPUT:,}")
                )
            bound = MAX_PATTERN_INPUT if limit is None else max(0, min(limit, MAX_PATTERN_INPUT))
            found += [(where, message) for message in pattern_problems(pattern, max_length=bound)]
        named = item.get("patternProperties")
        if isinstance(named, dict):
            for key in named:
                where = (*path, "patternProperties", str(key))
                found += [(where, message) for message in pattern_problems(str(key), max_length=None)]
    return sorted(found)


# --------------------------------------------------------------------------------------------
_PATTERN = Draft202012Validator.VALIDATORS["pattern"]


def _bounded_pattern(validator, pattern, instance, schema):
    """``pattern``, except on a string longer than the schema's maxLength: that string already
    fails maxLength, so the verdict is the same, and the regex never sees more than maxLength."""
    limit = schema.get("maxLength") if isinstance(schema, dict) else None
    if (
        isinstance(instance, str)
        and isinstance(limit, (int, float))
        and not isinstance(limit, bool)
        and len(instance) > limit
    ):
        return
    yield from _PATTERN(validator, pattern, instance, schema)


SchemaValidator = validators.extend(Draft202012Validator, {"pattern": _bounded_pattern})
"""Draft 2020-12 with a bounded ``pattern``: the validator of payloads and parameter values."""

# The metaschema's "regex" format would compile every pattern of a schema being checked; the
# patterns are read (and refused, at their own pointer) by schema_pattern_problems instead.
_FORMATS = FormatChecker(formats=())
_FORMATS.checkers = {k: v for k, v in Draft202012Validator.FORMAT_CHECKER.checkers.items() if k != "regex"}


def check_schema(schema: Any) -> str | None:
    """Why ``schema`` is not a valid JSON Schema 2020-12 (its regexes aside), or None."""
    try:
        SchemaValidator.check_schema(schema, format_checker=_FORMATS)
    except SchemaError as exc:
        return exc.message
    return None
