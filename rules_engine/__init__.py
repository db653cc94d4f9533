"""The rules engine: the ``aiot.graph/v1`` format, node types, validation, the reference interpreter.

Pure Python (stdlib, jsonschema, numpy): it knows nothing of Django, MQTT or ONNX.
"""

from .events import Decoder, Event, Stats
from .interpreter import Interpreter
from .plan import ModelInfo, ModelProvider, Plan, PlanNode
from .problems import GraphInvalid, Problem
from .registry import export_registry, get_kind, kinds
from .trace import Message, TraceError, read_trace
from .validation import build_plan, graph_schema, validate
from .values import dumps

__all__ = [
    "Decoder",
    "Event",
    "GraphInvalid",
    "Interpreter",
    "Message",
    "ModelInfo",
    "ModelProvider",
    "Plan",
    "PlanNode",
    "Problem",
    "Stats",
    "TraceError",
    "build_plan",
    "dumps",
    "export_registry",
    "get_kind",
    "graph_schema",
    "kinds",
    "read_trace",
    "validate",
]
