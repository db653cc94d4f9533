"""ONNX models that ``model.onnx`` nodes use: finding, describing and running them.

This is the model runtime the reference interpreter, the validator and the edge agent's
fallback share (found by ``rules_engine`` through the ``aiot.models`` entry point).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from rules_engine.plan import ModelInfo

__all__ = ["MAX_MODEL_BYTES", "LoadedModel", "OnnxModels", "load_model_bytes"]

MAX_MODEL_BYTES = 64 * 1024 * 1024
ARTIFACT = re.compile(r"^artifact:([0-9a-f]{64})$")

_ORT_TYPES = {
    "tensor(float)": "float32",
    "tensor(double)": "float64",
    "tensor(int64)": "int64",
    "tensor(int32)": "int32",
    "tensor(float16)": "float16",
}


def _session(data: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(data, options, providers=["CPUExecutionProvider"])


@dataclass
class LoadedModel:
    info: ModelInfo
    data: bytes
    session: ort.InferenceSession


def load_model_bytes(ref: str, data: bytes) -> LoadedModel:
    """Describe a model from its bytes; ValueError says what is wrong with it."""
    if len(data) > MAX_MODEL_BYTES:
        raise ValueError(f"model {ref} is {len(data)} bytes; the limit is {MAX_MODEL_BYTES}")
    try:
        session = _session(data)
    except Exception as exc:  # onnxruntime raises its own exception types
        raise ValueError(f"model {ref} cannot be loaded by onnxruntime: {str(exc).splitlines()[0][:300]}") from None
    inputs = session.get_inputs()
    if len(inputs) != 1:
        raise ValueError(f"model {ref} has {len(inputs)} inputs; model.onnx needs one [1, N] tensor input")
    shape = inputs[0].shape
    width = shape[-1] if shape and isinstance(shape[-1], int) else None
    dtype = _ORT_TYPES.get(inputs[0].type)
    if dtype is None:
        raise ValueError(f"model {ref} input is {inputs[0].type}; a float, double or integer tensor is needed")
    outputs = tuple(o.name for o in session.get_outputs())
    info = ModelInfo(ref, inputs[0].name, width, dtype, outputs, hashlib.sha256(data).hexdigest())
    return LoadedModel(info, data, session)


class OnnxModels:
    """Model refs resolved against a base directory (paths) or an artifact store (sha256)."""

    def __init__(self, base_dir: str | None = None, artifact_dir: str | None = None):
        self.base_dir = Path(base_dir) if base_dir else Path.cwd()
        self.artifact_dir = Path(artifact_dir) if artifact_dir else None
        self._loaded: dict[str, LoadedModel] = {}

    def path_of(self, ref: str) -> Path:
        m = ARTIFACT.match(ref)
        if m:
            if self.artifact_dir is None:
                raise LookupError(f"{ref}: no artifact store is configured here")
            return self.artifact_dir / m.group(1)
        return self.base_dir / ref

    def read(self, ref: str) -> bytes:
        """The model file's bytes; LookupError when there is none. Subclasses add other stores."""
        path = self.path_of(ref)
        try:
            if path.stat().st_size > MAX_MODEL_BYTES:
                raise ValueError(f"model {ref} is larger than {MAX_MODEL_BYTES} bytes")
            return path.read_bytes()
        except FileNotFoundError:
            raise LookupError(f"model file {ref} not found (looked at {path})") from None
        except IsADirectoryError:
            raise LookupError(f"model {ref} is a directory, not a file") from None

    def load(self, ref: str) -> LoadedModel:
        if ref not in self._loaded:
            loaded = load_model_bytes(ref, self.read(ref))
            m = ARTIFACT.match(ref)
            if m and loaded.info.sha256 != m.group(1):
                raise ValueError(f"{ref}: the stored file's sha256 is {loaded.info.sha256}")
            self._loaded[ref] = loaded
        return self._loaded[ref]

    def add(self, ref: str, data: bytes) -> ModelInfo:
        """Register a model from bytes (bundles carry theirs)."""
        self._loaded[ref] = load_model_bytes(ref, data)
        return self._loaded[ref].info

    def describe(self, ref: str) -> ModelInfo:
        return self.load(ref).info

    def run_row(self, ref: str, output: str | None, row: list[float]) -> list[float]:
        model = self.load(ref)
        # Two copies of the row: onnxruntime's one-row kernels (GEMV) round differently from its
        # many-row ones, and the compiled engine runs models on whole batches. With two rows the
        # reference takes the same path, so a row's result never depends on the batch around it.
        x = np.asarray([row, row], dtype=np.float64).astype(model.info.input_dtype)
        name = output or model.info.outputs[0]
        (y,) = model.session.run([name], {model.info.input_name: x})
        y = np.asarray(y, dtype=np.float64)
        return y[0].reshape(-1).tolist() if y.ndim > 1 else y[:1].tolist()
