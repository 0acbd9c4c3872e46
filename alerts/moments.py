"""When can a salinity station's instant judgement change? Pure, vectorised over a window.

The threshold rule (hold times, hysteresis) concludes the same thing at every reading of a run in
one *band* of the station's levels (below clearing the warning, below the warning, below clearing
the critical level, below it, above it), except where a hold time since the run began runs out. So
a station's new readings need judging only at the readings where the band moves and at the first
reading at or after each hold's end: a handful per tide instead of one per reading, whether the
readings came live, in a backlog or out of order (the moments come from the window, which already
holds them in time order).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from saltwatch.alerts.windows import DeviceWindow
from saltwatch.core.rules import SalinityLevels
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_datetime

LevelsAt = Callable[[int], SalinityLevels]  # the levels in force at a measurement time


def _bands(values: np.ndarray, warning: Any, critical: Any, clear_fraction: float) -> np.ndarray:
    """0 below clearing the warning … 4 at or above the critical level (levels: scalars or one
    per value)."""
    bands: np.ndarray = (
        (values >= clear_fraction * warning).astype(np.int8)
        + (values >= warning)
        + (values >= clear_fraction * critical)
        + (values >= critical)
    )
    return bands


def salinity_moments(
    window: DeviceWindow,
    since_ns: int,
    levels_at: LevelsAt,
    clear_fraction: float,
    watching: bool = True,
) -> list[int]:
    """The measurement times at or after ``since_ns`` where the station's threshold judgement
    can change, oldest first. ``watching``: an alert of the rule is open (or pending); when
    none is, the clearing levels cannot matter and only the levels themselves make moves."""
    ts, values = window.good_salinity()
    if ts.size == 0 or ts[-1] < since_ns:
        return []
    newest = levels_at(int(ts[-1]))
    longest = max(newest.hold_warning, newest.hold_critical, newest.hold_clear)
    # a band move up to the longest hold before ``since`` can ripen after it; the reading before
    # that gives the band the move is measured from
    start = max(int(ts.searchsorted(since_ns - int(longest * NS_PER_S), "left")) - 1, 0)
    ts, values = ts[start:], values[start:]
    oldest = levels_at(int(ts[0]))
    if oldest is newest:  # one month (MonthLevels hands out one object per month)
        holds_of = [newest] * ts.size
        warning: Any = newest.warning
        critical: Any = newest.critical
    else:  # the levels change inside the span (a season's turn): per reading
        holds_of = [levels_at(int(t)) for t in ts]
        warning = np.array([lv.warning for lv in holds_of])
        critical = np.array([lv.critical for lv in holds_of])
    if watching:
        bands = _bands(values, warning, critical, clear_fraction)
    else:  # below the warning, above it, above the critical level: bands 0, 2 and 4
        bands = ((values >= warning).astype(np.int8) + (values >= critical)) * 2
    previous = np.concatenate(([-1], bands[:-1])).astype(np.int8)
    moves = np.flatnonzero(bands != previous)
    out = set(ts[moves].tolist())
    for i in moves.tolist():
        band, before, lv = int(bands[i]), int(previous[i]), holds_of[i]
        if band > before and band in (2, 4):  # rose to a level: that level's hold
            hold = lv.hold_warning if band == 2 else lv.hold_critical
        elif band < before:  # fell: the clearing hold
            hold = lv.hold_clear
        else:
            continue
        if hold > 0:
            ripe = int(ts.searchsorted(int(ts[i]) + int(hold * NS_PER_S), "left"))
            if ripe < ts.size:
                out.add(int(ts[ripe]))
    return sorted(t for t in out if t >= since_ns)


class MonthLevels:
    """``levels_at`` for one device: the levels by the month (Vietnam time) of a time, with the
    months' spans remembered so that calls rarely compute a date (a few months at most)."""

    def __init__(self, levels_for_month: Callable[[int], SalinityLevels]) -> None:
        self._for_month = levels_for_month
        self._known: list[tuple[int, int, SalinityLevels]] = []

    def __call__(self, ts_ns: int) -> SalinityLevels:
        for lo, hi, levels in self._known:
            if lo <= ts_ns < hi:
                return levels
        day = to_datetime(ts_ns, VN_TZ)
        first = day.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = first.replace(year=first.year + first.month // 12, month=first.month % 12 + 1)
        levels = self._for_month(day.month)
        span = (int(first.timestamp()) * NS_PER_S, int(following.timestamp()) * NS_PER_S, levels)
        self._known = [span, *self._known[:3]]
        return levels
