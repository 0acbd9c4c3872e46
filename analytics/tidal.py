"""A station's readings as a function of time, and its tide: the standard constituents fitted
to the recent readings by least squares (recent ones weigh more), and the tidal day over which
the forecasters' persistence looks back. Shared by the 48 h forecasters (analytics/forecasters.py),
their score (analytics/forecast_score.py) and the spring-tide calendar (analytics/tides_ahead.py).
Pure numpy; times are hours relative to "now" (0 = now, history at or before 0)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

TIDAL_DAY_H = 2 * 12.4206012  # two M2 periods: the same phase of the tide a day later
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


class History:
    """One station's readings over the fitting window, interpolated on demand."""

    def __init__(self, t_h: FloatArray, y: FloatArray, max_gap_h: float) -> None:
        order = np.argsort(t_h, kind="stable")
        self.t = np.asarray(t_h, np.float64)[order]
        self.y = np.asarray(y, np.float64)[order]
        self.max_gap_h = max_gap_h

    def at(self, q: FloatArray) -> FloatArray:
        """Interpolated values at times ``q`` (NaN outside the readings or across a gap)."""
        t, y = self.t, self.y
        out = np.full(q.shape, np.nan)
        if t.size == 0:
            return out
        i = np.searchsorted(t, q, side="left")
        exact = (i < t.size) & (t[np.minimum(i, t.size - 1)] == q)
        out[exact] = y[np.minimum(i, t.size - 1)][exact]
        if t.size < 2:
            return out
        hi = np.clip(i, 1, t.size - 1)
        lo = hi - 1
        gap = t[hi] - t[lo]
        inside = (i > 0) & (i < t.size) & (gap <= self.max_gap_h) & ~exact
        share = (q - t[lo]) / np.where(gap > 0, gap, 1.0)
        out[inside] = (y[lo] + share * (y[hi] - y[lo]))[inside]
        return out

    def coverage_h(self) -> float:
        """Hours with data: each reading covers the time to the next one, across short gaps."""
        if self.t.size < 2:
            return 0.0
        gaps = np.diff(self.t)
        return float(np.sum(gaps[gaps <= self.max_gap_h]))


def tidal_design(t_h: FloatArray) -> FloatArray:
    """Columns: a level, a trend per day, and a cosine and a sine per constituent."""
    columns = [np.ones_like(t_h), t_h / 24.0]
    for period in CONSTITUENTS.values():
        w = 2 * np.pi * t_h / period
        columns += [np.cos(w), np.sin(w)]
    return np.column_stack(columns)


def tide_fit(history: History, half_life_days: float = 2.0) -> FloatArray:
    """Least-squares coefficients of a level line plus the constituents (recent weigh more)."""
    a = tidal_design(history.t)
    w = np.sqrt(0.5 ** (-history.t / (24.0 * half_life_days)))
    solution = np.linalg.lstsq(a * w[:, None], history.y * w, rcond=None)
    return np.asarray(solution[0], dtype=np.float64)


def tide_at(coef: FloatArray, t_h: FloatArray) -> FloatArray:
    """The fitted tide (constituents only, without the level) at times ``t_h``."""
    flat = t_h.reshape(-1)
    design = tidal_design(flat)
    design[:, :2] = 0.0
    return np.asarray(design @ coef, np.float64).reshape(t_h.shape)


def days_back(lead_h: FloatArray) -> FloatArray:
    """Whole tidal days to look back so that the persistence value is already known."""
    return np.maximum(np.ceil(lead_h / TIDAL_DAY_H - 1e-9), 1.0)
