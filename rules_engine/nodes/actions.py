"""``action.alert`` and ``action.publish``: records that leave the graph.

Both fire on a true trigger, in `rising` (default) or `level` mode, with a cooldown in event
time. The rising edge is judged on the trigger whether or not a cooldown held the fire back.
"""

from __future__ import annotations

from collections.abc import Callable
from json.encoder import encode_basestring_ascii  # type: ignore[attr-defined]
from typing import Any

from ..registry import NodeKind, NodeProblem, Port, register
from ..templates import Template, TemplateError, fill_format, payload_format, payload_template
from ..text_columns import TextColumns, escaped, write_rows
from ..types import ACTION, BOOL
from ..values import Unusual, dumps, record_template, text_or_unusual, value_text

TRIGGER = Port("trigger", BOOL, "fires when true")
FIRE_PARAMS = {
    "mode": {
        "enum": ["rising", "level"],
        "default": "rising",
        "title": "Mode",
        "description": "rising: when the trigger turns true; level: on every true",
    },
    "cooldown_s": {"type": "number", "minimum": 0, "default": 0, "title": "Cooldown (s)"},
}


class Action(NodeKind):
    group = "actions"
    inputs = (TRIGGER,)
    open_ports = True
    output = ACTION
    stateful = True
    # A record the edge agent acts on besides writing it (a command it publishes): the agent
    # asks for records, not texts, of these.
    acted_on = False

    def templates(self, node) -> dict[str, list[str]]:
        """Param name → the placeholders its template uses (raises TemplateError)."""
        raise NotImplementedError

    def check_params(self, node):
        try:
            self.templates(node)
        except TemplateError as exc:
            return [NodeProblem("schema", ("params",), str(exc))]
        return []

    def output_type(self, node, in_types):
        self.check_inputs(node, in_types)
        allowed = {"key", "ts"} | {p for p in in_types if p != "trigger"}
        for param, names in self.templates(node).items():
            for name in names:
                if name not in allowed:
                    raise NodeProblem(
                        "unknown_port",
                        ("params", param),
                        f"{{{name}}} names no input of {node.id} (has: {', '.join(sorted(allowed))})",
                    )
        return ACTION

    def new_state(self, node):
        return [False, None]  # trigger was true at the previous evaluation; ts of the last fire

    def make_record(self, node):
        raise NotImplementedError

    def make_text(self, node):
        """``text(values, ev)``: ``dumps(record(values, ev))`` written at once; None: records only."""

    def make_texts(self, node, ports: list[str]) -> Callable[[TextColumns], list[str]] | None:
        """``texts(columns)``: the text of the record of each row of a batch whose values are
        ``ports`` (the compiled engine's records); None: one record at a time."""
        return None

    def lower(self, node, g, ins):
        on, _ = g.truth(ins[0])  # known true
        values = ins[1:]
        # State only where it is read: "level" without a cooldown is stateless (no per-key rows
        # to gather and scatter around each run).
        fire = on
        if node.params["mode"] != "level":
            was_on = g.state("was_on", "bool", False)
            fire = g.and_(on, g.not_(was_on))
            g.set_state("was_on", on)
        cooldown_ms = float(node.params["cooldown_s"]) * 1000.0
        if cooldown_ms > 0:  # no fire yet: last is NaN, and NaN < x is false
            last = g.state("last_fire", "double", float("nan"))
            fire = g.and_(fire, g.not_(g.op("Less", g.op("Sub", g.ts, last), g.const(cooldown_ms))))
            g.set_state("last_fire", g.where(fire, g.ts, last))
        ports = [p for p in node.fed_ports() if p != "trigger"]
        g.action(node, fire, dict(zip(ports, values, strict=True)))
        return fire, g.batch(g.true())

    def make_step(self, node):
        level = node.params["mode"] == "level"
        cooldown_ms = float(node.params["cooldown_s"]) * 1000.0
        ports = [p.name for p in node.ports if p.name in node.inputs and p.name != "trigger"]
        record = self.make_record(node)

        def step(ins, state, ev):
            on = ins[0] is True
            fire = on and (level or not state[0])
            state[0] = on
            if not fire:
                return None
            last = state[1]
            if cooldown_ms > 0 and last is not None and ev.ts - last < cooldown_ms:
                return None
            state[1] = ev.ts
            values = dict(zip(ports, ins[1:], strict=True))
            return record(values, ev)

        return step


@register
class Alert(Action):
    name = "action.alert"
    doc = """
    An alert record: `name`, `severity`, and `message` (a template: {key}, {ts}, {PORT}). Other
    inputs than `trigger` are carried in the record's values.
    """
    params_schema = {
        "type": "object",
        "required": ["name"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 128, "title": "Alert name"},
            "severity": {"enum": ["info", "warning", "critical"], "default": "warning", "title": "Severity"},
            "message": {"type": "string", "maxLength": 1024, "title": "Message"},
            **FIRE_PARAMS,
        },
    }

    def message(self, node) -> str:
        return node.params.get("message", node.params["name"].replace("{", "{{").replace("}", "}}") + " on {key}")

    def templates(self, node):
        return {"message": Template(self.message(node)).names}

    def _parts(self, node) -> tuple[Template, dict]:
        fixed = {"action": node.id, "kind": "alert", "name": node.params["name"], "severity": node.params["severity"]}
        return Template(self.message(node)), fixed

    def make_record(self, node):
        template, fixed = self._parts(node)
        render = template.event_renderer()

        def record(values, ev):
            message = render(values, ev.key, ev.ts)
            return {**fixed, "key": ev.key, "ts": ev.ts, "message": message, "values": values}

        return record

    def make_text(self, node):
        template, fixed = self._parts(node)
        record = record_template(fixed, ("key", "message", "ts", "values"))
        render = template.event_renderer()
        values_text = _values_writer(node)

        def text(values, ev):
            key, ts = ev.key, ev.ts
            message = encode_basestring_ascii(render(values, key, ts))
            return record % (value_text(key), message, value_text(ts), values_text(values))

        return text

    def make_texts(self, node, ports):
        known = _batch_values_format(node, ports)
        if known is None:
            return None
        names, values_format = known
        template, fixed = self._parts(node)
        fmt = fill_format(record_template(fixed, ("key", "message", "ts", "values")), ["%s", "%s", "%s", values_format])

        def texts(c: TextColumns) -> list[str]:
            message = escaped(template.render_column(c))
            return write_rows(fmt, [c.key, message, c.ts, *[c.values[p] for p in names]], c.rows)

        return texts


KEY_TEXTS = 4096  # keys whose texts a command's writer remembers


def _values_format(node) -> tuple[list[str], str] | None:
    """An action's values as the compiled engine gives them (its fed ports, sorted as dumps
    writes them) and a ``%`` format of their text; None for a node that does not know its ports."""
    if not hasattr(node, "fed_ports"):
        return None
    names = sorted(p for p in node.fed_ports() if p != "trigger")
    return names, "{" + ",".join(encode_basestring_ascii(p).replace("%", "%%") + ":%s" for p in names) + "}"


def _batch_values_format(node, ports: list[str]) -> tuple[list[str], str] | None:
    """``_values_format`` for a batch writer, whose values are ``ports``: None unless they are the
    node's ports (the batch is then written record by record)."""
    known = _values_format(node)
    return known if known is not None and known[0] == sorted(ports) else None


def _values_writer(node) -> Callable[[dict], str]:
    """``dumps(values)`` for an action's values: one format when they are the node's ports, else
    dumps itself."""
    known = _values_format(node)
    if known is None:
        return dumps
    names, fmt = known
    ports = set(names)

    def text(values: dict) -> str:
        if values.keys() == ports:
            return fmt % tuple([value_text(values[p]) for p in names])
        return dumps(values)

    return text


@register
class Publish(Action):
    name = "action.publish"
    acted_on = True
    doc = """
    A command: publishes `payload` (a template string, or JSON whose string leaves are
    templates; a leaf that is one placeholder keeps the value's type) to `topic` (a template).
    """
    params_schema = {
        "type": "object",
        "required": ["topic", "payload"],
        "additionalProperties": False,
        "properties": {
            "topic": {"type": "string", "minLength": 1, "maxLength": 512, "title": "Topic"},
            "payload": {"type": ["object", "string"], "title": "Payload"},
            **FIRE_PARAMS,
        },
    }

    def templates(self, node):
        return {"topic": Template(node.params["topic"]).names, "payload": payload_template(node.params["payload"])[0]}

    def make_record(self, node):
        topic = Template(node.params["topic"])
        _, payload = payload_template(node.params["payload"])

        def record(values, ev):
            scope = {**values, "key": ev.key, "ts": ev.ts}
            return {
                "action": node.id,
                "kind": "command",
                "key": ev.key,
                "ts": ev.ts,
                "topic": topic.render(scope),
                "payload": payload(scope),
                "values": values,
            }

        return record

    def make_text(self, node):
        """The whole record as one ``%`` format (the payload's and the values' included) and a
        function written for it: commands are most of the records a replay writes. A value that
        dumps writes the general way (a list) makes it write the record that way."""
        topic = Template(node.params["topic"])
        payload, slots = payload_format(node.params["payload"])
        record = record_template({"action": node.id, "kind": "command"}, ("key", "payload", "topic", "ts", "values"))
        env: dict[str, Any] = {
            "FORMAT": fill_format(record, ["%s", payload, "%s", "%s", "%s"]),
            "VT": text_or_unusual,
            "UNUSUAL": Unusual,
            "ESC": encode_basestring_ascii,
            "DUMPS": dumps,
            "RECORD": self.make_record(node),
            "TOPIC": topic,
            "BY_KEY": {},  # key → its text and the topic's, when the topic is of the key alone
            "KEY_TEXTS": KEY_TEXTS,
        }
        args = []
        for i, slot in enumerate(slots):  # as payload_template: "key" and "ts" are the event's
            if isinstance(slot, Template):
                env[f"R{i}"] = slot.render
                args.append(f"ESC(R{i}(scope))")
            else:
                args.append("kt" if slot == "key" else "tt" if slot == "ts" else f"VT(values[{slot!r}])")
        lines = ["def text(values, ev):", "    key, ts = ev.key, ev.ts", "    try:"]
        if any(isinstance(slot, Template) for slot in slots) or not set(topic.names) <= {"key"}:
            lines.append("        scope = {**values, 'key': key, 'ts': ts}")
        if set(topic.names) <= {"key"}:
            lines += [
                "        texts = BY_KEY.get(key)",
                "        if texts is None:",
                "            if len(BY_KEY) >= KEY_TEXTS:",
                "                BY_KEY.clear()",
                "            texts = BY_KEY[key] = (VT(key), ESC(TOPIC.render({'key': key})))",
                "        kt, topic_text = texts",
            ]
        else:
            lines.append("        kt, topic_text = VT(key), ESC(TOPIC.render(scope))")
        lines.append("        tt = VT(ts)")
        known = _values_format(node)
        if known is not None:  # the values the compiled engine gives: the node's ports
            names, env["VFORMAT"] = known
            env["PORTS"] = set(names)
            texts = "".join(f"VT(values[{p!r}]), " for p in names)
            lines.append(f"        vt = VFORMAT % ({texts}) if values.keys() == PORTS else DUMPS(values)")
        else:
            lines.append("        vt = DUMPS(values)")
        lines.append(f"        return FORMAT % ({', '.join(['kt', *args, 'topic_text', 'tt', 'vt'])},)")
        lines += ["    except UNUSUAL:", "        return DUMPS(RECORD(values, ev))"]
        exec(compile("\n".join(lines), "<command text>", "exec"), env)
        return env["text"]

    def make_texts(self, node, ports):
        known = _batch_values_format(node, ports)
        if known is None:
            return None
        names, values_format = known
        topic = Template(node.params["topic"])
        payload, slots = payload_format(node.params["payload"])
        record = record_template({"action": node.id, "kind": "command"}, ("key", "payload", "topic", "ts", "values"))
        fmt = fill_format(record, ["%s", payload, "%s", "%s", values_format])

        def texts(c: TextColumns) -> list[str]:
            columns = [c.key]
            for slot in slots:  # as payload_format: a Template's text, or a placeholder's value
                columns.append(escaped(slot.render_column(c)) if isinstance(slot, Template) else c.json(slot))
            columns += [escaped(topic.render_column(c)), c.ts, *[c.values[p] for p in names]]
            return write_rows(fmt, columns, c.rows)

        return texts
