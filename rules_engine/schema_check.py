"""Payload schemas compiled to Python source, for the hot path.

``jsonschema`` is the reference: it costs tens of microseconds a payload. :func:`compile_schema`
turns the subset of JSON Schema that telemetry schemas use into one generated Python function
per (sub)schema, with exactly jsonschema's Draft 2020-12 verdicts (``tests/test_schema_check.py``
checks that differentially). For any keyword outside the subset it returns None and the caller
keeps jsonschema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["Predicate", "compile_schema"]

Predicate = Callable[[Any], bool]

ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$schema",
        "$id",
        "format",
        "contentMediaType",
        "contentEncoding",
    }
)


class _Unsupported(Exception):
    pass


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _is_integer(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    return isinstance(v, int) or (isinstance(v, float) and v.is_integer())


def _scalar_equal(a: Any, b: Any) -> bool:
    """jsonschema's equality for scalars: bools are not numbers; 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if a is None or b is None:
        return a is b
    return a == b


# Type tests on the local `x`; the fast `type(x) is ...` cases cover everything json.loads makes.
TYPE_TESTS = {
    "object": "isinstance(x, dict)",
    "array": "isinstance(x, list)",
    "string": "isinstance(x, str)",
    "number": "(type(x) is float or type(x) is int or _is_number(x))",
    "integer": "(type(x) is int or _is_integer(x))",
    "boolean": "isinstance(x, bool)",
    "null": "x is None",
}


# "pattern" comes last, after "maxLength": a string longer than maxLength fails without its regex
# ever running on it (validation bounds every pattern's maxLength; see rules_engine/patterns.py).
KEYWORD_ORDER = {"type": 0, "required": 1, "pattern": 3}
_DICT_GUARD = "if isinstance(x, dict) and "


def _unguarded(line: str) -> str:
    """A keyword's own top-level line without its "x is a dict" guard (lines nested in its
    block, which test other values, are left alone)."""
    if line == "if isinstance(x, dict):":
        return "if True:"
    if line.startswith(_DICT_GUARD):
        return "if " + line[len(_DICT_GUARD) :]
    return line


class _Generator:
    def __init__(self) -> None:
        self.functions: list[str] = []
        self.env: dict[str, Any] = {
            "_is_number": _is_number,
            "_is_integer": _is_integer,
            "_scalar_equal": _scalar_equal,
            "_MISSING": object(),
        }
        self.combos: dict[str, list[str]] = {}

    def constant(self, value: Any) -> str:
        name = f"_c{len(self.env)}"
        self.env[name] = value
        return name

    def function(self, schema: Any) -> str:
        """Generate a function for ``schema``; returns its name."""
        name = f"_f{len(self.functions)}"
        self.functions.append("")  # reserve the slot: sub-schemas are generated first
        index = len(self.functions) - 1
        lines = [f"def {name}(x):"]
        body = self.body(schema)
        lines += ["    " + line for line in body] + ["    return True"]
        self.functions[index] = "\n".join(lines)
        return name

    def body(self, schema: Any) -> list[str]:
        if schema is True:
            return []
        if schema is False:
            return ["return False"]
        if not isinstance(schema, dict):
            raise _Unsupported("schema is not an object")
        out: list[str] = []
        # Keywords are independent tests, so their order is free: "type" and "required" first,
        # so that what follows may take a dict's required properties as there; "pattern" last.
        known_dict = schema.get("type") == "object"
        for key, arg in sorted(schema.items(), key=lambda item: KEYWORD_ORDER.get(item[0], 2)):
            if key in ANNOTATIONS:
                continue
            handler = getattr(self, "kw_" + key, None)
            if handler is None:
                raise _Unsupported(key)
            lines = handler(arg, schema)
            if known_dict and key != "type":  # x is a dict past the type test: no guard for it
                lines = [_unguarded(line) for line in lines]
            out += lines
        return out

    # --- keywords: each gives statements that `return False` when x breaks it ---------------------
    def kw_type(self, arg, schema):
        names = [arg] if isinstance(arg, str) else arg
        if not isinstance(names, list) or not names or any(n not in TYPE_TESTS for n in names):
            raise _Unsupported("type")
        return [f"if not ({' or '.join(TYPE_TESTS[n] for n in names)}): return False"]

    def kw_enum(self, arg, schema):
        if not isinstance(arg, list) or any(isinstance(v, (dict, list)) for v in arg):
            raise _Unsupported("enum with containers")
        if arg and all(isinstance(v, str) for v in arg):
            allowed = self.constant(frozenset(arg))
            return [f"if type(x) is not str or x not in {allowed}: return False"]
        values = self.constant(tuple(arg))
        return [f"if isinstance(x, (dict, list)) or not any(_scalar_equal(x, e) for e in {values}): return False"]

    def kw_const(self, arg, schema):
        return self.kw_enum([arg], schema)

    def _bound(self, arg, fails: str):
        if not _is_number(arg):
            raise _Unsupported("bound")
        return [
            f"if (type(x) is float or type(x) is int or _is_number(x)) and x {fails} {self.constant(arg)}: return False"
        ]

    def kw_minimum(self, arg, schema):
        return self._bound(arg, "<")

    def kw_maximum(self, arg, schema):
        return self._bound(arg, ">")

    def kw_exclusiveMinimum(self, arg, schema):
        return self._bound(arg, "<=")

    def kw_exclusiveMaximum(self, arg, schema):
        return self._bound(arg, ">=")

    def _length(self, arg, kind: str, op: str):
        if not _is_integer(arg):
            raise _Unsupported("length")
        return [f"if isinstance(x, {kind}) and len(x) {op} {self.constant(arg)}: return False"]

    def kw_minLength(self, arg, schema):
        return self._length(arg, "str", "<")

    def kw_maxLength(self, arg, schema):
        return self._length(arg, "str", ">")

    def kw_minItems(self, arg, schema):
        return self._length(arg, "list", "<")

    def kw_maxItems(self, arg, schema):
        return self._length(arg, "list", ">")

    def kw_minProperties(self, arg, schema):
        return self._length(arg, "dict", "<")

    def kw_maxProperties(self, arg, schema):
        return self._length(arg, "dict", ">")

    def kw_pattern(self, arg, schema):
        try:
            search = re.compile(arg).search
        except (re.error, TypeError):
            raise _Unsupported("pattern") from None
        return [f"if isinstance(x, str) and {self.constant(search)}(x) is None: return False"]

    def kw_required(self, arg, schema):
        if not isinstance(arg, list) or not all(isinstance(k, str) for k in arg):
            raise _Unsupported("required")
        if not arg:
            return []
        test = " and ".join(f"{k!r} in x" for k in arg)
        return [f"if isinstance(x, dict) and not ({test}): return False"]

    def kw_properties(self, arg, schema):
        if not isinstance(arg, dict):
            raise _Unsupported("properties")
        out = ["if isinstance(x, dict):", "    _get = x.get", "    _o = x"]
        # "required" was tested before (keyword order): a dict that is still here has these.
        required = set(schema["required"]) if isinstance(schema.get("required"), list) else set()
        for prop, sub in arg.items():
            if sub is True or (isinstance(sub, dict) and all(k in ANNOTATIONS for k in sub)):
                continue
            inline = self._leaf(sub)
            if inline == []:  # e.g. {"required": []}: nothing to test
                continue
            if inline is None:
                fn = self.function(sub)
                if prop in required:
                    out += [f"    if not {fn}(_o[{prop!r}]): return False"]
                else:
                    out += [f"    v = _get({prop!r}, _MISSING)"]
                    out += [f"    if v is not _MISSING and not {fn}(v): return False"]
            elif prop in required:  # a leaf's tests in place, on x bound to the property's value
                out += [f"    x = _o[{prop!r}]"] + ["    " + line for line in inline]
            else:
                out += [f"    x = _get({prop!r}, _MISSING)", "    if x is not _MISSING:"]
                out += ["        " + line for line in inline]
        return [*out, "    x = _o"] if len(out) > 3 else []

    def _leaf(self, schema: Any) -> list[str] | None:
        """The body of a schema made of one-line tests of ``x`` alone (type, enum, bounds, ...),
        or None for anything else (a sub-function is made for it)."""
        if not isinstance(schema, dict):
            return None
        if any(k in ("properties", "additionalProperties", "items", "allOf", "anyOf", "oneOf", "not") for k in schema):
            return None
        mark = len(self.functions)
        body = self.body(schema)
        one_liners = all(line.startswith("if ") and line.endswith(": return False") for line in body)
        if len(self.functions) != mark or not one_liners:
            return None
        return body

    def kw_additionalProperties(self, arg, schema):
        if "patternProperties" in schema:
            raise _Unsupported("patternProperties")
        known = self.constant(frozenset(schema.get("properties") or {}))
        fn = self.function(arg)
        return [f"if isinstance(x, dict) and not all({fn}(v) for k, v in x.items() if k not in {known}): return False"]

    def kw_items(self, arg, schema):
        if "prefixItems" in schema:
            raise _Unsupported("prefixItems")
        fn = self.function(arg)
        return [f"if isinstance(x, list) and not all({fn}(v) for v in x): return False"]

    def _combine(self, arg, test: str):
        if not isinstance(arg, list) or not arg:
            raise _Unsupported("combinator")
        fns = f"_k{len(self.combos)}"
        self.combos[fns] = [self.function(s) for s in arg]  # resolved once every function exists
        return [f"if not ({test.format(fns=fns)}): return False"]

    def kw_allOf(self, arg, schema):
        return self._combine(arg, "all(f(x) for f in {fns})")

    def kw_anyOf(self, arg, schema):
        return self._combine(arg, "any(f(x) for f in {fns})")

    def kw_oneOf(self, arg, schema):
        return self._combine(arg, "sum(1 for f in {fns} if f(x)) == 1")

    def kw_not(self, arg, schema):
        return [f"if {self.function(arg)}(x): return False"]


def compile_schema(schema: Any) -> Predicate | None:
    """A predicate equivalent to ``Draft202012Validator(schema).is_valid``, or None."""
    gen = _Generator()
    try:
        entry = gen.function(schema)
    except (_Unsupported, RecursionError):
        return None
    source = "\n\n".join(gen.functions)
    namespace = dict(gen.env)
    exec(compile(source, "<payload schema>", "exec"), namespace)
    for name, functions in gen.combos.items():
        namespace[name] = tuple(namespace[f] for f in functions)
    return namespace[entry]
