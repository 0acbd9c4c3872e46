"""Device models: what a salinity station, a backup well, a public tap, a gate sensor and an
upstream river station measure over time.

Each model is deterministic for its random generator and keeps its state between calls, so a
season can be produced chunk by chunk. Values are the truth plus sensor noise; faults are added on
top by ``sim.faults``. Well and tap numbers are placeholders (docs/domain.md §6: not found in
sources).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from saltwatch.core.registry import Device
from saltwatch.core.timeutil import in_hours, local_hour
from saltwatch.core.units import ec_from_salinity
from saltwatch.sim.salinity import DAY_S, Scenario
from saltwatch.sim.tide import FloatArray, tide_level

HOUR_S = 3600.0
#: Salinity of the water inside the Gò Công scheme and in the supply ponds (‰), before leakage.
FRESH_PPT = 0.15


@dataclass(slots=True)
class Sample:
    """One measurement: the values a device reports and the truth behind them."""

    t_s: float
    values: dict[str, Any]
    truth: float | None = None  # the main true value (salinity), for the ground truth


def water_temp(t_s: FloatArray) -> FloatArray:
    """River water temperature: ~29 °C, warmer in April, a small daily cycle."""
    day_of_year = (t_s / DAY_S) % 365.25
    seasonal = 1.5 * np.sin(2 * np.pi * (day_of_year - 20) / 365.25)
    daily = 0.6 * np.sin(2 * np.pi * (((t_s / HOUR_S) + 7.0) % 24.0 - 9.0) / 24.0)
    result: FloatArray = 28.5 + seasonal + daily
    return result


class StationModel:
    """A salinity station on the river (km known) or inside the scheme / a supply pond."""

    def __init__(self, device: Device, scenario: Scenario, rng: np.random.Generator) -> None:
        self.device = device
        self.scenario = scenario
        self.rng = rng
        self.battery = 3.95

    def true_salinity(self, t_s: FloatArray) -> FloatArray:
        if self.device.km is not None:
            return self.scenario.salinity(self.device.km, t_s)
        # no km: inside the sweetening scheme or a pond: fresh, a slow seasonal leak of salt
        leak: FloatArray = FRESH_PPT + 0.25 * self.scenario.envelope(t_s) ** 2
        return leak

    def samples(self, t_s: FloatArray) -> list[Sample]:
        truth = self.true_salinity(t_s)
        temp = water_temp(t_s) + self.rng.normal(0, 0.05, t_s.size)
        noisy = np.clip(
            truth * (1 + self.rng.normal(0, 0.01, t_s.size)) + self.rng.normal(0, 0.003, t_s.size),
            0.0,
            None,
        )
        km = self.device.km or 0.0
        level = tide_level(t_s - (km / 15.0) * HOUR_S) * max(0.3, 1 - km / 150.0) + 0.2
        out: list[Sample] = []
        for i, t in enumerate(t_s):
            self.battery = 3.95 + 0.15 * math.sin(2 * math.pi * (local_hour(t) - 12) / 24)
            values: dict[str, Any] = {}
            reports = self.device.reports
            if reports == "ec":
                values["ec_us_cm"] = round(ec_from_salinity(float(noisy[i]), float(temp[i])), 1)
                values["temp_c"] = round(float(temp[i]), 2)
            elif reports == "ec25":
                values["ec25_us_cm"] = round(ec_from_salinity(float(noisy[i]), 25.0), 1)
            else:
                values["salinity_ppt"] = round(float(noisy[i]), 3)
                values["temp_c"] = round(float(temp[i]), 2)
            if self.device.km is not None:
                values["level_m"] = round(float(level[i]), 3)
            values["battery_v"] = round(self.battery, 2)
            out.append(Sample(float(t), values, float(truth[i])))
        return out


@dataclass(slots=True)
class WellModel:
    """A backup well pump: runs in its hours, draws the water level down, can fault."""

    device: Device
    scenario: Scenario
    rng: np.random.Generator
    level_m: float = 8.0  # water level below ground
    runtime_h: float = 0.0
    fault: str | None = None
    fault_until: float = 0.0
    last_t: float | None = None
    fault_per_day: float = 0.05
    static_level_m: float = field(default=8.0)
    base_salinity: float = 0.25  # groundwater; docs/domain.md §6 gives no figure (placeholder)
    salt_factor: float = 1.0  # how much the season reaches this well

    def __post_init__(self) -> None:
        self.salt_factor = float(self.rng.uniform(0.3, 1.8))  # a few wells turn brackish

    def samples(self, t_s: FloatArray) -> list[Sample]:
        rated = self.device.rated_flow_m3h or 30.0
        out: list[Sample] = []
        for t in (float(x) for x in t_s):
            step_h = 0.0 if self.last_t is None else (t - self.last_t) / HOUR_S
            self.last_t = t
            if self.fault and t >= self.fault_until:
                self.fault = None  # repaired
            elif not self.fault and self.rng.random() < self.fault_per_day * step_h / 24:
                self.fault = "overcurrent" if self.rng.random() < 0.6 else "dry_run"
                self.fault_until = t + self.rng.uniform(2, 12) * HOUR_S
            running = self.fault is None and in_hours(self.device.hours, t)
            target = self.static_level_m + (6.0 if running else 0.0)
            self.level_m = target + (self.level_m - target) * math.exp(-step_h / 0.8)
            if running:
                self.runtime_h += step_h
            flow = rated * (1 + self.rng.normal(0, 0.03)) if running else 0.0
            season = float(self.scenario.envelope(np.array([t]))[0])
            salinity = self.base_salinity + 0.12 * self.salt_factor * season
            values: dict[str, Any] = {
                "running": running,
                "flow_m3h": round(max(flow, 0.0), 2),
                "pressure_bar": round(2.4 + self.rng.normal(0, 0.05), 2) if running else 0.0,
                "level_m": round(self.level_m + self.rng.normal(0, 0.02), 2),
                "salinity_ppt": round(salinity + self.rng.normal(0, 0.01), 3),
                "fault": self.fault,
                "runtime_h": round(self.runtime_h, 2),
            }
            out.append(Sample(t, values, salinity))
        return out


@dataclass(slots=True)
class TapModel:
    """A public tap: open in its hours, people draw water, the tank drains and is refilled."""

    device: Device
    rng: np.random.Generator
    tank_pct: float = 100.0
    volume_m3: float = 0.0
    refilling: bool = False
    last_t: float | None = None

    def samples(self, t_s: FloatArray) -> list[Sample]:
        tank_m3 = self.device.tank_m3 or 3.0
        out: list[Sample] = []
        for t in (float(x) for x in t_s):
            step_min = 0.0 if self.last_t is None else (t - self.last_t) / 60.0
            self.last_t = t
            is_open = in_hours(self.device.hours, t)
            busy = 0.5 + 0.5 * math.sin(math.pi * (local_hour(t) - 6) / 12) if is_open else 0.0
            drawing = is_open and self.tank_pct > 2
            flow = max(0.0, self.rng.normal(25.0 * busy, 4.0)) if drawing else 0.0
            drawn = flow * step_min / 1000.0
            self.volume_m3 += drawn
            self.tank_pct = max(0.0, self.tank_pct - 100.0 * drawn / tank_m3)
            if self.tank_pct < 20.0:
                self.refilling = True
            if self.refilling:
                self.tank_pct = min(100.0, self.tank_pct + 100.0 * step_min / 30.0)
                self.refilling = self.tank_pct < 100.0
            values: dict[str, Any] = {
                "open": is_open,
                "flow_lpm": round(flow, 2),
                "volume_m3": round(self.volume_m3, 3),
                "tank_pct": round(self.tank_pct, 1),
            }
            out.append(Sample(t, values, None))
        return out


#: the practice at the Gò Công gates (docs/domain.md "Structures"; observed, not a rule)
CLOSE_ABOVE_PPT = 1.0
OPEN_BELOW_PPT = 0.5


@dataclass(slots=True)
class GateModel:
    """A structure's gate sensor: the crew closes the gate once the water outside reaches
    ``CLOSE_ABOVE_PPT`` and opens it again below ``OPEN_BELOW_PPT``; a gate can stick open
    (``stuck_open_per_day``, 2–8 h: the sensor then reports it open whatever the water), and the
    sensor can go wrong (``wrong_per_day``, 2–6 h: it reports the opposite of what the crew did,
    so it contradicts the operator's entry; from ``wrong_until`` at the start when given)."""

    guard: StationModel | None
    rng: np.random.Generator
    stuck_open_per_day: float = 0.0
    interval_s: float = 900.0
    is_open: bool = True
    stuck_until: float = -1.0
    wrong_per_day: float = 0.0
    wrong_until: float = -1.0
    #: the sensor fault's own draws: the crew's (and a stuck gate's) stay as they were
    sensor_rng: np.random.Generator | None = None

    def samples(self, t_s: FloatArray) -> list[Sample]:
        outside = self.guard.true_salinity(t_s) if self.guard else np.full(t_s.size, FRESH_PPT)
        out: list[Sample] = []
        for t, ppt in zip((float(x) for x in t_s), outside, strict=True):
            chance = self.stuck_open_per_day * self.interval_s / DAY_S
            if t >= self.stuck_until and chance and self.rng.random() < chance:
                self.stuck_until = t + self.rng.uniform(2, 8) * HOUR_S
            if t < self.stuck_until:
                self.is_open = True
            elif ppt >= CLOSE_ABOVE_PPT:
                self.is_open = False
            elif ppt < OPEN_BELOW_PPT:
                self.is_open = True
            said = self.is_open != self._wrong(t)
            values = {"state": "open" if said else "closed"}
            values["opening_pct"] = 100.0 if said else 0.0  # type: ignore[assignment]
            out.append(Sample(t, values, float(ppt)))
        return out

    def _wrong(self, t: float) -> bool:
        """The sensor reports the opposite of the gate now."""
        chance = self.wrong_per_day * self.interval_s / DAY_S
        rng = self.sensor_rng
        if t >= self.wrong_until and chance and rng is not None and rng.random() < chance:
            self.wrong_until = t + rng.uniform(2, 6) * HOUR_S
        return t < self.wrong_until


class HydroModel:
    """A river station upstream (another agency's: discharge and water level), following the
    scenario's upstream discharge; its level a rating-curve placeholder plus the tide that still
    reaches it in the dry season [UNVERIFIED]."""

    def __init__(self, device: Device, scenario: Scenario, rng: np.random.Generator) -> None:
        self.device = device
        self.scenario = scenario
        self.rng = rng

    def samples(self, t_s: FloatArray) -> list[Sample]:
        q = self.scenario.discharge_m3s(t_s) * (1 + self.rng.normal(0, 0.02, t_s.size))
        km = self.device.km or 0.0
        tide = tide_level(t_s - (km / 15.0) * HOUR_S) * max(0.15, 1 - km / 150.0)
        stage = 0.4 + 0.5 * np.log(q / self.scenario.q_dry_m3s) + tide
        return [
            Sample(
                float(t),
                {
                    "discharge_m3s": round(float(q[i]), 1),
                    "level_m": round(float(stage[i]), 3),
                    "battery_v": 12.6,
                },
                float(q[i]),
            )
            for i, t in enumerate(t_s)
        ]


Model = StationModel | WellModel | TapModel | GateModel | HydroModel


def model_for(
    device: Device,
    scenario: Scenario,
    rng: np.random.Generator,
    guard: Device | None = None,
    stuck_open_per_day: float = 0.0,
    wrong_per_day: float = 0.0,
    sensor_rng: np.random.Generator | None = None,
) -> Model:
    """The model of ``device``; a gate sensor's follows the water at ``guard``, its structure's
    guard station."""
    if device.kind == "salinity":
        return StationModel(device, scenario, rng)
    if device.kind == "well":
        return WellModel(device, scenario, rng)
    if device.kind == "gate":
        outside = StationModel(guard, scenario, rng) if guard else None
        interval = float(device.interval_s)
        return GateModel(
            outside, rng, stuck_open_per_day, interval, wrong_per_day=wrong_per_day,
            sensor_rng=sensor_rng,
        )  # fmt: skip
    if device.kind == "hydro":
        return HydroModel(device, scenario, rng)
    return TapModel(device, rng)
