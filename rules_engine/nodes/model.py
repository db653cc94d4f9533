"""``model.onnx``: an ONNX model run on one row of its number inputs."""

from __future__ import annotations

import math

from ..registry import NodeKind, NodeProblem, register
from ..types import NUMBER


@register
class OnnxModel(NodeKind):
    name = "model.onnx"
    group = "models"
    doc = """
    Runs the ONNX `model` on one float row of its inputs in1…inN and gives element `index` of
    its `output` (default: the model's first output). Any missing input, or a NaN result, is
    missing; the model is then not run.
    """
    params_schema = {
        "type": "object",
        "required": ["model"],
        "additionalProperties": False,
        "properties": {
            "model": {
                "type": "string",
                "minLength": 1,
                "maxLength": 512,
                "title": "Model",
                "description": "a path relative to the graph file, or artifact:<sha256>",
            },
            "output": {"type": "string", "maxLength": 256, "title": "Output"},
            "index": {"type": "integer", "minimum": 0, "default": 0, "title": "Index"},
        },
    }
    variadic = ("in", NUMBER, 1)
    output = NUMBER

    def output_type(self, node, in_types):
        self.check_inputs(node, in_types)
        info = node.model
        if info is not None:
            if "output" in node.params and node.params["output"] not in info.outputs:
                raise NodeProblem(
                    "param_value",
                    ("params", "output"),
                    f"the model has no output {node.params['output']!r} (outputs: {', '.join(info.outputs)})",
                )
            width = len([p for p in node.ports if p.name.startswith("in")])
            if info.input_width is not None and width != info.input_width:
                raise NodeProblem(
                    "unfed_input" if width < info.input_width else "unknown_port",
                    (),
                    f"the model takes {info.input_width} inputs; in1…in{width} are fed",
                )
        return NUMBER

    def make_step(self, node):
        ref = node.params["model"]
        output = node.params.get("output") or (node.model.outputs[0] if node.model else None)
        index = int(node.params["index"])

        def step(ins, state, ev):
            if None in ins:
                return None
            row = ev.models.run_row(ref, output, ins)
            if index >= len(row):
                return None
            y = float(row[index])
            return y if math.isfinite(y) else None

        return step

    def lower(self, node, g, ins):
        columns = [g.unsqueeze(g.where(m, v, g.const(0.0))) for v, m in ins]
        row = g.op("Concat", *columns, axis=1) if len(columns) > 1 else columns[0]
        # One extra copy of the first row, so that the model never runs on a single row: its
        # one-row kernels round differently (the reference pads the same way; see models.py).
        first = g.op("Slice", row, g.const([0], "int64"), g.const([1], "int64"), g.const([0], "int64"))
        y = g.merge_model(node, g.op("Concat", row, first, axis=0))
        y = g.op("Slice", y, g.const([0], "int64"), g.batch_size(), g.const([0], "int64"))
        y = g.op("Flatten", y, axis=1)
        picked = g.op("Gather", y, g.const(int(node.params["index"]), "int64"), axis=1)
        return g.number(g.op("Cast", picked, to=11), *[m for _, m in ins])  # 11: DOUBLE
