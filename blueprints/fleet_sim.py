"""Simulated sensors for the built-in blueprints, seeded and reproducible.

Forklifts drive through aisles, docks and the yard, now and then closing on a pedestrian;
reefers hold their setpoint until a door stays open and the temperature climbs; motors run
smoothly except one whose bearing wears, its vibration drifting towards failure. Each gateway's
sensors publish under its own topic prefix (``gw-01/site/…``), as sites bridged into one broker.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field

ZONES = ("aisle", "dock", "yard")


@dataclass
class Forklift:
    name: str
    rng: random.Random
    speed: float = 5.0
    zone: str = "aisle"
    obstacle: float = 15.0
    person: bool = False
    t: int = 0

    def step(self) -> tuple[str, dict]:
        r = self.rng
        self.t += 1
        if r.random() < 0.05:
            self.zone = r.choice(ZONES)
        self.speed = min(18.0, max(0.0, self.speed + r.gauss(0, 1.2)))
        if not self.person and r.random() < 0.03:  # someone steps out ahead
            self.person, self.obstacle = True, r.uniform(6, 9)
        if self.person:
            self.obstacle -= max(0.4, self.speed / 8)
            if self.obstacle < 0.6:
                self.person, self.obstacle = False, r.uniform(10, 25)
        else:
            self.obstacle = min(30.0, max(3.0, self.obstacle + r.gauss(0, 1)))
        payload = {
            "speed_kmh": round(self.speed, 2),
            "zone": self.zone,
            "proximity_m": round(max(0.3, self.obstacle), 2),
            "thermal_c": round(r.uniform(31, 35) if self.person else r.uniform(18, 26), 1),
            "motion_level": round(r.uniform(0.6, 0.95) if self.person else r.uniform(0.0, 0.25), 3),
            "lidar_blob_m2": round(r.uniform(0.45, 0.8) if self.person else r.uniform(0.0, 0.2), 3),
        }
        return f"site/s1/forklift/{self.name}/telemetry", payload


@dataclass
class Reefer:
    name: str
    rng: random.Random
    temp: float = 4.0
    door_open_for: int = 0
    setpoint: float = 4.0

    def step(self) -> list[tuple[str, dict]]:
        r = self.rng
        if self.door_open_for == 0 and r.random() < 0.02:
            self.door_open_for = r.randint(8, 40)
        out = []
        if self.door_open_for:
            self.door_open_for -= 1
            self.temp += r.uniform(0.1, 0.35)
            out.append(("coldchain/dc1/door", {"unit_id": self.name, "open": self.door_open_for > 0}))
        else:
            self.temp += (self.setpoint - self.temp) * 0.15 + r.gauss(0, 0.05)
        self.temp = min(20.0, self.temp)
        out.append(
            (
                "coldchain/dc1/telemetry",
                {"unit_id": self.name, "temp_c": round(self.temp, 2), "setpoint_c": self.setpoint},
            )
        )
        return out


@dataclass
class Motor:
    name: str
    rng: random.Random
    wearing: bool = False
    wear: float = 0.0
    current: float = 40.0

    def step(self) -> tuple[str, dict]:
        r = self.rng
        if self.wearing:
            self.wear += r.uniform(0.005, 0.03)
        self.current = min(120.0, max(20.0, self.current + r.gauss(0, 2)))
        vib = 1.8 + self.wear * 3 + abs(r.gauss(0, 0.25))
        temp = 35 + 0.004 * self.current**2 + self.wear * 6 + r.gauss(0, 0.5)
        payload = {
            "vib_rms_mm_s": round(vib, 3),
            "temp_c": round(temp, 2),
            "current_a": round(self.current, 2),
            "rpm": round(1480 + r.gauss(0, 5), 1),
        }
        return f"plant/p1/motor/{self.name}/telemetry", payload


@dataclass
class Site:
    """One gateway's sensors."""

    prefix: str
    blueprint: str
    seed: int
    sensors: list = field(default_factory=list)

    def __post_init__(self) -> None:
        rng = random.Random(self.seed)
        gw = self.prefix.strip("/")
        if self.blueprint == "smart-warehouse-safety":
            self.sensors = [Forklift(f"{gw}-fl{i}", random.Random(rng.random())) for i in range(4)]
        elif self.blueprint == "cold-chain-monitor":
            self.sensors = [Reefer(f"{gw}-r{i}", random.Random(rng.random())) for i in range(3)]
        else:
            self.sensors = [Motor(f"{gw}-m{i}", random.Random(rng.random()), wearing=(i == 0)) for i in range(3)]

    def tick(self, now_ms: float) -> list[tuple[str, bytes]]:
        out = []
        for sensor in self.sensors:
            produced = sensor.step()
            for topic, payload in produced if isinstance(produced, list) else [produced]:
                payload = {"ts": round(now_ms), **payload}
                out.append((self.prefix + topic, json.dumps(payload, separators=(",", ":")).encode()))
        return out
