"""The salt intrusion model: a longitudinal profile whose front moves with season, tide and weather.

Salinity at ``x`` km from the mouth falls from the sea's value along a profile that steepens
upstream (docs/domain.md §3.4: the daily swing between low and high water grows from about 2× at the
mouth to 4–5× 40–50 km inland, the shape Savenije describes for alluvial estuaries):

    ln S(x, t) = ln S_sea − ξ⁺ / L0 − (ξ⁺ / L1)²,   ξ = x − X(t),

with ξ⁺ a smooth max(ξ, 0) (nearly the sea's salinity below the front's mid-point X). The front
position ``X(t)`` is a seasonal base (salt arrives Nov–Dec, peaks Feb–Apr, ends by June), plus a
tidal excursion proportional to the water level one hour earlier (salt is highest around high
water, lowest around low water; spring tides push it further because M2 and S2 add up), plus the
river's weather (``RiverDrivers``): a day-to-day random walk, north-east monsoon set-up episodes
that push salt up to 10 km further (Dec–Mar), and pulses of river water from upstream that push
it back for days. Scenario numbers are calibrated to docs/domain.md §3
(tests/unit/sim/test_model.py).
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache

import numpy as np

from saltwatch.core.timeutil import VN_TZ
from saltwatch.sim.tide import FloatArray, max_level, tide_level

DAY_S = 86_400.0
#: a change in upstream flow reaches the front this many days later, and moves it this many km
#: per e-fold of flow [UNVERIFIED: placeholders of the right order, docs/domain.md §4]
FLOW_LEAD_DAYS = 4.0
KM_PER_FLOW_E_FOLD = 10.0
_SOFT_KM = 2.0  # ξ⁺ = 2 ln(1 + exp(ξ / 2)): the profile's shoulder near the front's mid-point


def _smooth(u: FloatArray) -> FloatArray:
    """0 → 1 with zero slope at both ends."""
    result: FloatArray = 0.5 - 0.5 * np.cos(np.pi * u)
    return result


def _soft_plus(xi: FloatArray) -> FloatArray:
    result: FloatArray = _SOFT_KM * np.logaddexp(0.0, xi / _SOFT_KM)
    return result


@dataclass(frozen=True, slots=True)
class RiverDrivers:
    """What moves the front besides the tide, as km added to X (positive: further inland)."""

    walk_km: float = 1.0  # day-to-day drift (AR(1) standard deviation)
    monsoon_per_month: float = 1.0  # set-up episodes, Dec–Mar
    monsoon_km: tuple[float, float] = (2.0, 10.0)  # "up to 10 km" (docs/domain.md §4)
    pulse_per_month: float = 0.5  # upstream flow pulses
    pulse_km: tuple[float, float] = (2.0, 6.0)

    def shift_km(self, name: str, season_year: int, t_s: FloatArray) -> FloatArray:
        days, walk, monsoon, pulses = _driver_days(self, name, season_year)
        result: FloatArray = np.interp(np.asarray(t_s, np.float64), days, walk + monsoon + pulses)
        return result

    def flow_km(self, name: str, season_year: int, t_s: FloatArray) -> FloatArray:
        """The part of the shift the river's own flow explains: the drift and the pulses (the
        monsoon's set-up is the sea's doing, not the river's)."""
        days, walk, _, pulses = _driver_days(self, name, season_year)
        result: FloatArray = np.interp(np.asarray(t_s, np.float64), days, walk + pulses)
        return result


@cache
def _driver_days(
    drivers: RiverDrivers, name: str, season_year: int
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Each day's shift from October before the season to July after it (0 outside): the same
    for every station of the river and every run (seeded by the scenario's name)."""
    rng = np.random.default_rng(zlib.crc32(f"river-drivers:{name}".encode()))
    start = datetime(season_year - 1, 10, 1, tzinfo=VN_TZ).timestamp()
    n = int((datetime(season_year, 7, 1, tzinfo=VN_TZ).timestamp() - start) // DAY_S) + 1
    days = start + np.arange(n) * DAY_S
    walk = np.zeros(n)
    phi = 0.85
    for i in range(1, n):
        walk[i] = phi * walk[i - 1] + rng.normal(0, drivers.walk_km * math.sqrt(1 - phi**2))
    monsoon = np.zeros(n)
    pulses = np.zeros(n)
    months = np.array([datetime.fromtimestamp(d, VN_TZ).month for d in days])
    for i in range(n):
        if months[i] in (12, 1, 2, 3) and rng.random() < drivers.monsoon_per_month / 30:
            monsoon += _bump(n, i, rng.uniform(3, 7), rng.uniform(*drivers.monsoon_km))
        if rng.random() < drivers.pulse_per_month / 30:
            pulses -= _bump(n, i, rng.uniform(3, 10), rng.uniform(*drivers.pulse_km))
    return np.asarray(days, np.float64), walk, monsoon, pulses


def _bump(n: int, start: int, length_days: float, height_km: float) -> FloatArray:
    """A smooth rise and fall over ``length_days`` from day ``start``."""
    u = (np.arange(n) - start) / length_days
    result: FloatArray = np.where((u > 0) & (u < 1), height_km * np.sin(np.pi * u) ** 2, 0.0)
    return result


@dataclass(frozen=True, slots=True)
class Scenario:
    """One dry season. ``front_*_km``: the front's mid-point X (where S = S_sea)."""

    name: str
    season_year: int  # the calendar year of the season's peak (e.g. 2024 for 2023-24)
    front_low_km: float  # X outside the salt season (negative: the front is out at sea)
    front_peak_km: float  # X at the seasonal peak, at mean water level
    decay_km: float  # L0: how fast salinity first falls beyond the front
    steepen_km: float  # L1: how fast the fall steepens further upstream
    excursion_km: float  # tidal shift of X at the highest possible water level
    sea_ppt: float = 30.0
    arrive: tuple[int, int] = (11, 20)  # month, day the envelope starts rising
    peak_from: tuple[int, int] = (2, 1)
    peak_to: tuple[int, int] = (4, 20)
    end: tuple[int, int] = (6, 1)
    lag_h: float = 1.0  # salinity peaks this long after high water
    drivers: RiverDrivers | None = RiverDrivers()
    #: where measured months are known (month, X mid-month): the season follows them instead of
    #: the smooth envelope, from ``arrive`` to ``end``
    monthly_front_km: tuple[tuple[int, float], ...] = ()
    #: upstream discharge (Tân Châu, m³/s) outside the salt season and at its peak [UNVERIFIED:
    #: placeholders of the right order, docs/domain.md §4]
    q_wet_m3s: float = 9000.0
    q_dry_m3s: float = 2600.0

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
        """X(t): where the profile leaves the sea's salinity, km from the mouth."""
        t = np.asarray(t_s, dtype=np.float64)
        season = self.envelope(t)
        base = self.front_low_km + (self.front_peak_km - self.front_low_km) * season
        if self.monthly_front_km:
            base = self._monthly(t)
        level = tide_level(t - self.lag_h * 3600.0) / max_level()
        result: FloatArray = base + self.excursion_km * level
        if self.drivers is not None:  # the weather matters only while salt is in the river
            result = result + season * self.drivers.shift_km(self.name, self.season_year, t)
        return result

    def discharge_m3s(self, t_s: FloatArray) -> FloatArray:
        """The upstream discharge the season follows: from ``q_wet_m3s`` down to ``q_dry_m3s``
        as the season rises, and every drift and pulse of the river's flow in the front's drivers
        seen here ``FLOW_LEAD_DAYS`` before the front moves with it (``KM_PER_FLOW_E_FOLD`` km of
        front per e-fold of flow). The salinity stations and this discharge are one river."""
        t = np.asarray(t_s, dtype=np.float64) + FLOW_LEAD_DAYS * DAY_S
        season = self.envelope(t)
        log_q = math.log(self.q_wet_m3s) - season * math.log(self.q_wet_m3s / self.q_dry_m3s)
        if self.drivers is not None:
            flow = self.drivers.flow_km(self.name, self.season_year, t)
            log_q = log_q - season * flow / KM_PER_FLOW_E_FOLD
        result: FloatArray = np.exp(log_q)
        return result

    def _monthly(self, t: FloatArray) -> FloatArray:
        y = self.season_year
        low = self.front_low_km
        knots = [(datetime(y - 1, *self.arrive, tzinfo=VN_TZ).timestamp(), low)]
        for month, km in self.monthly_front_km:
            year = y - 1 if month >= 9 else y
            knots.append((datetime(year, month, 15, tzinfo=VN_TZ).timestamp(), km))
        knots.append((datetime(y, *self.end, tzinfo=VN_TZ).timestamp(), low))
        result: FloatArray = np.interp(t, [k[0] for k in knots], [k[1] for k in knots])
        return result

    def salinity(self, km: float | FloatArray, t_s: FloatArray) -> FloatArray:
        """True salinity (‰) at ``km`` from the mouth at epoch seconds ``t_s``."""
        xi = _soft_plus(np.asarray(km, dtype=np.float64) - self.front_km(t_s))
        fall = xi / self.decay_km + (xi / self.steepen_km) ** 2
        result: FloatArray = self.sea_ppt * np.exp(-np.minimum(fall, 60.0))
        return result

    def line_km(self, ppt: float, t_s: FloatArray) -> FloatArray:
        """How far the ``ppt`` line reaches (km from the mouth): the inverse of ``salinity``."""
        need = math.log(self.sea_ppt / ppt)  # ξ⁺/L0 + (ξ⁺/L1)² = need
        a, b = 1.0 / self.steepen_km**2, 1.0 / self.decay_km
        xi_plus = (-b + math.sqrt(b * b + 4 * a * need)) / (2 * a)
        xi = _SOFT_KM * math.log(math.expm1(xi_plus / _SOFT_KM))
        result: FloatArray = self.front_km(t_s) + xi
        return result


#: Calibrated against docs/domain.md §3 (tests/unit/sim/test_model.py checks every figure named
#: here).
SCENARIOS: dict[str, Scenario] = {
    # 2023-24: on 12 March, at spring tide, Xuân Hòa (42 km) 8.85 ‰, Lạc Hồng (46) 6.82, Xoài Hột
    # (51) 3.82, Phú Phong (64) 0.9; the 4 ‰ line 40–66 km in the region. Hòa Bình stays under
    # about 20 ‰ (no record of 2003–2020 is above 18).
    "2024": Scenario(
        "2024",
        2024,
        front_low_km=-15.0,
        front_peak_km=4.2,
        decay_km=148.6,
        steepen_km=28.55,
        excursion_km=10.06,
        sea_ppt=25.0,
        arrive=(11, 15),
        q_dry_m3s=2000.0,
    ),
    # 2019-20: the deepest. On 14/2/2020 Phú Phong (64 km) had 4.66 ‰, Vàm Ba Rài (97 km) 1.0
    # and Vàm Trà Lọt (120 km) 0.17: a long, flat toe; the 4 ‰ line reached 55–74 km. The same
    # day's 4.5 ‰ at Xuân Hòa (42 km) cannot sit on any profile falling upstream from there, so
    # the scenario follows the far stations and the reported reach.
    "2020": Scenario(
        "2020",
        2020,
        front_low_km=-20.3,
        front_peak_km=-20.3,
        decay_km=112.1,
        steepen_km=67.4,
        excursion_km=13.59,
        sea_ppt=25.0,
        arrive=(12, 1),
        peak_from=(2, 5),
        q_dry_m3s=1800.0,
    ),
    # 2015-16: 4 ‰ line ≈ 50–52 km at most; the 2024 profile's shape.
    "2016": Scenario(
        "2016",
        2016,
        front_low_km=-15.0,
        front_peak_km=2.5,
        decay_km=148.6,
        steepen_km=28.55,
        excursion_km=10.06,
        sea_ppt=25.0,
        arrive=(12, 10),
        q_dry_m3s=2200.0,
    ),
    # 2004-05: the 2-hourly records of docs/domain.md §3.4 (Vàm Kênh, Hòa Bình, Mỹ Tho, Đồng Tâm),
    # month
    # by month: the medians of daily maxima and minima and the max/min ratio within ±20 %.
    "2005": Scenario(
        "2005",
        2005,
        front_low_km=-15.0,
        front_peak_km=10.8,
        decay_km=50.85,
        steepen_km=22.23,
        excursion_km=7.61,
        sea_ppt=30.19,
        lag_h=1.59,
        arrive=(12, 1),
        end=(6, 20),
        monthly_front_km=((2, 0.68), (3, 3.0), (4, 10.8), (5, 2.45)),
    ),
    # a mild year, near the long-term mean: 4 ‰ line ~35–40 km at most.
    "mild": Scenario(
        "mild",
        2024,
        front_low_km=-15.0,
        front_peak_km=2.9,
        decay_km=58.67,
        steepen_km=24.18,
        excursion_km=7.13,
        sea_ppt=26.8,
        arrive=(12, 20),
        peak_from=(2, 15),
        peak_to=(4, 10),
        q_dry_m3s=3500.0,
    ),
}


def epoch(text: str) -> float:
    """``2024-03-12`` (Vietnam time) or RFC 3339 text to epoch seconds."""
    if len(text) == 10:
        return datetime.fromisoformat(text).replace(tzinfo=VN_TZ).timestamp()
    moment = datetime.fromisoformat(text)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
