"""Forecasting methods for one station's salinity, all built on the forecast an engineer already
makes: *tidal-day persistence* (the value one tidal day, 24 h 50 min, earlier).

Every method here is "persistence + a correction", judged by the same machinery:

- ``persistence``: no correction.
- ``persistence+tide``: the fitted tide's change over that tidal day (least squares on M2, S2, N2,
  K1, O1, M4, MS4 over the fitting window: analytics/tidal.py) is added, coefficient one.
- ``learned``: a correction learned per station and per lead time by ridge regression on the
  station's own recent history: how much of today's departure from yesterday's tide (the
  *anomaly*, ``y(now) − y(now − tidal day)``) and of the gap between the last reading and the
  persistence value carries on into the hours ahead. Its coefficients are all zero when nothing
  carries on, so it falls back to persistence by construction.
- ``harmonic``: the tidal fit alone (SaltWatch's first forecaster), kept for the benchmark.

Readings may come at any interval from 5 minutes to 3 hours, with gaps: values between two
readings are interpolated only across a gap no longer than ``max_gap_h``; the minimum history is
a *coverage* (hours of the fitting window with data), never a point count.

The band: for each lead hour, the quantiles of the method's own errors over the fitting window
(nominal ``coverage``, e.g. 90 %), widened when the last days were rougher than the window as a
whole (in-sample errors are optimistic when the weather turns). Pure numpy, no I/O; times are
hours relative to ``now`` (0 = now, history at or before 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from saltwatch.analytics.tidal import (
    TIDAL_DAY_H,
    History,
    days_back,
    tidal_design,
    tide_at,
    tide_fit,
)

FloatArray = npt.NDArray[np.float64]

Method = Literal["learned", "persistence", "persistence+tide", "harmonic"]
METHODS: tuple[Method, ...] = ("learned", "persistence", "persistence+tide", "harmonic")
_RECENT_H = 72.0  # "the last days" whose roughness may widen the band
_MIN_PAIRS = 12  # training pairs a lead hour needs before it is fitted
_ORIGIN_SPACING_H = 0.25  # 5-minute readings train no better than 15-minute ones, at 3x the cost


@dataclass(frozen=True)
class MethodSettings:
    """How a station's forecast is made: the first five from the rules' [forecast] table
    (analytics/forecast.py ``settings_from``), the rest the method's own constants."""

    method: Method
    fit_days: float
    min_coverage_h: float  # hours of the fitting window with data, at least
    coverage: float  # nominal share of later readings inside the band
    transform: Literal["linear", "log"]
    log_offset: float = 0.5  # log(S + offset) when transform = "log"
    ridge: float = 0.01  # shrinkage of the learned coefficients towards persistence
    max_gap_h: float = 3.5  # no interpolation across a longer gap (3-hourly data still joins)
    holdout_h: float = 72.0  # "learned" must beat persistence over these last hours, or yields


@dataclass
class Prediction:
    """Values at the requested leads (hours after now); ``method`` says what made them."""

    leads_h: FloatArray
    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    method: Method
    points: int  # readings in the fitting window
    coverage_h: float  # hours of the window with data


def _thinned(t: FloatArray, spacing_h: float) -> FloatArray:
    """The times, keeping one per ``spacing_h`` at most (the newest stays)."""
    if t.size < 2:
        return t
    keep = np.ones(t.size, bool)
    last = t[-1]
    for i in range(t.size - 2, -1, -1):
        if last - t[i] < spacing_h - 1e-9:
            keep[i] = False
        else:
            last = t[i]
    return t[keep]


class _Pairs:
    """Training pairs for every lead hour: origins in the window, the persistence value, the
    correction's features and the value that followed."""

    def __init__(self, history: History, leads: FloatArray, tide: FloatArray | None) -> None:
        t = history.t
        k = days_back(leads)[:, None]
        # origins: readings with a tidal day before them (the anomaly); each lead keeps those
        # whose persistence value and outcome are known (the rest are NaN, not valid)
        origins = _thinned(t[t >= t[0] + TIDAL_DAY_H - 1e-9], _ORIGIN_SPACING_H)
        o = np.broadcast_to(origins[None, :], (leads.size, origins.size))
        h = leads[:, None]
        self.origins = origins
        self.target = history.at(o + h)
        self.base = history.at(o + h - k * TIDAL_DAY_H)
        self.features = _features(history, o, h, k, tide)
        self.valid = np.isfinite(self.target) & np.isfinite(self.base)
        self.valid &= np.all(np.isfinite(self.features), axis=0)


def _features(
    history: History, o: FloatArray, h: FloatArray, k: FloatArray, tide: FloatArray | None
) -> FloatArray:
    """(n features, leads, origins): the anomaly now, the last reading against persistence, and
    the tide's change over the days looked back."""
    now_value = history.at(o)
    base = history.at(o + h - k * TIDAL_DAY_H)
    anomaly = now_value - history.at(o - TIDAL_DAY_H)
    rows = [anomaly, now_value - base]
    if tide is not None:
        rows.append(tide_at(tide, o + h) - tide_at(tide, o + h - k * TIDAL_DAY_H))
    return np.stack(rows)


def _ridge(x: FloatArray, y: FloatArray, ridge: float) -> FloatArray:
    """Ridge regression without intercept: zero coefficients are persistence."""
    gram = x.T @ x
    scale = float(np.trace(gram)) / max(gram.shape[0], 1)
    penalty = ridge * max(scale, 1e-12) * np.eye(gram.shape[0])
    return np.asarray(np.linalg.solve(gram + penalty, x.T @ y), np.float64)


@dataclass
class _Fitted:
    leads: FloatArray  # hourly lead grid
    coef: FloatArray  # (leads, features); zeros for persistence
    lower_q: FloatArray  # per lead: quantiles of the errors
    upper_q: FloatArray


def _fit_corrections(
    pairs: _Pairs, method: Method, s: MethodSettings, before_h: float = 0.0
) -> _Fitted | None:
    """Coefficients and the band's edges per lead hour, from the pairs whose outcome came at
    least ``before_h`` before now (``before_h`` > 0 holds the last hours out). None when no
    lead hour has enough pairs."""
    n_leads = pairs.target.shape[0]
    n_feat = pairs.features.shape[0]
    coef = np.zeros((n_leads, n_feat))
    lower_q, upper_q = np.zeros(n_leads), np.zeros(n_leads)
    alpha = (1.0 - s.coverage) / 2.0
    leads = np.arange(1, n_leads + 1, dtype=np.float64)
    fitted = np.zeros(n_leads, bool)
    for i in range(n_leads):
        ok = pairs.valid[i] & (pairs.origins + leads[i] <= -before_h + 1e-9)
        if int(ok.sum()) < _MIN_PAIRS:
            continue  # too short a record for this lead yet: persistence, band from below
        fitted[i] = True
        x = pairs.features[:, i, ok].T
        y = pairs.target[i, ok] - pairs.base[i, ok]
        if method == "learned":
            coef[i] = _ridge(x, y, s.ridge)
        elif method == "persistence+tide":
            coef[i, -1] = 1.0
        residual = y - x @ coef[i]
        origins = pairs.origins[ok]
        lower_q[i], upper_q[i] = conformal_edges(residual, alpha)
        recent = origins > -before_h - _RECENT_H
        if int(recent.sum()) >= 6:  # the last days rougher than the window as a whole: widen
            widen = _roughness(residual[recent], residual)
            lower_q[i] = min(lower_q[i] * widen, lower_q[i] / widen)  # outwards, either sign
            upper_q[i] = max(upper_q[i] * widen, upper_q[i] / widen)
    if not fitted.any():
        return None
    known = np.nonzero(fitted)[0]
    for missing in np.nonzero(~fitted)[0].tolist():  # errors grow like a random walk's beyond
        near = int(known[np.argmin(np.abs(known - missing))])
        grow = math.sqrt(leads[missing] / leads[near])
        lower_q[missing], upper_q[missing] = lower_q[near] * grow, upper_q[near] * grow
    return _Fitted(leads, coef, lower_q, upper_q)


def conformal_edges(errors: FloatArray, alpha: float) -> tuple[float, float]:
    """The band's edges from ``n`` errors: the order statistics that cover a new error with
    probability at least ``1 − 2 alpha`` (split-conformal ranks: ⌈(n+1)(1−α)⌉-th smallest and
    ⌊(n+1)α⌋-th), so that a short record gets the wider band its few errors warrant."""
    ordered = np.sort(errors)
    n = ordered.size
    hi = min(math.ceil((n + 1) * (1.0 - alpha)), n)
    lo = max(math.floor((n + 1) * alpha), 1)
    return float(ordered[lo - 1]), float(ordered[hi - 1])


def _roughness(recent: FloatArray, whole: FloatArray) -> float:
    """How much wider the band gets when the last days' errors ran above the window's: the
    square root of their RMS ratio, never below one (in-sample errors flatter the fit when the
    weather turns; the root keeps one stormy day from blowing the band up)."""
    ratio = float(np.mean(recent**2)) / max(float(np.mean(whole**2)), 1e-12)
    return max(1.0, float(ratio**0.25))


def _apply(
    history: History, fitted: _Fitted, tide: FloatArray | None, origin_h: float, leads: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Mean, lower and upper at ``leads`` hours after ``origin_h`` (a reading's time: the
    correction's features are read there), in the method's units."""
    k = days_back(leads)
    o = np.full(leads.shape, origin_h)
    base = history.at(o + leads - k * TIDAL_DAY_H)
    x = _features(history, o, leads, k, tide)
    coef = np.stack(
        [np.interp(leads, fitted.leads, fitted.coef[:, j]) for j in range(fitted.coef.shape[1])]
    )
    correction = np.sum(np.where(np.isfinite(x), x, 0.0) * coef, axis=0)
    mean = base + correction
    lower = mean + np.interp(leads, fitted.leads, fitted.lower_q)
    upper = mean + np.interp(leads, fitted.leads, fitted.upper_q)
    return mean, lower, upper


def _harmonic(history: History, leads: FloatArray, s: MethodSettings) -> tuple[FloatArray, ...]:
    """The tidal fit alone, its band from its residuals (the first forecaster's way)."""
    coef = tide_fit(history)
    fitted = tidal_design(history.t) @ coef
    residual = history.y - fitted
    alpha = (1.0 - s.coverage) / 2.0
    lo, hi = np.quantile(residual, [alpha, 1.0 - alpha])
    mean = tidal_design(leads) @ coef
    return mean, mean + lo, mean + hi


def predict(
    t_h: FloatArray, values: FloatArray, leads_h: FloatArray, s: MethodSettings
) -> Prediction | None:
    """The forecast at ``leads_h`` hours after now from readings at ``t_h`` (≤ 0, hours before
    now); None when the fitting window holds less than ``min_coverage_h`` of data or the last
    reading is older than a gap allows."""
    window = (t_h <= 0) & (t_h > -s.fit_days * 24.0) & np.isfinite(values)
    raw = np.maximum(np.asarray(values, np.float64)[window], 0.0)
    history = History(np.asarray(t_h, np.float64)[window], _forward(raw, s), s.max_gap_h)
    covered = history.coverage_h()
    if covered < s.min_coverage_h or history.t.size == 0 or history.t[-1] < -s.max_gap_h:
        return None
    hourly = np.arange(1.0, math.ceil(float(np.max(leads_h))) + 1.0)
    method: Method = s.method
    if method == "harmonic":
        mean, lower, upper = _harmonic(history, leads_h, s)
    else:
        tide = tide_fit(history) if method == "persistence+tide" else None
        pairs = _Pairs(history, hourly, tide)
        fitted = _fit_corrections(pairs, method, s)
        if fitted is None:
            return None
        if method == "learned" and not _beats_persistence(history, pairs, s):
            method = "persistence"
            fitted = _fit_corrections(pairs, method, s)
            if fitted is None:
                return None
        # from the last reading: its value is what is known now (its time is at or before now)
        origin = float(history.t[-1])
        mean, lower, upper = _apply(history, fitted, tide, origin, leads_h - origin)
    return Prediction(
        leads_h,
        np.maximum(_back(mean, s), 0.0),
        np.maximum(_back(lower, s), 0.0),
        np.maximum(_back(upper, s), 0.0),
        method,
        int(history.t.size),
        covered,
    )


def _beats_persistence(history: History, pairs: _Pairs, s: MethodSettings) -> bool:
    """Held out: fitted on all but the last ``holdout_h``, does the learned correction beat
    plain persistence over them (24 h ahead at most)? With too little history to hold any out,
    the learned correction stands (ridge keeps it near persistence)."""
    early = _fit_corrections(pairs, "learned", s, before_h=s.holdout_h)
    if early is None:
        return True
    learned_err, plain_err = 0.0, 0.0
    for i, lead in enumerate(early.leads[:24]):
        late = pairs.valid[i] & (pairs.origins > -s.holdout_h - lead) & (pairs.origins + lead <= 0)
        if not late.any():
            continue
        y = pairs.target[i, late] - pairs.base[i, late]
        x = pairs.features[:, i, late].T
        learned_err += float(np.sum(np.abs(y - x @ early.coef[i])))
        plain_err += float(np.sum(np.abs(y)))
    return learned_err <= plain_err


def _forward(values: FloatArray, s: MethodSettings) -> FloatArray:
    if s.transform == "log":
        return np.log(values + s.log_offset)
    return values


def _back(values: FloatArray, s: MethodSettings) -> FloatArray:
    if s.transform == "log":
        return np.exp(values) - s.log_offset
    return values
