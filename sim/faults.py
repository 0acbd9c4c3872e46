"""Faults a field network has, each with its own rate (docs/interface.md §2 says how SaltWatch
treats them).

Rates of episodes are per device per day; rates of single-message faults are probabilities per
message. Setting a rate to 0 turns the fault off.
"""

from __future__ import annotations

from dataclasses import dataclass, fields


@dataclass(frozen=True, slots=True)
class FaultRates:
    silent_per_day: float = 0.03  # the device goes quiet 1–6 h (its last will says offline)
    store_forward_per_day: float = 0.03  # link down 1–6 h, then the backlog comes as one batch
    flatline_per_day: float = 0.02  # the sensor sticks 2–12 h
    battery_per_day: float = 0.01  # a drained battery for 12 h (reports below 3.3 V)
    clock_per_day: float = 0.01  # the clock runs 2 h ahead for 2–8 h (readings refused)
    spike: float = 0.003  # a single absurd salinity value
    duplicate: float = 0.005  # the same message published twice
    malformed: float = 0.003  # broken JSON or an out-of-range value
    gate_stuck_open_per_day: float = 0.02  # a gate sticks open 2–8 h, whatever the water
    #: a gate sensor reports the opposite of the gate for 2–6 h: it contradicts the operator
    gate_sensor_wrong_per_day: float = 0.01

    @classmethod
    def none(cls) -> FaultRates:
        return cls(**{f.name: 0.0 for f in fields(cls)})

    def scaled(self, factor: float) -> FaultRates:
        return FaultRates(**{f.name: getattr(self, f.name) * factor for f in fields(self)})


@dataclass(slots=True)
class FaultState:
    """What is wrong with one device right now."""

    silent_until: float = 0.0
    forward_until: float = 0.0
    flat_until: float = 0.0
    flat_values: dict[str, float] | None = None
    battery_until: float = 0.0
    clock_until: float = 0.0

    def active(self, t: float) -> list[str]:
        names = []
        for name, until in (
            ("silent", self.silent_until),
            ("store_forward", self.forward_until),
            ("flatline", self.flat_until),
            ("battery", self.battery_until),
            ("clock", self.clock_until),
        ):
            if t < until:
                names.append(name)
        return names
