"""The score of past forecasts, checked against sums done by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from saltwatch.analytics.forecast_score import PastForecast, score, score_all
from saltwatch.analytics.tidal import TIDAL_DAY_H

H = 3600 * 10**9
T0 = 1_710_000_000 * 10**9


def hourly(values: dict[float, float]) -> tuple[np.ndarray, np.ndarray]:
    hours = np.array(sorted(values))
    return (T0 + hours * H).astype(np.int64), np.array([values[h] for h in hours])


def test_one_forecast_by_hand() -> None:
    # readings: 2.0 every hour for the two days before the forecast, then 3.0, 1.0, 3.0, 5.0
    before = {float(h): 2.0 for h in range(-50, 1)}
    after = {2.0: 3.0, 10.0: 1.0, 20.0: 3.0, 30.0: 5.0}
    ts, ppt = hourly(before | after)
    lead = np.arange(1.0, 49.0)
    forecast = PastForecast(
        T0,
        (T0 + lead * H).astype(np.int64),
        mean=np.full(48, 2.5),
        lower=np.full(48, 1.5),
        upper=np.full(48, 3.5),
        threshold=2.0,
        windows=((T0 + 8 * H, T0 + 12 * H), (T0 + 28 * H, T0 + 31 * H)),
        windows_until_ns=T0 + 24 * H,
    )
    t = score(forecast, ts, ppt, now_ns=T0 + 40 * H)
    # first 24 h: readings at 2, 10 and 20 h; forecast 2.5, persistence 2.0 (a tidal day back)
    assert t.forecasts == 1 and t.errors == 3
    assert t.mae == pytest.approx((0.5 + 1.5 + 0.5) / 3)
    assert t.mae_persistence == pytest.approx((1.0 + 1.0 + 1.0) / 3)
    assert t.skill == pytest.approx(1 - 2.5 / 3.0)
    # the band [1.5, 3.5] holds 3.0 and 3.0 of the four readings (1.0 and 5.0 fall outside)
    assert (t.in_band, t.banded) == (2, 4)
    # windows judged up to 24 h: one reading announced safe (10 h, 1.0 < 2.0, a hit); the
    # reading at 30 h lies in a window beyond that horizon and counts for nothing
    assert (t.predicted_safe, t.hit, t.truly_safe) == (1, 1, 1)
    assert t.precision == 1.0 and t.recall == 1.0
    # the future is unknown: scored at 5 h, only the reading at 2 h counts
    early = score(forecast, ts, ppt, now_ns=T0 + 5 * H)
    assert (early.errors, early.banded) == (1, 1)


def test_persistence_looks_one_tidal_day_back_and_pools() -> None:
    # a ramp: the value a tidal day before any time is that time's value minus TIDAL_DAY_H
    hours = np.arange(-60.0, 25.0, 0.5)
    ts, ppt = (T0 + hours * H).astype(np.int64), hours.copy()
    lead = np.arange(0.5, 24.01, 0.5)
    exact = PastForecast(T0, (T0 + lead * H).astype(np.int64), lead, lead - 1, lead + 1)
    t = score(exact, ts, ppt, T0 + 30 * H)
    assert t.mae == pytest.approx(0.0) and t.mae_persistence == pytest.approx(TIDAL_DAY_H)
    assert t.skill == pytest.approx(1.0) and t.coverage == 1.0
    zero = np.zeros(lead.size)
    flat = PastForecast(T0, exact.ts_ns, zero, zero, zero)
    pooled = score_all([exact, flat], ts, ppt, T0 + 30 * H)
    assert pooled.forecasts == 2 and pooled.errors == 2 * t.errors
    assert pooled.mae == pytest.approx(np.mean(np.arange(0.5, 24.01, 0.5)) / 2)


def test_a_forecast_with_nothing_after_it_counts_for_nothing() -> None:
    ts, ppt = hourly({float(h): 1.0 for h in range(-30, 1)})
    f = PastForecast(T0, np.array([T0 + H]), np.ones(1), np.ones(1), np.ones(1), 2.0)
    t = score(f, ts, ppt, T0 + 10 * H)
    assert t.forecasts == 0 and t.skill is None and t.precision is None and t.recall is None


def test_a_kept_forecast_keeps_its_own_times(tmp_path: Path) -> None:
    """Kept under its hour (one per station and hour), a forecast fitted at 10:37 still says
    what it forecast for 11:37, 12:37 …: scored against the right readings."""
    from saltwatch.analytics.forecast_store import past_forecasts, to_reading  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415

    fitted = T0 + 37 * 60 * 10**9
    steps = fitted + (np.arange(1, 193) * H // 4).astype(np.int64)
    mean = np.arange(192, dtype=np.float64)  # the lead in quarter hours, minus one
    store = SqliteReadingStore(tmp_path / "r.db")
    store.write([to_reading("x", fitted, steps, mean, mean, mean, "learned", 10, None, [], fitted)])
    (back,) = past_forecasts(store, "x", T0 - H, T0 + H)
    assert back.fitted_at_ns == fitted and back.ts_ns[0] == fitted + H
    assert back.mean[0] == 3.0 and back.mean[23] == 95.0  # 1 h and 24 h ahead
    store.close()
