"""The forecast model on series with known answers, and the safe windows on known bands."""

from __future__ import annotations

import numpy as np
import pytest

from alerts.rules import load_rules
from analytics.forecast import (
    CONSTITUENTS,
    Forecast,
    ForecastSettings,
    fit_forecast,
    safe_windows,
    settings_from,
)

H = 3600 * 10**9
NOW = 1_710_000_000 * 10**9


def tidal(t_h: np.ndarray, trend_per_day: float = 0.0) -> np.ndarray:
    """A log-salinity series made of the model's own terms: it must be recovered exactly."""
    y = 0.3 + trend_per_day * t_h / 24
    for i, period in enumerate(CONSTITUENTS.values()):
        y = y + (0.6 / (i + 1)) * np.cos(2 * np.pi * t_h / period + i)
    return np.exp(y) - 0.05


def test_recovers_a_tidal_signal_and_its_trend() -> None:
    t_h = np.arange(-7 * 24 + 0.25, 0, 0.25)  # the fitting window: (now - 7 days, now]
    rng = np.random.default_rng(1)
    observed = tidal(t_h, 0.1) * np.exp(rng.normal(0, 0.01, t_h.size))
    f = fit_forecast((NOW + t_h * H).astype(np.int64), observed, NOW)
    assert f is not None and f.points == t_h.size and f.sigma == pytest.approx(0.01, rel=0.2)
    future_h = (f.ts_ns - NOW) / H
    truth = tidal(future_h, 0.1)
    assert f.ts_ns.size == 192 and future_h[0] == 0.25 and future_h[-1] == 48
    assert np.max(np.abs(np.log(f.mean + 0.05) - np.log(truth + 0.05))) < 0.03
    inside = (truth >= f.lower) & (truth <= f.upper)
    assert inside.mean() > 0.95 and np.all(f.lower <= f.mean) and np.all(f.mean <= f.upper)


def test_too_few_readings_give_no_forecast() -> None:
    t_h = np.arange(-10, 0, 0.25)  # 40 readings, fewer than a day's
    assert fit_forecast((NOW + t_h * H).astype(np.int64), tidal(t_h), NOW) is None
    old = np.arange(-30 * 24, -20 * 24, 0.25)  # plenty, but outside the fitting window
    assert fit_forecast((NOW + old * H).astype(np.int64), tidal(old), NOW) is None


def band(upper: list[float]) -> Forecast:
    ts = NOW + (np.arange(1, len(upper) + 1) * H).astype(np.int64)
    values = np.array(upper)
    return Forecast(NOW, ts, values, values, values, 0.01, 200)


@pytest.mark.parametrize(
    ("upper", "windows_h"),
    [
        ([0.6, 0.4, 0.4, 0.4, 0.6], [(1, 4)]),  # three steps below 0.5: hours 1 to 4
        ([0.4, 0.4, 0.6, 0.4, 0.6], [(0, 2)]),  # the second spell is too short (1 h < 2 h)
        ([0.6, 0.5, 0.6], []),  # at the threshold is not below it
        ([0.4] * 4, [(0, 4)]),  # safe to the horizon
    ],
)
def test_safe_windows(upper: list[float], windows_h: list[tuple[int, int]]) -> None:
    found = safe_windows(band(upper), 0.5, 2 * 3600, 3600)
    assert [((w.start_ns - NOW) // H, (w.end_ns - NOW) // H) for w in found] == windows_h


def test_first_above() -> None:
    f = band([0.2, 0.8, 1.2, 0.9])
    assert f.first_above(1.0) == NOW + 3 * H and f.first_above(2.0) is None


def test_settings_defaults_match_the_rules_file() -> None:
    cfg = settings_from(load_rules().forecast)
    assert cfg == ForecastSettings()
