"""Seeded synthetic data sets for the models of the built-in blueprints.

Every generator takes a ``seed`` and returns the same numbers for the same seed on every machine
(numpy's PCG64 ``default_rng``).  The numbers are synthetic but follow the physics or the field
heuristics written next to each column, so that the models behave sensibly on real-looking
telemetry and on the hand-written scenario traces.

Data sets
---------
``person_presence``  -> Smart Warehouse Safety Monitor, ``models/person_presence.onnx``
``motor_health``     -> Predictive Maintenance, ``models/motor_anomaly.onnx`` (healthy rows only)
                        and ``models/motor_thermal.onnx`` (healthy rows only)
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "MOTOR_FEATURES",
    "PERSON_FEATURES",
    "THERMAL_FEATURES",
    "motor_fault_kinds",
    "motor_health",
    "person_presence",
    "thermal_features",
]

# Column order = the model's input order = the graph's in1, in2, ... ports.
PERSON_FEATURES = ("thermal_c", "motion_level", "lidar_blob_m2")
MOTOR_FEATURES = ("vib_rms_mm_s", "temp_c", "current_a", "rpm")
THERMAL_FEATURES = ("current_a_sq", "rpm")
# motor_health fault kinds, by the index motor_fault_kinds returns.
MOTOR_FAULTS = ("bearing_wear", "misalignment", "overload", "cooling_failure")


def person_presence(n: int = 6000, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Frames of a forklift's forward-looking person sensor kit.

    Columns (float32, in ``PERSON_FEATURES`` order):

    - ``thermal_c``: hottest cell of an 8x8 thermopile array looking ahead, in degC. A person
      (clothed, 1-6 m away) reads 27-35 degC: skin is ~33 degC and clothing and distance pull the
      reading towards ambient. An empty aisle reads the ambient air, 8-25 degC in a
      non-refrigerated warehouse.
    - ``motion_level``: 0-1, the fraction of radar range-Doppler cells ahead with micro-motion
      (breathing, walking, arm swing). A walking or working person gives 0.3-0.9; racking and
      parked pallets give ~0.05.
    - ``lidar_blob_m2``: frontal area in m^2 of the largest non-static point cluster of the 2D
      lidar. An adult seen from the front or side is 0.3-0.8 m^2.

    Label: 1 when a person is within the sensor's 6 m field of view, else 0.

    Hard negatives (about a fifth of the empty frames) keep the classifier honest: warm
    machinery (battery chargers, another forklift's motor at 30-45 degC but no micro-motion and a
    small blob), swinging strip curtains and loose shrink-wrap (motion but ambient temperature),
    and pallets being moved by another truck (a large, moving, ambient-temperature blob). Hard
    positives: a person standing still (low motion) or partly hidden (small blob), and cold-store
    workers in insulated clothing (cooler thermal reading).
    """
    rng = np.random.default_rng(seed)
    n_pos = int(n * 0.4)
    n_neg = n - n_pos

    # People.
    ambient = rng.uniform(8.0, 25.0, n_pos)
    skin_view = rng.uniform(0.55, 0.95, n_pos)  # fraction of the hottest cell the person fills
    thermal = ambient + skin_view * (33.0 - ambient) + rng.normal(0.0, 1.0, n_pos)
    insulated = rng.random(n_pos) < 0.10  # cold-store clothing
    thermal[insulated] -= rng.uniform(3.0, 8.0, insulated.sum())
    motion = np.clip(rng.normal(0.55, 0.18, n_pos), 0.0, 1.0)
    still = rng.random(n_pos) < 0.10
    motion[still] = np.clip(rng.normal(0.15, 0.06, still.sum()), 0.0, 1.0)
    blob = np.clip(rng.normal(0.55, 0.14, n_pos), 0.05, 1.2)
    hidden = rng.random(n_pos) < 0.10
    blob[hidden] *= rng.uniform(0.3, 0.6, hidden.sum())
    pos = np.column_stack([thermal, motion, blob])

    # No person.
    ambient = rng.uniform(8.0, 25.0, n_neg)
    thermal = ambient + rng.normal(0.0, 1.2, n_neg)
    motion = np.clip(rng.normal(0.06, 0.04, n_neg), 0.0, 1.0)
    blob = np.clip(rng.exponential(0.08, n_neg), 0.0, 3.0)
    kind = rng.random(n_neg)
    warm = kind < 0.08  # warm machinery
    thermal[warm] = rng.uniform(30.0, 45.0, warm.sum())
    blob[warm] = rng.uniform(0.0, 0.3, warm.sum())
    flap = (kind >= 0.08) & (kind < 0.14)  # strip curtains, shrink-wrap
    motion[flap] = rng.uniform(0.3, 0.8, flap.sum())
    blob[flap] = rng.uniform(0.1, 0.6, flap.sum())
    pallet = (kind >= 0.14) & (kind < 0.18)  # pallets moved by another truck
    motion[pallet] = rng.uniform(0.2, 0.6, pallet.sum())
    blob[pallet] = rng.uniform(1.2, 2.5, pallet.sum())
    neg = np.column_stack([thermal, motion, blob])

    x = np.vstack([pos, neg]).astype(np.float32)
    y = np.concatenate([np.ones(n_pos, np.int64), np.zeros(n_neg, np.int64)])
    order = rng.permutation(n)
    return x[order], y[order]


def motor_health(n: int = 4000, seed: int = 11, fault_fraction: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """One-minute condition-monitoring summaries of a 15 kW, 4-pole, 50 Hz induction motor
    driving a fan or pump (ISO 10816-3 group 2, flexible mounting).

    Columns (float32, in ``MOTOR_FEATURES`` order):

    - ``vib_rms_mm_s``: RMS vibration velocity (10-1000 Hz) on the drive-end bearing housing,
      mm/s. Healthy machines of this class run at 0.9-2.2 mm/s (ISO 10816-3 zones A/B), a little
      higher at high load.
    - ``temp_c``: stator frame temperature, degC: ambient (18-32 degC) plus copper losses, which
      grow with the square of the current (0.05 degC/A^2: +42 degC at the 29 A rating), minus a
      little for the shaft fan cooling better at higher speed.
    - ``current_a``: RMS phase current, A: ~9 A magnetising current at no load, 29 A at full load.
    - ``rpm``: shaft speed: 1500 rpm synchronous minus slip, 40 rpm at full load.

    The load fraction L is uniform in 0.3-1.05 of rating.

    Label: 0 healthy, 1 faulty. With ``fault_fraction`` > 0, that share of rows are faults, in
    equal parts: bearing wear (vibration x2-4, +5-15 degC), misalignment/unbalance (+2-5 mm/s, +2
    A), overload (L = 1.15-1.45: high current, low speed, hot), and cooling failure (a blocked fan
    cowl: +20-35 degC at normal load).
    """
    rng = np.random.default_rng(seed)
    load = rng.uniform(0.3, 1.05, n)
    ambient = rng.uniform(18.0, 32.0, n)
    base_vib = rng.uniform(0.9, 1.9, n)
    faulty = rng.random(n) < fault_fraction
    kind = rng.integers(0, len(MOTOR_FAULTS), n)

    overload = faulty & (kind == 2)
    load[overload] = rng.uniform(1.15, 1.45, overload.sum())

    current = 9.0 + 20.0 * load + rng.normal(0.0, 0.4, n)
    rpm = 1500.0 - 40.0 * load + rng.normal(0.0, 1.5, n)
    temp = ambient + 0.05 * current**2 - 0.02 * (rpm - 1470.0) + rng.normal(0.0, 1.2, n)
    vib = base_vib + 0.3 * load + rng.normal(0.0, 0.12, n)

    bearing = faulty & (kind == 0)
    vib[bearing] *= rng.uniform(2.0, 4.0, bearing.sum())
    temp[bearing] += rng.uniform(5.0, 15.0, bearing.sum())
    misalign = faulty & (kind == 1)
    vib[misalign] += rng.uniform(2.0, 5.0, misalign.sum())
    current[misalign] += 2.0
    cooling = faulty & (kind == 3)
    temp[cooling] += rng.uniform(20.0, 35.0, cooling.sum())

    x = np.column_stack([np.clip(vib, 0.05, None), temp, current, rpm]).astype(np.float32)
    return x, faulty.astype(np.int64)


def thermal_features(x_motor: np.ndarray) -> np.ndarray:
    """The thermal model's inputs from ``motor_health`` rows: [current_a^2, rpm] (float32).

    In the graph, ``current_a^2`` is a ``math.mul`` of the current with itself.
    """
    current = x_motor[:, 2].astype(np.float64)
    return np.column_stack([current * current, x_motor[:, 3]]).astype(np.float32)


def motor_fault_kinds(n: int = 4000, seed: int = 11) -> np.ndarray:
    """The fault kind (index into ``MOTOR_FAULTS``) that ``motor_health(n, seed, ...)`` drew for
    each row; it applies only where that call's label is 1."""
    rng = np.random.default_rng(seed)
    rng.uniform(0.3, 1.05, n)
    rng.uniform(18.0, 32.0, n)
    rng.uniform(0.9, 1.9, n)
    rng.random(n)
    return rng.integers(0, len(MOTOR_FAULTS), n)
