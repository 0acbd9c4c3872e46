"""How good a station's forecasts turned out: each past forecast against the readings that
followed, beside the forecast the engineer already had (tidal-day persistence).

One scoring path serves the live score (``GET /api/v1/forecast/{station}``, the gate on intake
window notices) and ``bench/forecast_skill.py``:

- ``mae_24h``: mean absolute error of the forecast mean at each reading in its first 24 h;
- ``mae_24h_persistence``: the same for the value one tidal day before each of those readings,
  interpolated from the readings the forecaster had (none after the forecast was made);
- ``skill``: ``1 − mae_24h / mae_24h_persistence`` (0: as good as persistence; < 0: worse);
- ``band_coverage``: the share of readings over the whole horizon inside the band;
- ``window_precision`` / ``window_recall``: of the readings inside announced safe windows, the
  share truly below the intake threshold; of the readings truly below it, the share announced.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from saltwatch.analytics.tidal import TIDAL_DAY_H, History, days_back
from saltwatch.core.timeutil import NS_PER_S

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_H_NS = 3600 * NS_PER_S


@dataclass(frozen=True)
class PastForecast:
    """What was forecast: the mean and band at ``ts_ns``, the safe windows announced (start, end
    in ns) up to ``windows_until_ns`` and the threshold they were judged on (None: not an intake
    station). Recall counts the truly safe readings up to the same time."""

    fitted_at_ns: int
    ts_ns: IntArray
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    threshold: float | None = None
    windows: tuple[tuple[int, int], ...] = ()
    windows_until_ns: int | None = None  # windows are announced up to here (default: horizon)


@dataclass
class Tally:
    forecasts: int = 0
    errors: int = 0  # readings in the first 24 h of a forecast, with a persistence value
    abs_error: float = 0.0
    abs_error_persistence: float = 0.0
    in_band: int = 0
    banded: int = 0
    predicted_safe: int = 0
    hit: int = 0
    truly_safe: int = 0
    skills: list[float] = field(default_factory=list)  # per series, when tallies are pooled

    def add(self, other: Tally) -> None:
        self.forecasts += other.forecasts
        self.errors += other.errors
        self.abs_error += other.abs_error
        self.abs_error_persistence += other.abs_error_persistence
        self.in_band += other.in_band
        self.banded += other.banded
        self.predicted_safe += other.predicted_safe
        self.hit += other.hit
        self.truly_safe += other.truly_safe

    @property
    def mae(self) -> float | None:
        return self.abs_error / self.errors if self.errors else None

    @property
    def mae_persistence(self) -> float | None:
        return self.abs_error_persistence / self.errors if self.errors else None

    @property
    def skill(self) -> float | None:
        if not self.errors or self.abs_error_persistence <= 0:
            return None
        return 1.0 - self.abs_error / self.abs_error_persistence

    @property
    def coverage(self) -> float | None:
        return self.in_band / self.banded if self.banded else None

    @property
    def precision(self) -> float | None:
        return self.hit / self.predicted_safe if self.predicted_safe else None

    @property
    def recall(self) -> float | None:
        return self.hit / self.truly_safe if self.truly_safe else None


def score(
    forecast: PastForecast,
    obs_ts_ns: Sequence[int] | IntArray,
    obs_ppt: Sequence[float] | FloatArray,
    now_ns: int,
    max_gap_h: float = 3.5,
) -> Tally:
    """One forecast against the good readings ``obs`` (any order, any span); only readings up to
    ``now_ns`` and within the forecast's horizon count. A forecast with none counts for nothing."""
    t = np.asarray(obs_ts_ns, np.int64)
    y = np.asarray(obs_ppt, np.float64)
    order = np.argsort(t, kind="stable")
    t, y = t[order], y[order]
    fitted = forecast.fitted_at_ns
    horizon_end = int(forecast.ts_ns[-1]) if forecast.ts_ns.size else fitted
    after = (t > fitted) & (t <= min(horizon_end, now_ns)) & np.isfinite(y)
    tally = Tally()
    if not after.any():
        return tally
    tally.forecasts = 1
    before = t <= fitted
    known = History((t[before] - fitted) / _H_NS, y[before], max_gap_h)
    lead_h = (t[after] - fitted) / _H_NS
    seen = y[after]
    grid_h = (forecast.ts_ns - fitted) / _H_NS
    mean = np.interp(lead_h, grid_h, forecast.mean)
    lower = np.interp(lead_h, grid_h, forecast.lower)
    upper = np.interp(lead_h, grid_h, forecast.upper)
    persistence = known.at(lead_h - days_back(lead_h) * TIDAL_DAY_H)
    first_day = (lead_h <= 24.0) & np.isfinite(persistence)
    tally.errors = int(first_day.sum())
    tally.abs_error = float(np.sum(np.abs(mean - seen)[first_day]))
    tally.abs_error_persistence = float(np.sum(np.abs(persistence - seen)[first_day]))
    tally.banded = int(seen.size)
    tally.in_band = int(np.sum((seen >= lower) & (seen <= upper)))
    if forecast.threshold is not None:
        at = t[after]
        announced = np.zeros(at.size, bool)
        for start, end in forecast.windows:
            announced |= (at > start) & (at <= end)
        judged = at <= (forecast.windows_until_ns or horizon_end)
        safe = (seen < forecast.threshold) & judged
        announced &= judged
        tally.predicted_safe = int(announced.sum())
        tally.hit = int((announced & safe).sum())
        tally.truly_safe = int(safe.sum())
    return tally


def score_all(
    forecasts: Sequence[PastForecast],
    obs_ts_ns: Sequence[int] | IntArray,
    obs_ppt: Sequence[float] | FloatArray,
    now_ns: int,
    max_gap_h: float = 3.5,
) -> Tally:
    """The pooled score of several forecasts of one station."""
    total = Tally()
    for forecast in forecasts:
        total.add(score(forecast, obs_ts_ns, obs_ppt, now_ns, max_gap_h))
    return total
