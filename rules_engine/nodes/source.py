"""``source.telemetry``: the messages of one MQTT topic filter, as records."""

from __future__ import annotations

import re

from ..document import schema_references
from ..patterns import check_schema, schema_pattern_problems
from ..registry import NodeKind, NodeProblem, register
from ..types import PortType

KEY_SPEC = re.compile(r"^(topic:(0|[1-9][0-9]{0,2})|payload:[A-Za-z_][A-Za-z0-9_]{0,63})$")


@register
class Source(NodeKind):
    name = "source.telemetry"
    group = "sources"
    doc = """
    The telemetry of every device whose topic matches `topic` (MQTT filter, + and #). `key` says
    which device a message belongs to (`topic:N`, the N-th topic level from 0, or
    `payload:FIELD`); state is kept per key. Payloads that break `schema` are rejected and counted.
    """
    params_schema = {
        "type": "object",
        "required": ["topic", "key", "schema"],
        "additionalProperties": False,
        "properties": {
            "topic": {"type": "string", "minLength": 1, "maxLength": 512, "title": "Topic filter"},
            "key": {
                "type": "string",
                "pattern": KEY_SPEC.pattern,
                "title": "Key",
                "description": "topic:N or payload:FIELD",
            },
            "schema": {"type": "object", "title": "Payload schema"},
            "ts_field": {"type": ["string", "null"], "default": "ts", "maxLength": 64, "title": "Time field"},
            "max_age_s": {"type": ["number", "null"], "exclusiveMinimum": 0, "default": None, "title": "Max age (s)"},
        },
    }
    output = PortType("record")

    def check_params(self, node):
        problems = []
        topic = node.params["topic"]
        levels = topic.split("/")
        for i, level in enumerate(levels):
            if "#" in level and (level != "#" or i != len(levels) - 1):
                problems.append(NodeProblem("schema", ("params", "topic"), "# must be a whole last topic level"))
            if "+" in level and level != "+":
                problems.append(NodeProblem("schema", ("params", "topic"), "+ must be a whole topic level"))
        key = node.params["key"]
        if key.startswith("topic:") and "#" not in levels and int(key[6:]) >= len(levels):
            problems.append(
                NodeProblem("schema", ("params", "key"), f"{key}: the topic filter has only {len(levels)} levels")
            )
        schema = node.params["schema"]
        invalid = check_schema(schema)
        if invalid is not None:
            problems.append(NodeProblem("schema", ("params", "schema"), f"not a valid JSON Schema: {invalid}"))
        for path in schema_references(schema):
            message = f"{path[-1]} is not supported in a payload schema: write the schema inline"
            problems.append(NodeProblem("schema", ("params", "schema", *path), message))
        # Regexes that could run for minutes on a hostile payload (docs/graph-format.md).
        for path, message in schema_pattern_problems(schema):
            problems.append(NodeProblem("schema", ("params", "schema", *path), message))
        return problems

    def output_type(self, node, in_types):
        return PortType("record", schema=node.params["schema"])

    def make_step(self, node):
        return lambda ins, state, ev: ev.record
