"""Which edge of a station's forecast band its safe intake windows are read from.

The band's upper edge is safe but timid: a window announced only where even the upper edge stays
below the intake threshold is nearly always right, yet it misses most of the hours that were in
fact safe. How far below the upper edge one may go depends on the station, so each station's own
past forecasts decide (docs/analytics.md "Safe intake windows"): for each candidate edge, from
the upper edge down towards the mean, the windows those forecasts would
have announced are scored against the readings that followed them, and the lowest edge whose
windows were right at least ``precision`` of the time is used. The precision it achieved goes
with every window announced from it. Too little scored history: the upper edge, as before.

An edge ``q`` is a place in the band: 1 the upper edge, 0 the mean, −1 the lower edge. The edges
tried stop a quarter of the way above the mean: on the measured series of docs/analytics.md,
lower edges chosen on a station's past windows were wrong more often in the days after than the
past said (the future is not the past), and a choice over more days
(``forecast.window_calibration_days``, 60) held better than one over the 14 days of the live
score.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from saltwatch.analytics.forecast_score import PastForecast

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: the edges tried, most cautious first
EDGES: tuple[float, ...] = (1.0, 0.875, 0.75, 0.625, 0.5, 0.375, 0.25)
UPPER = 1.0


@dataclass(frozen=True)
class Edge:
    """The edge chosen, what its windows achieved on the station's past forecasts (None: no
    scored history) and on how many readings inside those windows that was judged."""

    q: float = UPPER
    precision: float | None = None
    recall: float | None = None
    judged: int = 0


def edge_of(mean: FloatArray, lower: FloatArray, upper: FloatArray, q: float) -> FloatArray:
    """The band's edge ``q`` (1 upper, 0 mean, −1 lower) at each step."""
    if q >= 0:
        return mean + q * (upper - mean)
    return mean + q * (mean - lower)


def runs_at_least(safe: BoolArray, min_steps: int) -> BoolArray:
    """``safe`` (along its last axis) with the runs of fewer than ``min_steps`` consecutive
    steps cleared."""
    n = safe.shape[-1]
    if min_steps <= 1 or n == 0:
        return safe.copy()
    if min_steps > n:
        return np.zeros_like(safe)
    pad = [(0, 0)] * (safe.ndim - 1) + [(1, 0)]
    count: IntArray = np.pad(np.cumsum(safe, axis=-1), pad)
    # a full run of min_steps starts at i
    full: BoolArray = (count[..., min_steps:] - count[..., : n - min_steps + 1]) == min_steps
    # a step is kept when one of the full runs starting min_steps − 1 steps before it or later
    # (up to itself) holds it
    started: IntArray = np.pad(np.cumsum(full, axis=-1), pad)
    hi = np.minimum(np.arange(n), n - min_steps) + 1
    lo = np.maximum(np.arange(n) - min_steps + 1, 0)
    kept: BoolArray = (started[..., hi] - started[..., lo]) > 0
    return kept


@dataclass(frozen=True)
class Scored:
    """One past forecast as the choice needs it: the band on its grid, and for each reading that
    followed within its window horizon, the grid step it falls in and whether it was safe."""

    mean: FloatArray
    lower: FloatArray
    upper: FloatArray
    in_horizon: BoolArray  # grid steps within the window horizon
    min_steps: int  # the shortest window, in grid steps
    step_of: IntArray  # per reading
    safe: BoolArray  # per reading


def prepare(
    past: PastForecast,
    obs_ts_ns: IntArray,
    obs_ppt: FloatArray,
    threshold: float,
    min_window_s: float,
    now_ns: int,
) -> Scored | None:
    """``past`` against the good readings ``obs`` (sorted by time); None until its window
    horizon is over by ``now_ns`` (or with no grid or no reading to judge it by)."""
    ts = past.ts_ns
    if ts.size < 2:
        return None
    step = int(ts[1] - ts[0])
    until = past.windows_until_ns or int(ts[-1])
    if until > now_ns:
        return None
    lo, hi = np.searchsorted(obs_ts_ns, [past.fitted_at_ns, until], side="right")
    at, seen = obs_ts_ns[lo:hi], obs_ppt[lo:hi]
    step_of = np.ceil((at - past.fitted_at_ns) / step).astype(np.int64) - 1
    keep = (step_of >= 0) & (step_of < ts.size)
    if not keep.any():
        return None
    return Scored(
        past.mean,
        past.lower,
        past.upper,
        ts <= until,
        max(1, int(np.ceil(min_window_s * 1e9 / step - 1e-9))),
        step_of[keep],
        seen[keep] < threshold,
    )


def _tally(scored: Sequence[Scored], threshold: float) -> list[tuple[float, int, int]]:
    """For each edge: (q, readings inside the windows it announces, of them truly safe)."""
    groups: dict[tuple[int, int], list[Scored]] = {}
    for s in scored:
        groups.setdefault((s.mean.size, s.min_steps), []).append(s)
    counts = np.zeros((len(EDGES), 2), np.int64)
    for (_, min_steps), group in groups.items():
        mean = np.stack([s.mean for s in group])
        lower = np.stack([s.lower for s in group])
        upper = np.stack([s.upper for s in group])
        in_horizon = np.stack([s.in_horizon for s in group])
        row = np.concatenate([np.full(s.step_of.size, k) for k, s in enumerate(group)])
        step = np.concatenate([s.step_of for s in group])
        safe = np.concatenate([s.safe for s in group])
        for k, q in enumerate(EDGES):
            below = (edge_of(mean, lower, upper, q) < threshold) & in_horizon
            inside = runs_at_least(below, min_steps)[row, step]
            counts[k] += (int(inside.sum()), int((inside & safe).sum()))
    return [(q, int(n), int(h)) for q, (n, h) in zip(EDGES, counts, strict=True)]


def choose_edge(
    scored: Sequence[Scored], threshold: float, precision: float, min_judged: int = 48
) -> Edge:
    """The lowest edge whose windows on the ``scored`` past forecasts were right at least
    ``precision`` of the time over at least ``min_judged`` readings, as were those of every edge
    above it; the upper edge when none is (with what it achieved, if anything was scored)."""
    truly_safe = sum(int(s.safe.sum()) for s in scored)
    chosen = Edge()
    for q, announced, hits in _tally(scored, threshold) if scored else []:
        edge = Edge(
            q,
            hits / announced if announced else None,
            hits / truly_safe if truly_safe else None,
            announced,
        )
        if q == UPPER:
            chosen = edge  # the fallback, with what it achieved
        if edge.precision is not None and edge.precision < precision:
            break  # lower edges only announce more of what was wrong
        if edge.judged >= min_judged:
            chosen = edge
    return chosen
