"""The week ahead's inputs: the daily series, the settings, and what each method of
analytics/outlook.py leans on, per origin and lead day (pure numpy, no I/O; days are integer
ordinals, missing days NaN):

- ``persistence``: nothing (today's value, again).
- ``damped``: the way to the mean of the series' last ``anchor_days``.
- ``damped+climate``: that, and the way to the series' usual value for the target date (its
  climatology: the median of earlier years' values within ± ``climate_halfwidth`` days), where
  earlier years hold enough values. A year is not like the one before (the Mekong's 2016 and
  2020 against a mild year): leaning on the climatology alone, two earlier seasons of other
  heights made the simulator's stations' outlook worse than having none (docs/analytics.md).
- ``damped+tide``: ``damped`` and the spring–neap change between today and the target day, from
  the 14.77-day (MSf) harmonic fitted to the series' last ``tide_days``. The 13.66-day (Mf) and
  27.55-day (Mm) ones were tried beside it: two months cannot tell MSf from Mf apart, and the
  fit got worse on the simulator and no better on the measured series.
- ``damped+springs``: where a year of record lies behind the origin, one correction with all
  that the earlier seasons teach: the way to the recent mean, the way to the date's climatology
  (the recent mean where earlier years do not hold the date), and the fortnightly cycles of the
  tide as they saw them. These are the spring–neap cycle (MSf, 14.77 days: M2 and S2 in step)
  and the tropic one (Mf, 13.66 days: K1 and O1 in step, the diurnal half of a mixed tide such
  as the Mekong's). Each is the cycle's change to the target day at its astronomical period
  (counted from the date, so that every season shares one phase), times the recent mean (a
  station's swing grows with its salinity), its phase and size fitted on the whole record.
  Wherever it forecasts (its fit found pairs enough), ``damped`` and ``damped+climate`` are not
  offered (analytics/outlook.py): they are this correction with some inputs left out, and a
  choice among near-equal methods on 30 noisy origins lost what the cycles gained
  (docs/analytics.md). Two months cannot tell the two cycles apart; two seasons can. On one
  season the 56-day fit above does better.
- ``damped+flow``: the way to the climatology where earlier years hold the date (else the recent
  mean), and where the upstream flow holds the series, where a river station gives one: the
  log of the mean discharge over the last 1, 7, 30 and 90 days, the value itself, and the value
  times the 30-day flow and squared. A salt front moves toward the place its river's recent
  flows hold it, faster the further it is from it; one 30-day mean alone gained a tenth as much
  on the Delaware's front (docs/benchmarks.md).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import numpy.typing as npt

from saltwatch.core.forecast_rules import OutlookRules

FloatArray = npt.NDArray[np.float64]

OutlookMethod = Literal[
    "persistence", "damped", "damped+climate", "damped+tide", "damped+springs", "damped+flow"
]
OUTLOOK_METHODS: tuple[OutlookMethod, ...] = (
    "persistence",
    "damped",
    "damped+climate",
    "damped+tide",
    "damped+springs",
    "damped+flow",
)
#: the spring–neap (MSf) period in days, fitted within a season
FORTNIGHT_DAYS = (14.765294,)
#: the fortnightly cycles a year of record can tell apart: spring–neap (MSf) and tropic (Mf)
CYCLE_DAYS = (14.765294, 13.660791)
YEAR_DAYS = 365.2425
_FLOW_DAYS = (1, 7, 30, 90)  # the flows that hold a front: means of the last days' discharge


@dataclass(frozen=True)
class OutlookSettings:
    """The rules' [outlook] table (core/rules.py ``OutlookRules``), as the methods need it."""

    horizon_days: int  # leads 1..horizon_days
    band: float  # nominal share of days inside the band
    select_days: int  # origins whose errors choose the method
    band_days: int  # origins whose errors set the band
    min_pairs: int  # training pairs a lead needs before a correction is fitted
    anchor_days: int  # the recent anchor: the mean of this many last days
    climate_halfwidth: int  # days either side of the date in earlier years
    min_climate: int  # values earlier years must hold for a date's climatology
    tide_days: int  # days the spring–neap harmonics are fitted on
    refit_every: int  # days between refits when forecasting many origins
    ridge: float  # shrinkage of every correction toward persistence


def settings_of(rules: OutlookRules) -> OutlookSettings:
    given = rules.model_dump()
    return OutlookSettings(**{f.name: given[f.name] for f in fields(OutlookSettings)})


@dataclass(frozen=True)
class DailySeries:
    """Values per day from ``first_day`` (a date ordinal); ``flow`` the same days' discharge."""

    first_day: int
    values: FloatArray
    flow: FloatArray | None = None


def trailing_mean(y: FloatArray, window: int) -> FloatArray:
    """Mean of the last ``window`` days' values (NaN unless half of them exist)."""
    ok = ~np.isnan(y)
    s = np.concatenate([[0.0], np.cumsum(np.where(ok, y, 0.0))])
    c = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(y.size)
    lo = np.maximum(i + 1 - window, 0)
    total, count = s[i + 1] - s[lo], c[i + 1] - c[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count >= max(1, window // 2), total / np.maximum(count, 1), np.nan)


def _nanmedian(view: FloatArray) -> FloatArray:
    """Row medians ignoring NaN (NaN where a row holds none), without numpy's warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.asarray(np.nanmedian(view, axis=1), np.float64)


def climatology(y: FloatArray, days: int, s: OutlookSettings) -> FloatArray:
    """(n, days): the median of earlier years' values around each target date (origin + lead),
    NaN where they hold fewer than ``min_climate`` values. Only years before the target count,
    so every value used is known at the origin."""
    n = y.size
    padded = np.concatenate([y, [np.nan]])  # index n: outside the record
    years = np.arange(1, int(n / YEAR_DAYS) + 2)
    offsets = (
        np.round(years * YEAR_DAYS).astype(np.int64)[:, None]
        - np.arange(-s.climate_halfwidth, s.climate_halfwidth + 1)[None, :]
    ).ravel()
    by_day = np.full(n + days + 1, np.nan)
    for lo in range(0, by_day.size, 512):  # a block of target days at a time
        target = np.arange(lo, min(lo + 512, by_day.size))
        idx = target[:, None] - offsets[None, :]
        idx = np.where((idx >= 0) & (idx < n), idx, n)
        values = padded[idx]
        count = np.count_nonzero(~np.isnan(values), axis=1)
        by_day[target] = np.where(count >= s.min_climate, _nanmedian(values), np.nan)
    target = np.arange(n)[:, None] + np.arange(1, days + 1)[None, :]
    return np.asarray(by_day[target], np.float64)


def _harmonic_design(d: FloatArray) -> FloatArray:
    columns = [np.ones_like(d), d]
    for period in FORTNIGHT_DAYS:
        w = 2 * np.pi * d / period
        columns += [np.cos(w), np.sin(w)]
    return np.column_stack(columns)


def spring_neap(y: FloatArray, days: int, s: OutlookSettings) -> FloatArray:
    """(n, days): the change from the origin to each target day of the spring–neap harmonic
    fitted (with a level and a trend) to the last ``tide_days`` values."""
    n = y.size
    out = np.full((n, days), np.nan)
    need = len(FORTNIGHT_DAYS) * 2 + 2 + 8
    ahead = np.arange(0, days + 1, dtype=np.float64)
    for t in range(n):
        lo = max(0, t - s.tide_days + 1)
        v = y[lo : t + 1]
        ok = ~np.isnan(v)
        if ok.sum() < max(need, s.tide_days // 2):
            continue
        d = np.arange(lo - t, 1, dtype=np.float64)[ok]
        coef = np.linalg.lstsq(_harmonic_design(d), v[ok], rcond=None)[0]
        future = _harmonic_design(ahead)
        future[:, :2] = 0.0
        wave = future @ coef
        out[t] = wave[1:] - wave[0]
    return out


def cycles(first_day: int, days: int, level: FloatArray) -> FloatArray:
    """(n, days, 2 per cycle): each fortnightly cycle's change from the origin (``first_day``
    onward, one per ``level``) to each target day, at its astronomical period counted from the
    date itself (so that every season and file of a station shares one phase), times the
    origin's recent ``level`` (a station's swing grows with its salinity)."""
    n = level.shape[0]
    day = first_day + np.arange(n, dtype=np.float64)
    ahead = day[:, None] + np.arange(1, days + 1)[None, :]
    parts = []
    for period in CYCLE_DAYS:
        w = 2 * np.pi / period
        parts += [
            (np.cos(w * ahead) - np.cos(w * day)[:, None]) * level,
            (np.sin(w * ahead) - np.sin(w * day)[:, None]) * level,
        ]
    return np.asarray(np.stack(parts, axis=2), np.float64)


def springs(series: DailySeries, days: int, level: FloatArray) -> FloatArray:
    """The ``cycles`` of ``damped+springs``: NaN at origins with less than a year of record
    behind them (two months cannot tell the two cycles apart)."""
    y = np.asarray(series.values, np.float64)
    out = cycles(series.first_day, days, level)
    known = np.flatnonzero(np.isfinite(y))
    start = int(known[0]) if known.size else y.size
    out[: min(y.size, start + int(YEAR_DAYS))] = np.nan
    return out


def method_inputs(
    series: DailySeries, s: OutlookSettings
) -> tuple[dict[OutlookMethod, FloatArray], npt.NDArray[np.bool_]]:
    """Per method, the (n, days, k) corrections' inputs; and which origins had a climatology."""
    y = np.asarray(series.values, np.float64)
    n, days = y.size, s.horizon_days
    clim = climatology(y, days, s)
    recent = np.repeat(trailing_mean(y, s.anchor_days)[:, None], days, axis=1)
    anchor = np.where(np.isnan(clim), recent, clim)
    toward_anchor = (anchor - y[:, None])[:, :, None]  # the flow method's: climate, else recent
    toward_recent = (recent - y[:, None])[:, :, None]
    found: dict[OutlookMethod, FloatArray] = {"damped": toward_recent}
    if np.isfinite(clim).any():
        toward_climate = (clim - y[:, None])[:, :, None]
        found["damped+climate"] = np.concatenate([toward_recent, toward_climate], axis=2)
    tide = spring_neap(y, days, s)[:, :, None]
    found["damped+tide"] = np.concatenate([toward_recent, tide], axis=2)
    cycle = springs(series, days, recent)
    if np.isfinite(cycle).any():  # a year of record behind some origins
        found["damped+springs"] = np.concatenate([toward_recent, toward_anchor, cycle], axis=2)
    if series.flow is not None and np.isfinite(series.flow).any():
        flows = [np.log(np.maximum(trailing_mean(series.flow, w), 1e-3)) for w in _FLOW_DAYS]
        season = flows[_FLOW_DAYS.index(30)]
        held = np.stack([y, np.ones(n), *flows, y * season, y * y], axis=1)
        level = np.repeat(held[:, None, :], days, axis=1)
        found["damped+flow"] = np.concatenate([toward_anchor, level], axis=2)
    return found, ~np.isnan(clim[:, 0])
