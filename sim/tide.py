"""Tide as a sum of harmonic constituents (docs/domain.md §4).

Amplitudes are the best-known Vũng Tàu values, marked placeholders in docs/domain.md: keep them as
settings. All constituents are given phase 0 at a reference spring tide (the new moon of
10 March 2024 plus the usual 1–2 day age of the tide), so spring tides recur every 14.77 days from
there, as the M2–S2 beat makes them, close to the real lunar calendar of 2024.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saltwatch.core.timeutil import ts_from_rfc3339

FloatArray = npt.NDArray[np.float64]

#: Periods in hours of the principal constituents.
PERIOD_H = {
    "M2": 12.4206012,
    "S2": 12.0,
    "N2": 12.6583482,
    "K1": 23.9344696,
    "O1": 25.8193417,
    "M4": 6.2103006,
}
#: Reference spring tide (phase 0 of every constituent), epoch seconds.
REFERENCE_S = ts_from_rfc3339("2024-03-11T21:00:00+07:00") / 1e9


@dataclass(frozen=True, slots=True)
class Constituent:
    name: str
    amplitude_m: float
    phase_deg: float = 0.0

    @property
    def omega(self) -> float:
        """Angular speed in radians per second."""
        return 2 * np.pi / (PERIOD_H[self.name] * 3600.0)


#: Vũng Tàu best-known amplitudes [placeholder, docs/domain.md §4]; M4 small, from shallow-water
#: distortion.
VUNG_TAU = (
    Constituent("M2", 0.76),
    Constituent("S2", 0.30),
    Constituent("K1", 0.58),
    Constituent("O1", 0.43),
    Constituent("M4", 0.03, 60.0),
)


def tide_level(t_s: FloatArray, constituents: tuple[Constituent, ...] = VUNG_TAU) -> FloatArray:
    """Water level about mean sea level (m) at epoch seconds ``t_s``."""
    dt = np.asarray(t_s, dtype=np.float64) - REFERENCE_S
    level = np.zeros_like(dt)
    for c in constituents:
        level += c.amplitude_m * np.cos(c.omega * dt - np.deg2rad(c.phase_deg))
    return level


def max_level(constituents: tuple[Constituent, ...] = VUNG_TAU) -> float:
    """The highest level the constituents can reach together."""
    return float(sum(c.amplitude_m for c in constituents))
