"""A station's salinity for the next 48 hours, and the safe intake windows that follow from it.

Fitted by least squares (numpy) on the recent days of the station's own good readings, in log
salinity: a slowly varying level (a line over the fitting window) plus the tidal constituents
M2, S2, N2, K1, O1, M4 and MS4 (salt comes and goes with the tide; the M2–S2 pair makes the
spring–neap cycle). The uncertainty band comes from the residuals, widening with lead time.
A safe intake window is a period of at least ``min_window`` in which the band's *upper* edge
stays below the intake threshold: a gate keeper who opens then takes fresh water with a
probability the band's width sets (bench/forecast_skill.py measures it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt

from alerts.evaluate import Observation
from alerts.rules import ForecastRules, RuleSet
from core.clock import Clock
from core.qc import BAD_FLAGS
from core.registry import Device, Profile, Registry
from core.timeutil import NS_PER_S, VN_TZ
from core.topics import TopicKind
from storage.ports import ReadingStore

FloatArray = npt.NDArray[np.float64]

#: periods in hours (standard astronomical values)
CONSTITUENTS: dict[str, float] = {
    "M2": 12.4206012,
    "S2": 12.0,
    "N2": 12.65834751,
    "K1": 23.93447213,
    "O1": 25.81934171,
    "M4": 6.210300601,
    "MS4": 6.103339275,
}
OFFSET_PPT = 0.05  # log(S + offset): fresh water's tiny values do not dominate the fit


@dataclass(frozen=True)
class ForecastSettings:
    fit_days: float = 7.0
    horizon_h: float = 48.0
    step_s: float = 900.0
    z: float = 2.0  # band half-width in standard deviations of the expected error
    half_life_days: float = 2.0  # recent days weigh more: the level follows the season's turns
    min_points: int = 96  # a day of 15-minute readings at least
    min_window_s: float = 2 * 3600.0


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
    sigma: float  # residual standard deviation, log space
    points: int  # readings the fit used
    windows: list[Window] = field(default_factory=list)

    def first_above(self, level: float) -> int | None:
        """Time the forecast mean first reaches ``level`` (None: not within the horizon)."""
        hits = np.nonzero(self.mean >= level)[0]
        return int(self.ts_ns[hits[0]]) if hits.size else None


def _design(t_h: FloatArray, span_h: float) -> FloatArray:
    columns = [np.ones_like(t_h), t_h / max(span_h, 1.0)]
    for period in CONSTITUENTS.values():
        w = 2 * np.pi * t_h / period
        columns += [np.cos(w), np.sin(w)]
    return np.column_stack(columns)


def _fit(
    t_h: FloatArray, y: FloatArray, span_h: float, half_life_days: float
) -> tuple[FloatArray, float]:
    """Weighted least squares (recent readings weigh more); the weighted residual deviation."""
    a = _design(t_h, span_h)
    w = np.sqrt(0.5 ** (-t_h / (24.0 * half_life_days)))
    solution = np.linalg.lstsq(a * w[:, None], y * w, rcond=None)
    coef: FloatArray = np.asarray(solution[0], dtype=np.float64)
    residuals = (y - a @ coef) * w
    dof = max(y.size - a.shape[1], 1)
    sigma = float(np.sqrt(np.sum(residuals**2) / np.sum(w**2) * y.size / dof))
    return coef, sigma


def fit_forecast(
    ts_ns: Sequence[int] | npt.NDArray[np.int64],
    ppt: Sequence[float] | FloatArray,
    now_ns: int,
    settings: ForecastSettings = ForecastSettings(),
) -> Forecast | None:
    """The forecast from ``now_ns`` on, from good readings (any order, older ones ignored);
    None with too few readings in the fitting window."""
    t = np.asarray(ts_ns, dtype=np.int64)
    s = np.asarray(ppt, dtype=np.float64)
    keep = (t <= now_ns) & (t > now_ns - int(settings.fit_days * 86400 * NS_PER_S)) & np.isfinite(s)
    t, s = t[keep], np.maximum(s[keep], 0.0)
    if t.size < settings.min_points:
        return None
    t_h: FloatArray = (t - now_ns).astype(np.float64) / NS_PER_S / 3600.0  # 0 = now
    span_h = settings.fit_days * 24.0
    y = np.log(s + OFFSET_PPT)
    coef, sigma = _fit(t_h, y, span_h, settings.half_life_days)
    # how fast the level drifts off: the same fit a day ago, against the day since
    earlier = t_h <= -24.0
    drift = 0.0
    if earlier.sum() >= settings.min_points:
        past, _ = _fit(t_h[earlier] + 24.0, y[earlier], span_h, settings.half_life_days)
        missed = y[~earlier] - _design(t_h[~earlier] + 24.0, span_h) @ past
        drift = float(np.sqrt(max(float(np.mean(missed**2)) - sigma**2, 0.0)))
    steps = int(settings.horizon_h * 3600 / settings.step_s)
    future_h: FloatArray = np.arange(1, steps + 1, dtype=np.float64) * settings.step_s / 3600.0
    predicted = _design(future_h, span_h) @ coef
    half = settings.z * np.sqrt(sigma**2 + (drift * future_h / 24.0) ** 2)
    ts_future = now_ns + (future_h * 3600 * NS_PER_S).astype(np.int64)
    return Forecast(
        now_ns,
        ts_future,
        np.maximum(np.exp(predicted) - OFFSET_PPT, 0.0),
        np.maximum(np.exp(predicted - half) - OFFSET_PPT, 0.0),
        np.exp(predicted + half) - OFFSET_PPT,
        sigma,
        int(t.size),
    )


def safe_windows(
    forecast: Forecast,
    threshold_ppt: float,
    min_window_s: float,
    step_s: float,
) -> list[Window]:
    """Periods of at least ``min_window_s`` whose band stays below ``threshold_ppt`` throughout;
    each covers its forecast steps (a step stands for the ``step_s`` that ends at it)."""
    safe = forecast.upper < threshold_ppt
    out: list[Window] = []
    step_ns = int(step_s * NS_PER_S)
    i = 0
    while i < safe.size:
        if not safe[i]:
            i += 1
            continue
        j = i
        while j + 1 < safe.size and safe[j + 1]:
            j += 1
        start, end = int(forecast.ts_ns[i]) - step_ns, int(forecast.ts_ns[j])
        if end - start >= min_window_s * NS_PER_S:
            out.append(Window(start, end))
        i = j + 1
    return out


def settings_from(rules: ForecastRules) -> ForecastSettings:
    return ForecastSettings(
        fit_days=rules.fit_days,
        horizon_h=rules.horizon / 3600.0,
        z=rules.z,
        min_window_s=rules.min_window,
    )


@dataclass
class StationForecast:
    station: Device
    forecast: Forecast
    threshold: float  # the station's intake threshold (intake stations) or exceedance level
    level: float  # the level a forecast alert is about
    windows: list[Window]  # safe intake windows (intake stations only)


def forecast_station(
    store: ReadingStore, registry: Registry, station: Device, rules: RuleSet, now_ns: int
) -> StationForecast | None:
    """The station's forecast from its good readings in the store; None with too few (or a
    station without a use profile, hence without levels)."""
    if station.profile is None:
        return None
    cfg = settings_from(rules.forecast)
    since = now_ns - int(cfg.fit_days * 86400 * NS_PER_S)
    rows = store.query(TopicKind.SALINITY, station.id, since, now_ns + 1, 50_000)
    times, values = [], []
    for r in rows:
        value = r.fields.get("salinity_ppt")
        if not r.qc & BAD_FLAGS and isinstance(value, float | int) and not isinstance(value, bool):
            times.append(r.ts_ns)
            values.append(float(value))
    forecast = fit_forecast(times, values, now_ns, cfg)
    if forecast is None:
        return None
    month = datetime.fromtimestamp(now_ns / NS_PER_S, VN_TZ).month
    levels = rules.levels_for(station, registry, month)
    threshold = levels.level(rules.forecast.intake_level)
    if station.profile is Profile.INTAKE:
        forecast.windows = safe_windows(forecast, threshold, cfg.min_window_s, cfg.step_s)
    return StationForecast(
        station, forecast, threshold, levels.level(rules.forecast.exceedance), forecast.windows
    )


class ForecastJob:
    """Forecasts every salinity station and judges the forecasts: an alert (kind ``forecast``)
    when a station below its level is forecast to reach it, with the lead time; a notice (kind
    ``intake_window``) for each safe intake window ahead at intake stations, kept under one
    identity while later forecasts move its edges, resolved once it is no longer ahead."""

    def __init__(
        self,
        store: ReadingStore,
        registry: Registry,
        rules: Callable[[], RuleSet],
        clock: Clock,
    ) -> None:
        self.store = store
        self.registry = registry
        self.rules = rules
        self.clock = clock
        self.latest: dict[str, StationForecast] = {}
        self._announced: dict[str, list[tuple[str, Window]]] = {}

    def update(self) -> list[tuple[Observation, str | None]]:
        now = self.clock.now_ns()
        rules = self.rules()
        out: list[tuple[Observation, str | None]] = []
        for station in self.registry.devices_of("salinity"):
            found = forecast_station(self.store, self.registry, station, rules, now)
            if found is None:
                continue  # too few readings: no-data rules speak for the station
            self.latest[station.id] = found
            out.append((self._exceedance(found, now), None))
            out.extend((obs, None) for obs in self._windows(found, now))
        return out

    @staticmethod
    def _exceedance(found: StationForecast, now: int) -> Observation:
        f = found.forecast
        at = f.first_above(found.level)
        coming = at is not None and f.mean[0] < found.level
        lead_h = round((at - now) / NS_PER_S / 3600, 1) if coming and at is not None else None
        return Observation(
            f"forecast-exceedance:{found.station.id}",
            "forecast-exceedance",
            "forecast",
            found.station.id,
            "warning" if coming else None,
            None,
            lead_h,
            found.level,
            "h",
            now,
            now,
        )

    def _windows(self, found: StationForecast, now: int) -> list[Observation]:
        station = found.station.id
        before = self._announced.get(station, [])
        kept: list[tuple[str, Window]] = []
        for window in found.windows:
            same = next((fp for fp, w in before if _overlap(w, window)), None)
            kept.append((same or f"intake-window:{station}:{window.start_ns // NS_PER_S}", window))
        gone = [(fp, w) for fp, w in before if all(fp != k for k, _ in kept)]  # passed or withdrawn
        self._announced[station] = kept

        def notice(fingerprint: str, window: Window, open_: bool) -> Observation:
            return Observation(
                fingerprint,
                "intake-window",
                "intake_window",
                station,
                "info" if open_ else None,
                None,
                round(window.hours, 1),
                found.threshold,
                "h",
                window.start_ns if open_ else now,
                now,
            )

        return [notice(fp, w, True) for fp, w in kept] + [notice(fp, w, False) for fp, w in gone]


def _overlap(a: Window, b: Window) -> bool:
    return a.start_ns < b.end_ns and b.start_ns < a.end_ns
