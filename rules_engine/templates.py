"""Message, topic and payload templates of actions: ``{key}``, ``{ts}`` and port names."""

from __future__ import annotations

import re
from collections.abc import Callable
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from .text_columns import TextColumns, write_rows
from .values import dumps, json_value

__all__ = ["Template", "TemplateError", "fill_format", "payload_format", "payload_template"]

TOKEN = re.compile(r"\{\{|\}\}|\{([a-z][a-z0-9_]{0,63})\}|[{}]")


class TemplateError(ValueError):
    pass


class Template:
    """A string with ``{name}`` placeholders; ``{{`` and ``}}`` are literal braces."""

    def __init__(self, text: str):
        self.parts: list[tuple[bool, str]] = []  # (is_placeholder, text or name)
        pos = 0
        for m in TOKEN.finditer(text):
            if m.start() > pos:
                self.parts.append((False, text[pos : m.start()]))
            tok = m.group(0)
            if tok in ("{{", "}}"):
                self.parts.append((False, tok[0]))
            elif m.group(1):
                self.parts.append((True, m.group(1)))
            else:
                raise TemplateError(f"a lone {tok!r} at character {m.start()}: write {tok}{tok} for a brace")
            pos = m.end()
        if pos < len(text):
            self.parts.append((False, text[pos:]))
        self.names = [name for is_ph, name in self.parts if is_ph]
        # A template that is exactly one placeholder keeps the value's type in a payload.
        self.single = self.names[0] if len(self.parts) == 1 and self.parts[0][0] else None
        self._format = "".join("%s" if is_ph else t.replace("%", "%%") for is_ph, t in self.parts)

    def render(self, values: dict[str, Any]) -> str:
        return self._format % tuple([json_value(values[name]) for name in self.names])

    def render_column(self, columns: TextColumns) -> list[str]:
        """``render`` of each row of a batch of records, from its texts."""
        return write_rows(self._format, [columns.text(name) for name in self.names], columns.rows)

    def event_renderer(self) -> Callable[[dict[str, Any], str, float], str]:
        """``f(values, key, ts)`` = ``render({**values, "key": key, "ts": ts})``, without making
        the merged dict: an action's message, written for every record."""
        fmt, names = self._format, self.names
        if not names:
            text = fmt % ()
            return lambda values, key, ts: text
        if names == ["key"]:  # the usual message: "... {key} ..."
            return lambda values, key, ts: fmt % json_value(key)

        def render(values: dict[str, Any], key: str, ts: float) -> str:
            merged = {**values, "key": key, "ts": ts}
            return fmt % tuple([json_value(merged[name]) for name in names])

        return render


def payload_template(spec: Any) -> tuple[list[str], Any]:
    """Compile a payload spec (a string, or JSON whose string leaves are templates).

    Returns the placeholder names it uses and a function of the values giving the payload.
    """
    names: list[str] = []

    def compile_(node: Any):
        if isinstance(node, str):
            t = Template(node)
            names.extend(t.names)
            if t.single is not None:
                return lambda v, n=t.single: v[n]
            if not t.names:  # plain text, its {{ and }} unescaped once
                text = t.render({})
                return lambda v: text
            return t.render
        if isinstance(node, dict):
            items = [(k, compile_(v)) for k, v in node.items()]
            return lambda v: {k: f(v) for k, f in items}
        if isinstance(node, list):
            fs = [compile_(x) for x in node]
            return lambda v: [f(v) for f in fs]
        return lambda v, c=node: c

    fn = compile_(spec)
    if isinstance(spec, str):  # a string payload is text, even when it is one placeholder
        t = Template(spec)
        return t.names, t.render
    return names, fn


def payload_format(spec: Any) -> tuple[str, list[str | Template]]:
    """The JSON text of the payload ``payload_template(spec)`` makes, as :func:`dumps` writes it
    (keys sorted at every depth), as a ``%`` format: the fixed text written once, and a slot
    per placeholder leaf, either the placeholder's name (its value, of its type, as
    ``value_text`` writes it) or the leaf's Template (a text: rendered, then JSON-escaped)."""
    if isinstance(spec, str):  # a string payload is text, even when it is one placeholder
        return "%s", [Template(spec)]
    slots: list[str | Template] = []

    def compile_(node: Any) -> str:
        if isinstance(node, str):
            t = Template(node)
            if t.single is not None:
                slots.append(t.single)
                return "%s"
            if not t.names:
                return encode_basestring_ascii(t.render({})).replace("%", "%%")
            slots.append(t)
            return "%s"
        if isinstance(node, dict):
            items = [encode_basestring_ascii(k).replace("%", "%%") + ":" + compile_(node[k]) for k in sorted(node)]
            return "{" + ",".join(items) + "}"
        if isinstance(node, list):
            return "[" + ",".join(compile_(x) for x in node) + "]"
        return dumps(node).replace("%", "%%")

    return compile_(spec), slots


def fill_format(fmt: str, pieces: list[str]) -> str:
    """``fmt`` with its ``%s`` slots replaced, in order, by pieces that are formats themselves
    (its ``%%`` stay as they are)."""
    parts = iter(pieces)
    return _SLOT.sub(lambda m: m.group(0) if m.group(0) == "%%" else next(parts), fmt)


_SLOT = re.compile(r"%%|%s")
