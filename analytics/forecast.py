"""A station's salinity for the next 48 hours, and the safe intake windows that follow from it.

The forecast is built on the one an engineer already makes, *tidal-day persistence* (the value
one tidal day earlier), corrected by what the station's own recent history says carries on
(analytics/forecasters.py: the ``learned`` method). Where the correction did not beat plain
persistence over the last days, the forecast *is* persistence and says so (``method``). The band
is calibrated on the method's own errors (nominal 90 %). A safe intake window is a period of at
least ``min_window`` in which an edge of the band stays below the intake threshold: the lowest
edge whose windows the station's own past forecasts showed right at the asked precision
(analytics/window_edge.py), the upper edge until they can tell; windows are announced only for
stations whose live score (analytics/forecast_score.py) earned it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from saltwatch.analytics.forecast_score import PastForecast
from saltwatch.analytics.forecast_store import LiveScore, live_score, past_forecasts, to_reading
from saltwatch.analytics.forecasters import Method, MethodSettings, predict
from saltwatch.analytics.tidal import CONSTITUENTS, TIDAL_DAY_H
from saltwatch.analytics.window_edge import (
    UPPER,
    Edge,
    choose_edge,
    edge_of,
    prepare,
    runs_at_least,
)
from saltwatch.core.forecast_rules import ForecastRules
from saltwatch.core.qc import good_value
from saltwatch.core.registry import Device, Profile, Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

FloatArray = npt.NDArray[np.float64]
__all__ = ["CONSTITUENTS", "Forecast", "ForecastSettings", "fit_forecast", "safe_windows"]


@dataclass(frozen=True)
class ForecastSettings:
    """A forecast's shape, from the rules' [forecast] table (``settings_from``)."""

    horizon_h: float
    min_window_s: float
    window_horizon_h: float  # safe windows are announced this far ahead at most
    method: MethodSettings
    step_s: float = 900.0  # the forecast's time step (not a rule: the band is calibrated on it)


@dataclass(frozen=True)
class Window:
    start_ns: int
    end_ns: int

    @property
    def hours(self) -> float:
        return (self.end_ns - self.start_ns) / NS_PER_S / 3600.0


@dataclass
class Forecast:
    fitted_at_ns: int
    ts_ns: npt.NDArray[np.int64]
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    points: int  # readings the fit used
    method: Method = "learned"
    coverage_h: float = 0.0  # hours of the fitting window with data
    windows: list[Window] = field(default_factory=list)

    def first_above(self, level: float) -> int | None:
        """Time the forecast mean first reaches ``level`` (None: not within the horizon)."""
        hits = np.nonzero(self.mean >= level)[0]
        return int(self.ts_ns[hits[0]]) if hits.size else None

    def spread_log(self, lead_h: float = 24.0) -> float:
        """Half the band's width at ``lead_h`` on a log scale (0.1: about ±10 %)."""
        i = int(np.argmin(np.abs((self.ts_ns - self.fitted_at_ns) / NS_PER_S / 3600 - lead_h)))
        return float(0.5 * np.log((self.upper[i] + 0.05) / (self.lower[i] + 0.05)))


def fit_forecast(
    ts_ns: Sequence[int] | npt.NDArray[np.int64],
    ppt: Sequence[float] | FloatArray,
    now_ns: int,
    settings: ForecastSettings,
) -> Forecast | None:
    """The forecast from ``now_ns`` on, every ``step_s`` to the horizon, from good readings (any
    order, any interval; older ones ignored); None with too little data in the fitting window."""
    t_h = (np.asarray(ts_ns, np.int64) - now_ns).astype(np.float64) / NS_PER_S / 3600.0
    steps = int(settings.horizon_h * 3600 / settings.step_s)
    leads_h = np.arange(1, steps + 1, dtype=np.float64) * settings.step_s / 3600.0
    found = predict(t_h, np.asarray(ppt, np.float64), leads_h, settings.method)
    if found is None:
        return None
    return Forecast(
        now_ns,
        now_ns + (leads_h * 3600 * NS_PER_S).astype(np.int64),
        found.mean,
        found.lower,
        found.upper,
        found.points,
        found.method,
        found.coverage_h,
    )


def safe_windows(
    forecast: Forecast,
    threshold_ppt: float,
    min_window_s: float,
    step_s: float,
    horizon_h: float | None = None,
    edge: float = UPPER,
) -> list[Window]:
    """Periods of at least ``min_window_s`` whose band edge ``edge`` (analytics/window_edge.py:
    1 the upper edge) stays below ``threshold_ppt`` throughout, within ``horizon_h`` of the fit
    (default: the whole forecast); each covers its forecast steps (a step stands for the
    ``step_s`` that ends at it)."""
    safe = edge_of(forecast.mean, forecast.lower, forecast.upper, edge) < threshold_ppt
    if horizon_h is not None:
        safe &= forecast.ts_ns <= forecast.fitted_at_ns + int(horizon_h * 3600 * NS_PER_S)
    kept = runs_at_least(safe, max(1, int(np.ceil(min_window_s / step_s - 1e-9))))
    step_ns = int(step_s * NS_PER_S)
    bounds = np.diff(np.concatenate(([0], kept.astype(np.int8), [0])))
    return [
        Window(int(forecast.ts_ns[i]) - step_ns, int(forecast.ts_ns[j - 1]))
        for i, j in zip(np.flatnonzero(bounds == 1), np.flatnonzero(bounds == -1), strict=True)
    ]


def settings_from(rules: ForecastRules) -> ForecastSettings:
    method = MethodSettings(
        method=rules.method,
        fit_days=rules.fit_days,
        min_coverage_h=rules.min_coverage / 3600.0,
        coverage=rules.band,
        transform=rules.transform,
    )
    return ForecastSettings(
        horizon_h=rules.horizon / 3600.0,
        min_window_s=rules.min_window,
        window_horizon_h=rules.window_horizon / 3600.0,
        method=method,
    )


@dataclass
class StationForecast:
    station: Device
    forecast: Forecast
    threshold: float  # the station's intake threshold (intake stations) or exceedance level
    level: float  # the level a forecast alert is about
    windows: list[Window]  # safe intake windows found (intake stations only)
    score: LiveScore | None = None  # what the station's past forecasts earned
    recent_max: float | None = None  # the highest good reading of the last tidal day
    alerts: bool = True  # False: a watch station, which raises no salinity alert of its own
    #: the band edge the windows were read from, and what it achieved (analytics/window_edge.py)
    edge: Edge = field(default_factory=Edge)

    @property
    def reliable(self) -> bool:
        return self.score is not None and self.score.reliable


def good_readings(
    store: ReadingStore, station: str, since_ns: int, until_ns: int
) -> tuple[npt.NDArray[np.int64], FloatArray]:
    """The station's readings that QC let through, oldest first."""
    rows = store.query(TopicKind.SALINITY, station, since_ns, until_ns, 100_000)
    times, values = [], []
    for r in rows:
        value = good_value(r, "salinity_ppt")
        if value is not None:
            times.append(r.ts_ns)
            values.append(value)
    return np.asarray(times, np.int64), np.asarray(values, np.float64)


def history_days(rules: ForecastRules, hindcast: bool = False) -> float:
    """Days of readings to load: the fitting window, and the scored days with the tidal days
    persistence looks back (plus a fitting window before the first hindcast), and the days the
    windows' band edge is chosen on."""
    scored = rules.score_days + 3.0
    if hindcast:
        return scored + rules.fit_days
    return max(rules.fit_days, scored, rules.window_calibration_days + 2.0)


def forecast_from(
    ts: npt.NDArray[np.int64],
    ppt: FloatArray,
    registry: Registry,
    station: Device,
    rules: RuleSet,
    now_ns: int,
    past: Sequence[PastForecast] = (),
) -> StationForecast | None:
    """The station's forecast at ``now_ns`` from its good readings (only those up to then are
    used); None with too little data, or for a station without a use profile (no levels). An
    intake station's windows are read from the band edge its ``past`` forecasts earned."""
    if station.profile is None:
        return None
    cfg = settings_from(rules.forecast)
    known = ts <= now_ns
    forecast = fit_forecast(ts[known], ppt[known], now_ns, cfg)
    if forecast is None:
        return None
    month = datetime.fromtimestamp(now_ns / NS_PER_S, VN_TZ).month
    levels = rules.levels_for(station, registry, month)
    threshold = levels.level(rules.forecast.intake_level)
    edge = Edge()
    if station.profile is Profile.INTAKE:
        edge = edge_from(past, ts[known], ppt[known], now_ns, threshold, rules.forecast)
        forecast.windows = safe_windows(
            forecast, threshold, cfg.min_window_s, cfg.step_s, cfg.window_horizon_h, edge.q
        )
    last_day = (ts > now_ns - int(TIDAL_DAY_H * 3600 * NS_PER_S)) & known
    recent = float(np.max(ppt[last_day])) if last_day.any() else None
    return StationForecast(
        station,
        forecast,
        threshold,
        levels.level(rules.forecast.exceedance),
        forecast.windows,
        recent_max=recent,
        alerts=levels.alerts,
        edge=edge,
    )


def edge_from(
    past: Sequence[PastForecast],
    ts: npt.NDArray[np.int64],
    ppt: FloatArray,
    now_ns: int,
    threshold: float,
    rules: ForecastRules,
) -> Edge:
    """The band edge the ``past`` forecasts earned at ``threshold`` (analytics/window_edge.py)."""
    scored = [
        s
        for p in past
        if (s := prepare(p, ts, ppt, threshold, rules.min_window, now_ns)) is not None
    ]
    return choose_edge(scored, threshold, rules.window_precision)


def forecast_station(
    store: ReadingStore, registry: Registry, station: Device, rules: RuleSet, now_ns: int
) -> StationForecast | None:
    """The station's forecast from its good readings in the store, with the live score of the
    forecasts kept for it (which also choose the band edge its windows are read from); None with
    too little data (or no use profile)."""
    cfg = rules.forecast
    since = now_ns - int(history_days(cfg) * 86400 * NS_PER_S)
    ts, ppt = good_readings(store, station.id, since, now_ns + 1)
    days = max(cfg.score_days, cfg.window_calibration_days)
    past = past_forecasts(store, station.id, now_ns - int(days * 86400 * NS_PER_S), now_ns + 1)
    found = forecast_from(ts, ppt, registry, station, rules, now_ns, past)
    if found is not None:
        scored_since = now_ns - int(cfg.score_days * 86400 * NS_PER_S)
        recent = [p for p in past if p.fitted_at_ns >= scored_since]
        found.score = live_score(recent, ts, ppt, now_ns, cfg)
    return found


def kept(found: StationForecast, rules: ForecastRules) -> Reading:
    """The forecast as it is kept in the store, to be scored later."""
    f = found.forecast
    intake = found.station.profile is Profile.INTAKE
    return to_reading(
        found.station.id,
        f.fitted_at_ns,
        f.ts_ns,
        f.mean,
        f.lower,
        f.upper,
        f.method,
        f.points,
        found.threshold if intake else None,
        [(w.start_ns, w.end_ns) for w in found.windows],
        f.fitted_at_ns + int(rules.window_horizon * NS_PER_S),
    )
