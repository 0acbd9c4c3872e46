"""The week ahead: one daily series (a station's daily peak or low, a salt front's km) forecast
for days 1 to ``horizon_days``, as "persistence + a correction" like the 48 h forecaster.

The baseline an engineer already has is *persistence of the daily peak*: today's highest, again,
every day of the week. Each method adds a correction learned per lead day from the series' own
past (a robust, median-seeking fit shrunk towards zero, so a correction that carries nothing
gives persistence back):

- ``persistence``: none.
- ``damped``: lean toward the mean of the series' last ``anchor_days``.
- ``damped+climate``: also toward the series' usual value for the target date (its
  climatology: the median of earlier years' values within ± ``climate_halfwidth`` days), where
  earlier years hold enough values; each share fitted. A year is not like the one before (the
  Mekong's 2016 and 2020 against a mild year): leaning on the climatology alone, two earlier
  seasons of other heights made the simulator's stations' outlook worse than having none
  (docs/analytics.md).
- ``damped+tide``: ``damped`` and the spring–neap change between today and the target day, from
  the 14.77-day (MSf) harmonic fitted to the series' last ``tide_days``. The 13.66-day (Mf) and
  27.55-day (Mm) ones were tried beside it: two months cannot tell MSf from Mf apart, and the
  fit got worse on the simulator and no better on the measured series.
- ``damped+flow``: toward the climatology where earlier years hold the date (else the recent
  mean), and where the upstream flow holds the series, where a river station gives one: the
  log of the mean discharge over the last 1, 7, 30 and 90 days, the value itself, and the value
  times the 30-day flow and squared. A salt front moves toward the place its river's recent
  flows hold it, faster the further it is from it; one 30-day mean alone gained a tenth as much
  on the Delaware's front (docs/benchmarks.md).

Each origin's method is chosen by the methods' own out-of-sample errors over the previous
``select_days`` origins whose targets are known; a correction that erred more than persistence
there is not shipped. The band is the conformal quantiles of the shipped forecasts' past errors
per lead. Pure numpy, no I/O: days are integer ordinals, missing days NaN.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, fields
from typing import Literal

import numpy as np
import numpy.typing as npt

from saltwatch.core.rules import OutlookRules

FloatArray = npt.NDArray[np.float64]

OutlookMethod = Literal["persistence", "damped", "damped+climate", "damped+tide", "damped+flow"]
OUTLOOK_METHODS: tuple[OutlookMethod, ...] = (
    "persistence",
    "damped",
    "damped+climate",
    "damped+tide",
    "damped+flow",
)
#: the spring–neap (MSf) period in days
FORTNIGHT_DAYS = (14.765294,)
YEAR_DAYS = 365.2425
_FLOW_DAYS = (1, 7, 30, 90)  # the flows that hold a front: means of the last days' discharge
_MIN_BAND_ERRORS = 10  # past errors a lead needs before its band is drawn from them
_IRLS_STEPS = 12
_RECENT_DAYS = 10  # the last errors whose roughness may widen the band


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


@dataclass
class Outlooks:
    """Forecasts made at every origin (index = the last day known), leads 1..days as columns."""

    mean: FloatArray  # (n, days)
    lower: FloatArray
    upper: FloatArray
    method: list[OutlookMethod]  # per origin ("persistence" where nothing better was earned)
    climatology: npt.NDArray[np.bool_]  # per origin: the shipped forecast leaned on the date's
    # climatology (damped+climate, or damped+flow where earlier years hold the date)
    by_method: dict[OutlookMethod, FloatArray]  # every candidate's out-of-sample forecasts


def _trailing_mean(y: FloatArray, window: int) -> FloatArray:
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


def _features(
    series: DailySeries, s: OutlookSettings
) -> tuple[dict[OutlookMethod, FloatArray], npt.NDArray[np.bool_]]:
    """Per method, the (n, days, k) corrections' inputs; and which origins had a climatology."""
    y = np.asarray(series.values, np.float64)
    n, days = y.size, s.horizon_days
    clim = climatology(y, days, s)
    recent = np.repeat(_trailing_mean(y, s.anchor_days)[:, None], days, axis=1)
    anchor = np.where(np.isnan(clim), recent, clim)
    toward_anchor = (anchor - y[:, None])[:, :, None]  # the flow method's: climate, else recent
    toward_recent = (recent - y[:, None])[:, :, None]
    found: dict[OutlookMethod, FloatArray] = {"damped": toward_recent}
    if np.isfinite(clim).any():
        toward_climate = (clim - y[:, None])[:, :, None]
        found["damped+climate"] = np.concatenate([toward_recent, toward_climate], axis=2)
    tide = spring_neap(y, days, s)[:, :, None]
    found["damped+tide"] = np.concatenate([toward_recent, tide], axis=2)
    if series.flow is not None and np.isfinite(series.flow).any():
        flows = [np.log(np.maximum(_trailing_mean(series.flow, w), 1e-3)) for w in _FLOW_DAYS]
        season = flows[_FLOW_DAYS.index(30)]
        held = np.stack([y, np.ones(n), *flows, y * season, y * y], axis=1)
        level = np.repeat(held[:, None, :], days, axis=1)
        found["damped+flow"] = np.concatenate([toward_anchor, level], axis=2)
    return found, ~np.isnan(clim[:, 0])


def robust_fit(x: FloatArray, y: FloatArray, ridge: float) -> FloatArray:
    """Coefficients of a median-seeking (least absolute error, by reweighting) fit shrunk toward
    zero; inputs are scaled so that ``ridge`` means the same for every input."""
    scale = x.std(axis=0) + 1e-9
    xs = x / scale
    eye = ridge * np.eye(xs.shape[1])
    w = np.linalg.solve(xs.T @ xs + eye, xs.T @ y)
    floor = max(float(np.median(np.abs(y))) * 0.05, 1e-6)
    for _ in range(_IRLS_STEPS):
        weight = 1.0 / np.maximum(np.abs(y - xs @ w), floor)
        w = np.linalg.solve((xs * weight[:, None]).T @ xs + eye, (xs * weight[:, None]).T @ y)
    return np.asarray(w / scale, np.float64)


def _corrected(
    y: FloatArray, x: FloatArray, s: OutlookSettings, first: int, method: OutlookMethod
) -> FloatArray:
    """Out-of-sample forecasts from origin ``first`` on: refitted every ``refit_every`` days on
    the pairs whose targets were known at the refit."""
    n, days = x.shape[0], s.horizon_days
    out = np.full((n, days), np.nan)
    for lead in range(1, days + 1):
        target = np.full(n, np.nan)
        target[: n - lead] = y[lead:] - y[: n - lead]
        xl = x[:, lead - 1, :]
        usable = ~np.isnan(target) & ~np.isnan(xl).any(axis=1)
        coef: FloatArray | None = None
        for t in range(first, n):
            if (t - first) % s.refit_every == 0:
                rows = np.flatnonzero(usable[: max(0, t - lead + 1)])
                coef = (
                    _bounded(robust_fit(xl[rows], target[rows], s.ridge), method)
                    if rows.size >= s.min_pairs
                    else None
                )
            if coef is not None and not np.isnan(xl[t]).any():
                out[t, lead - 1] = y[t] + xl[t] @ coef
    return out


def _bounded(coef: FloatArray, method: OutlookMethod) -> FloatArray:
    """What each correction may mean: a share of the way toward each anchor (0 to 1, never away
    from it), and of the spring–neap change (0 to 1: the cycle carries on, it is not amplified).
    A fit on a few weeks of a rising season would otherwise extrapolate."""
    out = coef.copy()
    out[0] = min(max(out[0], 0.0), 1.0)
    if method in ("damped+tide", "damped+climate"):
        out[1] = min(max(out[1], 0.0), 1.0)
    return out


def _errors(y: FloatArray, pred: FloatArray) -> FloatArray:
    """(n, days): |observed − forecast| at each origin and lead (NaN where either is missing)."""
    n, days = pred.shape
    err = np.full((n, days), np.nan)
    for lead in range(1, days + 1):
        err[: n - lead, lead - 1] = np.abs(y[lead:] - pred[: n - lead, lead - 1])
    return err


def _span(t: int, window: int, lead: int) -> slice:
    """The origins whose target at ``lead`` was known at ``t``, the last ``window`` of them."""
    hi = max(0, t - lead + 1)
    return slice(max(0, hi - window), hi)


def _choose(t: int, errs: dict[OutlookMethod, FloatArray], s: OutlookSettings) -> OutlookMethod:
    """The method whose errors over the origins known at ``t`` were least, summed over leads
    on the origins every candidate forecast; persistence unless a correction beat it.
    ``errs`` holds the methods that forecast at ``t`` (persistence always does)."""
    best: OutlookMethod = "persistence"
    sums: dict[OutlookMethod, float] = {}
    base = errs["persistence"]
    for lead in range(1, s.horizon_days + 1):
        rows = _span(t, s.select_days, lead)
        common = ~np.isnan(base[rows, lead - 1])
        for e in errs.values():
            common &= ~np.isnan(e[rows, lead - 1])
        if common.sum() < s.min_pairs // 2:
            return best
        for method, e in errs.items():
            sums[method] = sums.get(method, 0.0) + float(np.mean(e[rows, lead - 1][common]))
    for method, total in sums.items():
        if total < sums[best]:
            best = method
    return best


def conformal(errors: FloatArray, coverage: float) -> tuple[float, float]:
    """The lower and upper offsets holding ``coverage`` of signed ``errors`` (observed minus
    forecast), by conformal ranks: a short record gets a wider band."""
    e = np.sort(errors[~np.isnan(errors)])
    if e.size == 0:
        return math.nan, math.nan
    tail = (1.0 - coverage) / 2.0
    lo = max(0, math.floor(tail * (e.size + 1)) - 1)
    hi = min(e.size - 1, math.ceil((1.0 - tail) * (e.size + 1)) - 1)
    return float(e[lo]), float(e[hi])


def _roughness(past: FloatArray) -> float:
    """How much rougher the last ``_RECENT_DAYS`` errors were than the whole window's (≥ 1):
    errors known so far lag the weather by the lead, so a turn widens the band at once."""
    known = past[~np.isnan(past)]
    if known.size < 2 * _RECENT_DAYS:
        return 1.0
    recent = float(np.mean(np.abs(known[-_RECENT_DAYS:])))
    whole = float(np.mean(np.abs(known)))
    return max(1.0, recent / whole) if whole > 0 else 1.0


def outlooks(
    series: DailySeries,
    s: OutlookSettings,
    first: int = 0,
    methods: tuple[OutlookMethod, ...] = OUTLOOK_METHODS,
) -> Outlooks:
    """Forecasts at every origin from ``first`` (earlier days are history only), each from the
    method its own past chose among ``methods``, with its band."""
    y = np.asarray(series.values, np.float64)
    n, days = y.size, s.horizon_days
    persistence = np.repeat(y[:, None], days, axis=1)
    feats, has_climate = _features(series, s)
    by_method: dict[OutlookMethod, FloatArray] = {"persistence": persistence}
    for method, x in feats.items():
        if method in methods:
            by_method[method] = _corrected(y, x, s, first, method)
    errs = {m: _errors(y, p) for m, p in by_method.items()}
    signed = np.full((n, days), np.nan)
    for lead in range(1, days + 1):
        signed[: n - lead, lead - 1] = y[lead:]
    mean = np.full((n, days), np.nan)
    lower = np.full((n, days), np.nan)
    upper = np.full((n, days), np.nan)
    chosen: list[OutlookMethod] = ["persistence"] * n
    for t in range(first, n):
        if np.isnan(y[t]):
            continue
        ready = {m: e for m, e in errs.items() if not np.isnan(by_method[m][t]).any()}
        method = _choose(t, ready, s)
        pred = by_method[method][t]
        chosen[t] = method
        mean[t] = pred
        for lead in range(1, days + 1):
            rows = _span(t, s.band_days, lead)
            past = signed[rows, lead - 1] - mean[rows, lead - 1]
            if np.count_nonzero(~np.isnan(past)) < _MIN_BAND_ERRORS:
                past = signed[rows, lead - 1] - persistence[rows, lead - 1]
            lo, hi = conformal(past, s.band)
            widen = _roughness(past)
            lower[t, lead - 1] = pred[lead - 1] + lo * widen
            upper[t, lead - 1] = pred[lead - 1] + hi * widen
    leaned = np.array([m in ("damped+climate", "damped+flow") for m in chosen]) & has_climate
    return Outlooks(mean, lower, upper, chosen, leaned, by_method)
