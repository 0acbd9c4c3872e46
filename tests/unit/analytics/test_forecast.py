"""The forecasters on series with known answers: tidal-day persistence, the learned correction,
any sampling interval with a coverage minimum, a calibrated band, and the safe windows."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from saltwatch.analytics.forecast import (
    Forecast,
    ForecastSettings,
    fit_forecast,
    safe_windows,
    settings_from,
)
from saltwatch.analytics.forecast_score import PastForecast, Tally, score
from saltwatch.analytics.forecasters import predict
from saltwatch.analytics.tidal import TIDAL_DAY_H, History
from saltwatch.core.rules import load_rules

H = 3600 * 10**9
NOW = 1_710_000_000 * 10**9


def bundled() -> ForecastSettings:
    """The forecast settings of the bundled rules file."""
    return settings_from(load_rules().forecast)


def tide(t_h: np.ndarray) -> np.ndarray:
    """A mixed tide whose every part repeats after one tidal day (M2 and its half, M4)."""
    semi = 2.0 * np.cos(2 * np.pi * t_h / (TIDAL_DAY_H / 2))
    return np.asarray(4.0 + semi + 0.7 * np.sin(2 * np.pi * t_h / TIDAL_DAY_H), np.float64)


def drifting(t_h: np.ndarray, seed: int = 3) -> np.ndarray:
    """The tide on a level that wanders (an AR(1) on hourly steps, memory about two days):
    today's departure from yesterday carries on, which persistence cannot know."""
    rng = np.random.default_rng(seed)
    hours = np.arange(np.floor(t_h.min()) - 1, np.ceil(t_h.max()) + 2)
    level = np.zeros(hours.size)
    for i in range(1, hours.size):
        level[i] = 0.98 * level[i - 1] + rng.normal(0, 0.12)
    noise = rng.normal(0, 0.03, t_h.size)
    return np.asarray(tide(t_h) + np.interp(t_h, hours, level) + noise, np.float64)


def ns(t_h: np.ndarray) -> np.ndarray:
    return (NOW + t_h * H).astype(np.int64)


def test_persistence_repeats_the_tidal_day() -> None:
    t_h = np.arange(-10 * 24, 0.001, 0.25)
    leads = np.array([1.0, 6.5, 24.0, 30.0, 48.0])
    p = predict(t_h, tide(t_h), leads, replace(bundled().method, method="persistence"))
    assert p is not None and p.method == "persistence"
    np.testing.assert_allclose(p.mean, tide(leads), atol=0.01)  # linear between readings
    # a flawless record: its own errors leave the band no width
    np.testing.assert_allclose(p.upper - p.lower, 0.0, atol=1e-2)


@pytest.mark.parametrize("every_h", [5 / 60, 0.25, 2.0, 3.0])
def test_any_interval_with_gaps_and_a_coverage_minimum(every_h: float) -> None:
    t_h = np.arange(-20 * 24, 0.001, every_h)
    gap = (t_h > -9 * 24) & (t_h < -8 * 24)  # a day without readings
    t_h = t_h[~gap]
    cfg = bundled()
    f = fit_forecast(ns(t_h), drifting(t_h), NOW, cfg)
    assert f is not None and f.ts_ns.size == 192
    assert f.coverage_h == pytest.approx(19 * 24, rel=0.02)
    # coverage counts hours, not points: 2.5 days of any interval are too little, 3.5 enough
    short = t_h[t_h > -2.5 * 24]
    assert fit_forecast(ns(short), drifting(short), NOW, cfg) is None
    enough = t_h[t_h > -3.5 * 24]
    assert fit_forecast(ns(enough), drifting(enough), NOW, cfg) is not None
    # the last reading too old: no forecast
    stale = t_h[t_h < -6]
    assert fit_forecast(ns(stale), drifting(stale), NOW, cfg) is None


def test_history_interpolates_only_across_short_gaps() -> None:
    h = History(np.array([-10.0, -8.0, -2.0, 0.0]), np.array([1.0, 3.0, 5.0, 7.0]), 3.5)
    got = h.at(np.array([-9.0, -5.0, -1.0, -8.0, 1.0, -11.0]))
    np.testing.assert_allclose(got[[0, 2, 3]], [2.0, 6.0, 3.0])
    assert np.isnan(got[[1, 4, 5]]).all()  # inside the 6 h gap, after the end, before the start
    assert h.coverage_h() == pytest.approx(4.0)


def backtest(method: str, every_h: float = 2.0) -> Tally:
    t_all = np.arange(-60 * 24, 0.001, every_h)
    y_all = drifting(t_all)
    cfg = replace(bundled(), method=replace(bundled().method, method=method))  # type: ignore[arg-type]
    total = Tally()
    for origin_h in np.arange(-30 * 24, -48, 12.0):
        known = t_all <= origin_h
        f = fit_forecast(ns(t_all[known]), y_all[known], NOW + int(origin_h * H), cfg)
        assert f is not None
        past = PastForecast(f.fitted_at_ns, f.ts_ns, f.mean, f.lower, f.upper)
        total.add(score(past, ns(t_all), y_all, NOW))
    return total


def test_the_learned_correction_beats_persistence_and_its_band_is_calibrated() -> None:
    learned, plain = backtest("learned"), backtest("persistence")
    assert plain.skill == pytest.approx(0.0)
    assert learned.skill is not None and learned.skill > 0.15
    assert learned.mae_persistence == pytest.approx(plain.mae_persistence)
    assert learned.coverage is not None and 0.85 <= learned.coverage <= 0.95


def test_learned_falls_back_to_persistence_when_its_correction_stops_paying() -> None:
    """Three weeks where a departure carries on, then days of a noisy sensor whose departures
    carry nothing: the correction learned on the weeks loses over the held-out days, so
    persistence is shipped."""
    t_h = np.arange(-24 * 24, 0.001, 0.5)
    y = drifting(t_h)
    last = t_h > -3.5 * 24
    noise = np.random.default_rng(5).choice([-1.5, 1.5], t_h.size)
    y[last] = tide(t_h[last]) + noise[last]
    p = predict(t_h, y, np.arange(1.0, 49.0), bundled().method)
    assert p is not None and p.method == "persistence"
    # the three weeks alone, seen from their end: the correction pays and ships
    before = ~last
    weeks = t_h[before] - t_h[before][-1]
    q = predict(weeks, y[before], np.arange(1.0, 49.0), bundled().method)
    assert q is not None and q.method == "learned"


def band(upper: list[float]) -> Forecast:
    ts = NOW + (np.arange(1, len(upper) + 1) * H).astype(np.int64)
    values = np.array(upper)
    return Forecast(NOW, ts, values, values, values, 200)


@pytest.mark.parametrize(
    ("upper", "horizon_h", "windows_h"),
    [
        ([0.6, 0.4, 0.4, 0.4, 0.6], None, [(1, 4)]),  # three steps below 0.5: hours 1 to 4
        ([0.4, 0.4, 0.6, 0.4, 0.6], None, [(0, 2)]),  # the second spell is too short (1 h < 2 h)
        ([0.6, 0.5, 0.6], None, []),  # at the threshold is not below it
        ([0.4] * 4, None, [(0, 4)]),  # safe to the horizon
        ([0.4] * 6, 3, [(0, 3)]),  # …but announced only within the windows' horizon
    ],
)
def test_safe_windows(
    upper: list[float], horizon_h: float | None, windows_h: list[tuple[int, int]]
) -> None:
    found = safe_windows(band(upper), 0.5, 2 * 3600, 3600, horizon_h)
    assert [((w.start_ns - NOW) // H, (w.end_ns - NOW) // H) for w in found] == windows_h


def test_first_above() -> None:
    f = band([0.2, 0.8, 1.2, 0.9])
    assert f.first_above(1.0) == NOW + 3 * H and f.first_above(2.0) is None


def test_settings_from_the_rules_file_in_the_forecast_units() -> None:
    cfg = bundled()
    assert (cfg.horizon_h, cfg.window_horizon_h, cfg.min_window_s) == (48.0, 24.0, 7200.0)
    method = cfg.method
    assert (method.method, method.fit_days, method.min_coverage_h) == ("learned", 28, 72)
