"""Train the models of the built-in blueprints and export them to ONNX.

    python -m blueprints.builtin.training.train [--check]

Rewrites, byte for byte identically on every run (fixed seeds, fixed ONNX metadata):

- ``smart-warehouse-safety/models/person_presence.onnx``: LogisticRegression on
  [thermal_c, motion_level, lidar_blob_m2]; outputs ``label`` [N] and ``probabilities`` [N, 2]
  (column 1 = P(person)).
- ``predictive-maintenance/models/motor_anomaly.onnx``: IsolationForest on
  [vib_rms_mm_s, temp_c, current_a, rpm] of healthy motors; outputs ``label`` [N, 1] (1 normal,
  -1 anomaly) and ``scores`` [N, 1] (sklearn's ``decision_function``: below 0 = anomalous).
- ``predictive-maintenance/models/motor_thermal.onnx``: LinearRegression of the frame
  temperature on [current_a^2, rpm] of healthy motors; output ``variable`` [N, 1] in degC.

Every model takes one input named ``input``, float32 [None, N]; ONNX opset 21 (ai.onnx.ml 3),
IR version 10. ``--check`` retrains in memory and exits 1 if a committed file differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.ensemble import IsolationForest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, mean_absolute_error, r2_score, roc_auc_score

from blueprints.builtin.training import datasets

ROOT = Path(__file__).resolve().parent.parent
TARGET_OPSET = {"": 21, "ai.onnx.ml": 3}
PRODUCER = "aiot-studio-training"
PRODUCER_VERSION = "1.0.0"


def _export(model, n_features: int, name: str, doc: str, options=None) -> bytes:
    onx = convert_sklearn(
        model,
        name=name,
        initial_types=[("input", FloatTensorType([None, n_features]))],
        target_opset=TARGET_OPSET,
        options=options,
    )
    onx.ir_version = 10
    # skl2onnx collects the opsets in a set (order varies from run to run, duplicates possible)
    # and declares the lowest ai.onnx.ml version its operators need (1 for the linear models).
    # Declare exactly TARGET_OPSET for the domains used, in a fixed order, so that every model
    # of a bundle shares one opset per domain and the bytes are identical on every run.
    domains = sorted({o.domain for o in onx.opset_import} | {""})
    del onx.opset_import[:]
    for domain in domains:
        onx.opset_import.add(domain=domain, version=TARGET_OPSET[domain])
    onx.producer_name = PRODUCER
    onx.producer_version = PRODUCER_VERSION
    onx.domain = "io.aiot-studio.blueprints"
    onx.model_version = 1
    onx.doc_string = doc
    onx.graph.name = name
    onx.graph.doc_string = ""
    del onx.metadata_props[:]
    onnx.checker.check_model(onx, full_check=True)
    return onx.SerializeToString()


def _run(blob: bytes, x: np.ndarray) -> dict[str, np.ndarray]:
    sess = ort.InferenceSession(blob, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    return dict(zip(names, sess.run(None, {"input": x.astype(np.float32)}), strict=True))


def person_presence() -> tuple[bytes, dict]:
    x, y = datasets.person_presence(n=6000, seed=7)
    n_train = 4500
    model = LogisticRegression(C=1.0, max_iter=1000)
    model.fit(x[:n_train], y[:n_train])
    blob = _export(
        model,
        3,
        "person_presence",
        "P(person within 6 m ahead of a forklift) from [thermal_c, motion_level, lidar_blob_m2]."
        " LogisticRegression trained on blueprints/builtin/training/datasets.py person_presence"
        " (seed 7). Outputs: label [N], probabilities [N,2] (column 1 = person).",
        options={id(model): {"zipmap": False}},
    )
    out = _run(blob, x[n_train:])
    proba = out["probabilities"][:, 1]
    skl = model.predict_proba(x[n_train:])[:, 1]
    metrics = {
        "test_rows": len(x) - n_train,
        "accuracy@0.5": round(float(accuracy_score(y[n_train:], proba > 0.5)), 4),
        "accuracy@0.7": round(float(accuracy_score(y[n_train:], proba > 0.7)), 4),
        "roc_auc": round(float(roc_auc_score(y[n_train:], proba)), 4),
        "max_abs_diff_vs_sklearn": float(np.abs(proba - skl).max()),
    }
    return blob, metrics


def motor_models() -> tuple[bytes, bytes, dict, dict]:
    # Unlabelled fleet history: about 2 % of the rows come from machines with a developing
    # fault, as in any real plant; the forest isolates them, and ``contamination`` puts the
    # decision boundary (score 0) at that share.
    x_train, _ = datasets.motor_health(n=4000, seed=11, fault_fraction=0.02)
    x_test, y_test = datasets.motor_health(n=4000, seed=12, fault_fraction=0.2)
    kind_test = datasets.motor_fault_kinds(n=4000, seed=12)

    iso = IsolationForest(n_estimators=28, max_samples=128, contamination=0.02, random_state=42)
    iso.fit(x_train)
    anomaly = _export(
        iso,
        4,
        "motor_anomaly",
        "Anomaly score of a one-minute motor summary [vib_rms_mm_s, temp_c, current_a, rpm]."
        " IsolationForest trained on healthy rows of blueprints/builtin/training/datasets.py"
        " motor_health (seed 11). Outputs: label [N,1] (1 normal, -1 anomaly),"
        " scores [N,1] (decision_function; < 0 anomalous).",
    )
    out = _run(anomaly, x_test)
    scores = out["scores"].reshape(-1)
    flagged = scores < 0.0
    anomaly_metrics = {
        "test_rows": len(x_test),
        "test_faults": int(y_test.sum()),
        "detection_rate@0": round(float(flagged[y_test == 1].mean()), 4),
        "false_alarm_rate@0": round(float(flagged[y_test == 0].mean()), 4),
        "accuracy@0": round(float(accuracy_score(y_test, flagged)), 4),
        "detection_rate@0_by_fault": {
            name: round(float(flagged[(y_test == 1) & (kind_test == k)].mean()), 4)
            for k, name in enumerate(datasets.MOTOR_FAULTS)
        },
        "roc_auc": round(float(roc_auc_score(y_test, -scores)), 4),
        "max_abs_diff_vs_sklearn": float(np.abs(scores - iso.decision_function(x_test)).max()),
    }

    x_healthy, _ = datasets.motor_health(n=4000, seed=11)
    reg = LinearRegression()
    reg.fit(datasets.thermal_features(x_healthy), x_healthy[:, 1])
    thermal = _export(
        reg,
        2,
        "motor_thermal",
        "Expected stator frame temperature (degC) of a healthy motor from [current_a^2, rpm]."
        " LinearRegression trained on healthy rows of blueprints/builtin/training/datasets.py"
        " motor_health (seed 11). Output: variable [N,1].",
    )
    pred = _run(thermal, datasets.thermal_features(x_test))["variable"].reshape(-1)
    healthy = y_test == 0
    excess = x_test[:, 1] - pred
    cooling = (y_test == 1) & (kind_test == datasets.MOTOR_FAULTS.index("cooling_failure"))
    thermal_metrics = {
        "test_rows_healthy": int(healthy.sum()),
        "r2": round(float(r2_score(x_test[healthy, 1], pred[healthy])), 4),
        "mae_c": round(float(mean_absolute_error(x_test[healthy, 1], pred[healthy])), 3),
        "false_alarm_rate@excess>15C": round(float((excess[healthy] > 15.0).mean()), 4),
        "cooling_failure_detection@excess>15C": round(float((excess[cooling] > 15.0).mean()), 4),
        "coef": [round(float(c), 5) for c in reg.coef_],
        "intercept": round(float(reg.intercept_), 4),
    }
    return anomaly, thermal, anomaly_metrics, thermal_metrics


def build() -> tuple[dict[Path, bytes], dict[str, dict]]:
    person, person_metrics = person_presence()
    anomaly, thermal, anomaly_metrics, thermal_metrics = motor_models()
    files = {
        ROOT / "smart-warehouse-safety" / "models" / "person_presence.onnx": person,
        ROOT / "predictive-maintenance" / "models" / "motor_anomaly.onnx": anomaly,
        ROOT / "predictive-maintenance" / "models" / "motor_thermal.onnx": thermal,
    }
    metrics = {
        "person_presence": person_metrics,
        "motor_anomaly": anomaly_metrics,
        "motor_thermal": thermal_metrics,
    }
    return files, metrics


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if a committed model differs from a fresh training"
    )
    args = parser.parse_args(argv)
    files, metrics = build()
    status = 0
    for path, blob in files.items():
        rel = path.relative_to(ROOT)
        if args.check:
            same = path.exists() and path.read_bytes() == blob
            sys.stdout.write(f"{rel}: {'ok' if same else 'DIFFERS'}\n")
            status |= 0 if same else 1
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(blob)
            sys.stdout.write(f"{rel}: {len(blob)} bytes\n")
    for name, m in metrics.items():
        sys.stdout.write(f"{name}: {m}\n")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
