"""The band edge a station's safe intake windows are read from (analytics/window_edge.py)."""

from __future__ import annotations

import numpy as np
import pytest

from saltwatch.analytics.forecast import Forecast, safe_windows
from saltwatch.analytics.forecast_score import PastForecast
from saltwatch.analytics.window_edge import (
    EDGES,
    UPPER,
    Edge,
    Scored,
    choose_edge,
    edge_of,
    prepare,
    runs_at_least,
)

H = 3600 * 10**9
T0 = 1_710_000_000 * 10**9
THRESHOLD = 2.0


def past_forecast(at: int) -> PastForecast:
    """A forecast made at ``at``: mean 1.0 ‰ with a wide band (0.5–2.4), hourly for 48 h, windows
    judged over its first 24 h."""
    steps = at + np.arange(1, 49, dtype=np.int64) * H
    return PastForecast(at, steps, *_band(), THRESHOLD, (), at + 24 * H)


def readings(values: list[float], hours: int) -> tuple[np.ndarray, np.ndarray]:
    ts = T0 + np.arange(hours * 4, dtype=np.int64) * H // 4
    return ts, np.resize(np.asarray(values, np.float64), ts.size)


def scored_pasts(ppt: tuple[np.ndarray, np.ndarray], now: int) -> list[Scored]:
    ts, y = ppt
    found = [prepare(past_forecast(T0 + d * 24 * H), ts, y, THRESHOLD, 7200, now) for d in range(6)]
    return [s for s in found if s is not None]


def test_a_station_whose_forecasts_were_right_gets_a_lower_edge_and_more_windows() -> None:
    obs = readings([1.2], 24 * 8)
    now = T0 + 7 * 24 * H
    edge = choose_edge(scored_pasts(obs, now), THRESHOLD, 0.95)
    assert edge.q == EDGES[-1]  # the lowest edge tried: every edge was right
    assert edge.precision == 1.0 and edge.recall == 1.0 and edge.judged > 24
    # the same forecast read on the upper edge announces nothing, on the chosen edge a window
    f = Forecast(now, now + np.arange(1, 49, dtype=np.int64) * H, *_band(), points=100)
    assert safe_windows(f, THRESHOLD, 7200, 3600, 24) == []
    (window,) = safe_windows(f, THRESHOLD, 7200, 3600, 24, edge.q)
    assert (window.start_ns, window.end_ns) == (now, now + 24 * H)


def test_a_station_whose_forecasts_were_wrong_keeps_the_upper_edge() -> None:
    obs = readings([1.2, 2.6], 24 * 8)  # half the time above the threshold: lower edges err
    now = T0 + 7 * 24 * H
    edge = choose_edge(scored_pasts(obs, now), THRESHOLD, 0.95)
    assert edge.q == UPPER and edge.judged == 0  # the upper edge (2.4 ‰) announced nothing
    assert edge.precision is None and edge.recall == 0.0


def test_forecasts_not_over_yet_and_no_history_decide_nothing() -> None:
    obs = readings([1.2], 24 * 8)
    assert choose_edge(scored_pasts(obs, T0 + 20 * H), THRESHOLD, 0.95) == Edge()
    assert choose_edge([], THRESHOLD, 0.95) == Edge()


def test_edges_run_from_the_upper_through_the_mean_to_the_lower() -> None:
    mean, lower, upper = _band()
    assert edge_of(mean, lower, upper, 1.0)[0] == 2.4
    assert edge_of(mean, lower, upper, 0.0)[0] == 1.0
    assert edge_of(mean, lower, upper, -1.0)[0] == 0.5
    assert edge_of(mean, lower, upper, 0.5)[0] == pytest.approx(1.7)


def test_runs_shorter_than_the_shortest_window_are_dropped_along_the_last_axis() -> None:
    safe = np.array([[1, 1, 0, 1, 1, 1, 0, 1], [0, 1, 1, 1, 1, 0, 0, 0]], bool)
    kept = runs_at_least(safe, 3)
    assert kept.astype(int).tolist() == [[0, 0, 0, 1, 1, 1, 0, 0], [0, 1, 1, 1, 1, 0, 0, 0]]


def _band() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return np.full(48, 1.0), np.full(48, 0.5), np.full(48, 2.4)
