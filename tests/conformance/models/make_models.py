"""Build the tiny ONNX models used by the model.onnx conformance cases.

Run from anywhere: ``python tests/conformance/models/make_models.py``. The output is
deterministic (no random weights, fixed producer fields), so re-running it leaves the
committed ``.onnx`` files byte-for-byte unchanged.

Models (float32 everywhere):

- ``linear.onnx``: input ``input`` [None, 2] -> output ``y`` [None, 1],
  y = 2*x1 - x2 + 0.5.
- ``two_outputs.onnx``: input ``input`` [None, 2] -> outputs, in this order,
  ``s`` [None, 1] = x1 + x2 and ``p`` [None, 2] = [x1 * x2, x1 - x2].
- ``sqrt.onnx``: input ``input`` [None, 1] -> output ``r`` [None, 1] = sqrt(x)
  (NaN for a negative x).
"""

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = Path(__file__).resolve().parent
OPSET = [helper.make_opsetid("", 21)]
IR_VERSION = 10


def _save(graph: onnx.GraphProto, name: str) -> None:
    model = helper.make_model(
        graph,
        opset_imports=OPSET,
        ir_version=IR_VERSION,
        producer_name="aiot-conformance",
        producer_version="1",
    )
    onnx.checker.check_model(model)
    (HERE / name).write_bytes(model.SerializeToString(deterministic=True))


def _tensor(name: str, values, shape) -> TensorProto:
    return numpy_helper.from_array(np.asarray(values, dtype=np.float32).reshape(shape), name=name)


def linear() -> None:
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])
    out = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 1])
    nodes = [
        helper.make_node("MatMul", ["input", "W"], ["xw"]),
        helper.make_node("Add", ["xw", "B"], ["y"]),
    ]
    inits = [_tensor("W", [2.0, -1.0], (2, 1)), _tensor("B", [0.5], (1,))]
    _save(helper.make_graph(nodes, "linear", [inp], [out], inits), "linear.onnx")


def two_outputs() -> None:
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 2])
    s = helper.make_tensor_value_info("s", TensorProto.FLOAT, [None, 1])
    p = helper.make_tensor_value_info("p", TensorProto.FLOAT, [None, 2])
    nodes = [
        helper.make_node("Split", ["input"], ["x1", "x2"], axis=1, num_outputs=2),
        helper.make_node("Add", ["x1", "x2"], ["s"]),
        helper.make_node("Mul", ["x1", "x2"], ["prod"]),
        helper.make_node("Sub", ["x1", "x2"], ["diff"]),
        helper.make_node("Concat", ["prod", "diff"], ["p"], axis=1),
    ]
    _save(helper.make_graph(nodes, "two_outputs", [inp], [s, p]), "two_outputs.onnx")


def sqrt() -> None:
    inp = helper.make_tensor_value_info("input", TensorProto.FLOAT, [None, 1])
    out = helper.make_tensor_value_info("r", TensorProto.FLOAT, [None, 1])
    nodes = [helper.make_node("Sqrt", ["input"], ["r"])]
    _save(helper.make_graph(nodes, "sqrt", [inp], [out]), "sqrt.onnx")


if __name__ == "__main__":
    linear()
    two_outputs()
    sqrt()
