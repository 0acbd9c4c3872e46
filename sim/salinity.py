"""The salt intrusion model: a longitudinal profile whose front moves with season and tide.

Salinity at ``x`` km from the mouth is a logistic front,

    S(x, t) = S_sea / (1 + exp((x - X(t)) / w)),

which falls monotonically upstream, is nearly flat (concave) near the mouth and decays like
``exp(-x / w)`` beyond the front — the shape of the 12 March 2024 profile (DOMAIN §4: decay length
≈ 9.4 km over 42–64 km). The front position ``X(t)`` is a seasonal base (salt arrives Nov–Dec,
peaks Feb–Apr, ends by June) plus a tidal excursion proportional to the water level one hour
earlier (salt is highest around high water, lowest around low water; spring tides push it
further because M2 and S2 add up). Scenario numbers are calibrated to DOMAIN §3.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from core.timeutil import VN_TZ
from sim.tide import FloatArray, max_level, tide_level

DAY_S = 86_400.0


def _smooth(u: FloatArray) -> FloatArray:
    """0 → 1 with zero slope at both ends."""
    result: FloatArray = 0.5 - 0.5 * np.cos(np.pi * u)
    return result


@dataclass(frozen=True, slots=True)
class Scenario:
    """One dry season. ``front_*_km``: the front's mid-point X (where S = S_sea / 2)."""

    name: str
    season_year: int  # the calendar year of the season's peak (e.g. 2024 for 2023-24)
    front_low_km: float  # X outside the salt season (negative: the front is out at sea)
    front_peak_km: float  # X at the seasonal peak, at mean water level
    width_km: float  # w: the toe's decay length
    excursion_km: float  # tidal shift of X at the highest possible water level
    sea_ppt: float = 30.0
    arrive: tuple[int, int] = (11, 20)  # month, day the envelope starts rising
    peak_from: tuple[int, int] = (2, 1)
    peak_to: tuple[int, int] = (4, 20)
    end: tuple[int, int] = (6, 1)
    lag_h: float = 1.0  # salinity peaks this long after high water

    def envelope(self, t_s: FloatArray) -> FloatArray:
        """0 outside the salt season, 1 at its peak, smooth in between."""
        y = self.season_year

        def at(month_day: tuple[int, int], year: int) -> float:
            return datetime(year, *month_day, tzinfo=VN_TZ).timestamp()

        arrive = at(self.arrive, y - 1)
        peak_from, peak_to, end = at(self.peak_from, y), at(self.peak_to, y), at(self.end, y)
        t = np.asarray(t_s, dtype=np.float64)
        rise = np.clip((t - arrive) / (peak_from - arrive), 0.0, 1.0)
        fall = np.clip((end - t) / (end - peak_to), 0.0, 1.0)
        result: FloatArray = np.minimum(_smooth(rise), _smooth(fall))
        return result

    def front_km(self, t_s: FloatArray) -> FloatArray:
        """X(t): where salinity is half the sea's, km from the mouth."""
        t = np.asarray(t_s, dtype=np.float64)
        base = self.front_low_km + (self.front_peak_km - self.front_low_km) * self.envelope(t)
        level = tide_level(t - self.lag_h * 3600.0) / max_level()
        result: FloatArray = base + self.excursion_km * level
        return result

    def salinity(self, km: float | FloatArray, t_s: FloatArray) -> FloatArray:
        """True salinity (‰) at ``km`` from the mouth at epoch seconds ``t_s``."""
        z = (np.asarray(km, dtype=np.float64) - self.front_km(t_s)) / self.width_km
        result: FloatArray = self.sea_ppt / (1.0 + np.exp(np.clip(z, -50.0, 50.0)))
        return result

    def line_km(self, ppt: float, t_s: FloatArray) -> FloatArray:
        """How far the ``ppt`` line reaches (km from the mouth): the inverse of ``salinity``."""
        result: FloatArray = self.front_km(t_s) + self.width_km * math.log(self.sea_ppt / ppt - 1)
        return result


#: Calibrated against DOMAIN §3 (see tests/unit/sim/test_model.py for the checks).
SCENARIOS: dict[str, Scenario] = {
    # 2023-24: 8.85 ‰ at Xuân Hòa (42 km) on 12 March; 4 ‰ line 40–66 km; 1 ‰ line ~70–76 km.
    "2024": Scenario(
        "2024",
        2024,
        front_low_km=-15.0,
        front_peak_km=25.5,
        width_km=10.0,
        excursion_km=9.0,
        arrive=(11, 15),
    ),
    # 2019-20: the deepest. On 14/2/2020 Phú Phong (64 km) had 4.66 ‰ and Vàm Ba Rài (97 km)
    # 1.0 ‰: a long, flat toe (w ≈ 20 km); the 4 ‰ line reached 55–74 km. The same day's
    # 4.5 ‰ at Xuân Hòa (42 km) cannot sit on any profile falling upstream from there, so the
    # scenario follows the far stations and the reported reach.
    "2020": Scenario(
        "2020",
        2020,
        front_low_km=-15.0,
        front_peak_km=24.0,
        width_km=20.0,
        excursion_km=9.0,
        arrive=(12, 1),
        peak_from=(2, 5),
    ),
    # 2015-16: 4 ‰ line ≈ 50–52 km at most.
    "2016": Scenario(
        "2016",
        2016,
        front_low_km=-15.0,
        front_peak_km=25.0,
        width_km=9.5,
        excursion_km=9.0,
        arrive=(12, 10),
    ),
    # a mild year, near the long-term mean: 4 ‰ line ~35–40 km at most.
    "mild": Scenario(
        "mild",
        2024,
        front_low_km=-15.0,
        front_peak_km=15.0,
        width_km=8.0,
        excursion_km=7.0,
        arrive=(12, 20),
        peak_from=(2, 15),
        peak_to=(4, 10),
    ),
}


def epoch(text: str) -> float:
    """``2024-03-12`` (Vietnam time) or RFC 3339 text to epoch seconds."""
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=VN_TZ).timestamp()
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
