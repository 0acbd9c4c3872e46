"""The week ahead: one daily series (a station's daily peak or low, a salt front's km) forecast
for days 1 to ``horizon_days``, as "persistence + a correction" like the 48 h forecaster.

The baseline an engineer already has is *persistence of the daily peak*: today's highest, again,
every day of the week. Each method (``persistence``, ``damped``, ``damped+climate``,
``damped+tide``, ``damped+springs``, ``damped+flow``: what each leans on is in
analytics/outlook_inputs.py) adds a
correction learned per lead day from the series' own past: a robust, median-seeking fit shrunk
towards zero, so a correction that carries nothing gives persistence back.

Each origin's method is chosen by the methods' own out-of-sample errors over the previous
``select_days`` origins whose targets are known; a correction that erred more than persistence
there is not shipped. The band is the conformal quantiles of the shipped forecasts' past errors
per lead. Pure numpy, no I/O: days are integer ordinals, missing days NaN.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saltwatch.analytics.outlook_inputs import (
    OUTLOOK_METHODS,
    DailySeries,
    FloatArray,
    OutlookMethod,
    OutlookSettings,
    method_inputs,
)

_MIN_BAND_ERRORS = 10  # past errors a lead needs before its band is drawn from them
_IRLS_STEPS = 12
_CYCLES_BEAT_DAYS = 182  # 1 / (1/13.66 − 1/14.77): the tropic and spring–neap cycles' beat
_RECENT_DAYS = 10  # the last errors whose roughness may widen the band


@dataclass
class Outlooks:
    """Forecasts made at every origin (index = the last day known), leads 1..days as columns."""

    mean: FloatArray  # (n, days)
    lower: FloatArray
    upper: FloatArray
    method: list[OutlookMethod]  # per origin ("persistence" where nothing better was earned)
    climatology: npt.NDArray[np.bool_]  # per origin: the shipped forecast leaned on the date's
    # climatology (damped+climate, +springs or +flow where earlier years hold the date)
    by_method: dict[OutlookMethod, FloatArray]  # every candidate's out-of-sample forecasts


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
                    if rows.size >= s.min_pairs and _spans_enough(rows, method)
                    else None
                )
            if coef is not None and not np.isnan(xl[t]).any():
                out[t, lead - 1] = y[t] + xl[t] @ coef
    return out


def _spans_enough(rows: npt.NDArray[np.intp], method: OutlookMethod) -> bool:
    """The springs' two cycles drift through each other every 182 days: pairs from a shorter
    stretch (a year of record sampled in bursts that hold no pair at this lead) cannot tell
    them apart, and the fit is not made."""
    return method != "damped+springs" or int(rows[-1] - rows[0]) >= _CYCLES_BEAT_DAYS


def _bounded(coef: FloatArray, method: OutlookMethod) -> FloatArray:
    """What each correction may mean: a share of the way toward each anchor (0 to 1, never away
    from it), and of the spring–neap change (0 to 1: the cycle carries on, it is not amplified).
    A fit on a few weeks of a rising season would otherwise extrapolate. The springs' cycles
    are fitted freely (two inputs each: a phase and a size), on a year of record or more."""
    out = coef.copy()
    out[0] = min(max(out[0], 0.0), 1.0)
    if method in ("damped+tide", "damped+climate", "damped+springs"):
        out[1] = min(max(out[1], 0.0), 1.0)
    return out


def _leave_nested(by_method: dict[OutlookMethod, FloatArray]) -> None:
    """Where ``damped+springs`` forecasts every lead, its special cases (``damped``,
    ``damped+climate``: the same correction with inputs left out) are not offered beside it:
    choosing among near-equal methods on a few noisy weeks lost what its cycles gained. Where
    its fit lacks pairs (a year of record sampled in bursts), they stay."""
    richer = by_method.get("damped+springs")
    if richer is None:
        return
    fitted = np.asarray(~np.isnan(richer).any(axis=1), np.bool_)
    for nested in ("damped", "damped+climate"):
        if nested in by_method:
            by_method[nested] = np.where(fitted[:, None], np.nan, by_method[nested])


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
    feats, has_climate = method_inputs(series, s)
    by_method: dict[OutlookMethod, FloatArray] = {"persistence": persistence}
    for method, x in feats.items():
        if method in methods:
            by_method[method] = _corrected(y, x, s, first, method)
    _leave_nested(by_method)
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
    leaning = ("damped+climate", "damped+springs", "damped+flow")
    leaned = np.array([m in leaning for m in chosen]) & has_climate
    return Outlooks(mean, lower, upper, chosen, leaned, by_method)
