"""The spring-tide calendar ("lịch triều cường"): the days of the coming spring tides, when the
sea pushes salt furthest, and where a water-level station says so, their heights.

From the tide fitted (analytics/forecasters.py ``tide_fit``: M2, S2, N2, K1, O1, M4, MS4 by
least squares) to the last ``_FIT_DAYS`` of hourly values of, in this order: a river station's
water level nearest the mouth (heights in m), else the salinity station nearest the mouth (the
salt's own tide: days only, no heights), else the Moon alone (spring tides follow new and full
moon by about a day and a half on this coast: days only).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

import numpy as np

from saltwatch.analytics.outlook_kept import vn_date
from saltwatch.analytics.tidal import History, tide_at, tide_fit
from saltwatch.core.qc import BAD_FLAGS
from saltwatch.core.registry import Device, Registry, Structure
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind

_FIT_DAYS = 30
_MIN_COVERAGE_H = 15 * 24.0  # hours of the fitting span with values, at least
_MAX_GAP_H = 3.5
#: a new moon (2000-01-06 18:14 UTC) and the synodic month, days; spring tides lag the syzygy
_NEW_MOON_S = 947182440
_SYNODIC_DAYS = 29.530588853
_AGE_OF_TIDE_DAYS = 1.5


@dataclass(frozen=True)
class SpringTide:
    day: date
    height_m: float | None  # the day's highest water (water-level basis only)


@dataclass(frozen=True)
class TideCalendar:
    basis: str  # "level", "salinity" or "moon"
    device: str | None  # the station whose tide was fitted
    springs: tuple[SpringTide, ...]


def _nearest_mouth(registry: Registry, kind: str) -> Device | None:
    placed = [d for d in registry.devices_of(kind) if d.km is not None]
    return min(placed, key=lambda d: d.km or 0.0, default=None)


def _fitted(
    store: ReadingStore, kind: TopicKind, device: str, field: str, now_ns: int, days: int
) -> tuple[np.ndarray, np.ndarray] | None:
    """Hourly times (ns) of the days ahead and the fitted tide at them (level included), or
    None when the last ``_FIT_DAYS`` hold too little."""
    start = now_ns - _FIT_DAYS * 86400 * NS_PER_S
    rows = store.query(kind, device, start, now_ns + 1, 100_000)
    t, y = [], []
    for r in rows:
        value = r.fields.get(field)
        if not r.qc & BAD_FLAGS and isinstance(value, float):
            t.append((r.ts_ns - now_ns) / NS_PER_S / 3600.0)
            y.append(value)
    history = History(np.asarray(t, np.float64), np.asarray(y, np.float64), _MAX_GAP_H)
    if history.coverage_h() < _MIN_COVERAGE_H:
        return None
    coef = tide_fit(history, half_life_days=_FIT_DAYS)
    ahead = np.arange(0.0, days * 24.0 + 24.0, 0.5)
    level = float(np.average(history.y))
    return now_ns + (ahead * 3600 * NS_PER_S).astype(np.int64), tide_at(coef, ahead) + level


def _springs(times: np.ndarray, values: np.ndarray, heights: bool) -> tuple[SpringTide, ...]:
    """Days whose tidal range is the highest within three days either side."""
    by_day: dict[date, list[float]] = {}
    for ts, v in zip(times, values, strict=True):
        by_day.setdefault(vn_date(int(ts)), []).append(float(v))
    days = sorted(d for d, vs in by_day.items() if len(vs) >= 40)  # whole days only
    ranges = [max(by_day[d]) - min(by_day[d]) for d in days]
    out = []
    for i, d in enumerate(days):
        around = ranges[max(0, i - 3) : i + 4]
        if 0 < i < len(days) - 1 and ranges[i] == max(around):
            out.append(SpringTide(d, round(max(by_day[d]), 2) if heights else None))
    return tuple(out)


def moon_springs(now_ns: int, days: int) -> tuple[SpringTide, ...]:
    """Days of spring tide from the Moon alone: new and full moon plus the tide's age."""
    now_s = now_ns / NS_PER_S
    half = _SYNODIC_DAYS / 2.0
    k = math.floor((now_s - _NEW_MOON_S) / 86400.0 / half) - 1
    out: list[SpringTide] = []
    while True:
        at = _NEW_MOON_S + (k * half + _AGE_OF_TIDE_DAYS) * 86400.0
        k += 1
        if at < now_s - 86400:
            continue
        if at > now_s + days * 86400:
            return tuple(out)
        out.append(SpringTide(datetime.fromtimestamp(at, VN_TZ).date(), None))


def calendar(store: ReadingStore, registry: Registry, now_ns: int, days: int) -> TideCalendar:
    """The spring tides of the next ``days`` (today included)."""
    for kind, device_kind, field, heights in (
        (TopicKind.HYDRO, "hydro", "level_m", True),
        (TopicKind.SALINITY, "salinity", "salinity_ppt", False),
    ):
        station = _nearest_mouth(registry, device_kind)
        if station is None:
            continue
        fitted = _fitted(store, kind, station.id, field, now_ns, days)
        if fitted is not None:
            basis = "level" if heights else "salinity"
            return TideCalendar(basis, station.id, _springs(*fitted, heights))
    return TideCalendar("moon", None, moon_springs(now_ns, days))


#: a water-level station this close to a structure (km along its river) gives its tide
_LEVEL_NEAR_KM = 30.0
#: a turn of the fitted tide smaller than this share of its largest swing is a ripple of the
#: overtides (a salt tide clipped at fresh water rings), not a high or low water
_MINOR_TURN = 0.15


@dataclass(frozen=True)
class Water:
    """A predicted high or low water."""

    at_ns: int
    high: bool
    height_m: float | None  # water-level basis only


@dataclass(frozen=True)
class Waters:
    basis: Literal["level", "salinity", "none"]
    device: str | None  # the station whose tide was fitted
    waters: tuple[Water, ...]


def extremes(times: np.ndarray, values: np.ndarray, heights: bool) -> tuple[Water, ...]:
    """The highs and lows of a fitted tide sampled evenly, each placed between its samples by
    the parabola through it and its neighbours; a pair of turns whose swing is under
    ``_MINOR_TURN`` of the largest is dropped (the smallest first), so highs and lows alternate."""
    turns = _turns(times, values)
    while len(turns) > 1:
        swings = [abs(a[2] - b[2]) for a, b in itertools.pairwise(turns)]
        smallest = min(range(len(swings)), key=swings.__getitem__)
        if swings[smallest] >= _MINOR_TURN * max(swings):
            break
        del turns[smallest : smallest + 2]
    return tuple(Water(t, high, round(v, 2) if heights else None) for t, high, v in turns)


def _turns(times: np.ndarray, values: np.ndarray) -> list[tuple[int, bool, float]]:
    """Every turn of the sampled curve: (time, a high, the value there)."""
    out = []
    step = float(times[1] - times[0]) if times.size > 1 else 0.0
    for i in range(1, values.size - 1):
        before, here, after = float(values[i - 1]), float(values[i]), float(values[i + 1])
        high = here > before and here >= after
        if not (high or (here < before and here <= after)):
            continue
        curve = before - 2 * here + after
        shift = 0.5 * (before - after) / curve if curve else 0.0
        top = here - 0.25 * (before - after) * shift
        out.append((int(times[i] + shift * step), high, top))
    return out


def waters(
    store: ReadingStore, registry: Registry, structure: Structure, now_ns: int, days: int = 3
) -> Waters:
    """High and low waters predicted at ``structure`` for the next ``days``: from the fitted tide
    of a water-level station on its river within ``_LEVEL_NEAR_KM`` (times and heights), else
    of its guard station's salinity (the salt's own tide: its highs come with high water and its
    lows with low water at the gate; times only), else none."""
    at_km, river = structure.km, structure.river
    near = (
        [
            d
            for d in registry.devices_of("hydro")
            if d.river == river and d.km is not None and abs(d.km - at_km) <= _LEVEL_NEAR_KM
        ]
        if river is not None and at_km is not None
        else []
    )
    tries = [(TopicKind.HYDRO, d.id, "level_m", True) for d in near]
    tries.append((TopicKind.SALINITY, structure.guard, "salinity_ppt", False))
    for kind, device, field, heights in tries:
        fitted = _fitted(store, kind, device, field, now_ns, days)
        if fitted is not None:
            found = extremes(*fitted, heights)
            return Waters("level" if heights else "salinity", device, found)
    return Waters("none", None, ())
