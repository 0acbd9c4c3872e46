"""The week-ahead outlook's methods (analytics/outlook.py) on series whose answer is known."""

from __future__ import annotations

import numpy as np
import pytest

from saltwatch.analytics.outlook import Outlooks, conformal, outlooks
from saltwatch.analytics.outlook_inputs import (
    OUTLOOK_METHODS,
    DailySeries,
    climatology,
    settings_of,
)
from saltwatch.core.rules import load_rules

SETTINGS = settings_of(load_rules().outlook)


def _skill(y: np.ndarray, found: Outlooks, lead: int, first: int) -> float:
    t = np.arange(first, y.size - lead)
    pred, obs, base = found.mean[t, lead - 1], y[t + lead], y[t]
    ok = ~np.isnan(pred) & ~np.isnan(obs) & ~np.isnan(base)
    return 1.0 - float(np.mean(np.abs(obs[ok] - pred[ok])) / np.mean(np.abs(obs[ok] - base[ok])))


def _seasonal(years: int, seed: int) -> np.ndarray:
    """A dry season's rise and fall every year, plus weather that lasts a few days."""
    rng = np.random.default_rng(seed)
    n = int(years * 365.2425)
    day = np.arange(n)
    season = 6.0 + 5.0 * np.sin(2 * np.pi * day / 365.2425)
    weather = np.zeros(n)
    for i in range(1, n):
        weather[i] = 0.6 * weather[i - 1] + rng.normal(0, 1.2)
    return np.asarray(season + weather, np.float64)


def test_earlier_seasons_give_a_climatology_the_outlook_leans_on() -> None:
    y = _seasonal(4, seed=1)
    first = 3 * 365
    found = outlooks(DailySeries(738000, y), SETTINGS, first)
    assert found.climatology[first:].mean() > 0.75  # mostly chosen with the climatology
    assert not found.climatology[:300].any()  # the first year has no earlier one
    assert _skill(y, found, 7, first) > 0.2
    assert _skill(y, found, 1, first) > 0.0
    shipped = found.method[first + 60 :]
    assert shipped.count("persistence") < len(shipped) / 4


def test_earlier_seasons_of_another_height_do_not_drag_the_outlook_to_theirs() -> None:
    # a salty year, a mild one, a salty one, then a mild one scored: the Mekong's 2016, 2020 and
    # 2024 were not like the years between them
    rng = np.random.default_rng(11)
    n = int(4 * 365.2425)
    day = np.arange(n)
    height = np.repeat([14.0, 3.0, 12.0, 4.0], 366)[:n]
    weather = np.zeros(n)
    for i in range(1, n):
        weather[i] = 0.6 * weather[i - 1] + rng.normal(0, 0.8)
    y = np.maximum(height * (0.5 + 0.5 * np.sin(2 * np.pi * day / 365.2425)) + weather, 0.0)
    first = 3 * 365
    found = outlooks(DailySeries(738000, y), SETTINGS, first)
    for lead in (3, 7):  # leaning on the climatology alone: -0.008, -0.004
        assert _skill(y, found, lead, first) > 0.03


def test_a_random_walk_gets_persistence_back_not_something_worse() -> None:
    rng = np.random.default_rng(2)
    y = 10.0 + np.cumsum(rng.normal(0, 0.8, 400))
    found = outlooks(DailySeries(738000, y), SETTINGS)
    for lead in (1, 3, 7):
        assert _skill(y, found, lead, 0) > -0.05


def test_the_spring_neap_cycle_is_carried_into_the_days_ahead() -> None:
    rng = np.random.default_rng(3)
    day = np.arange(240)
    y = 8.0 + 3.0 * np.cos(2 * np.pi * day / 14.765294) + rng.normal(0, 0.3, day.size)
    only_damped = outlooks(DailySeries(738000, y), SETTINGS, 0, ("persistence", "damped"))
    found = outlooks(DailySeries(738000, y), SETTINGS)
    assert found.method[-60:].count("damped+tide") > 40
    # the share of persistence's error left: smaller by a fifth at least with the cycle known
    assert 1 - _skill(y, found, 7, 100) < 0.8 * (1 - _skill(y, only_damped, 7, 100))


def _swinging(seed: int, period: float, lag: float) -> DailySeries:
    """Three years of a station whose swing, on a cycle of ``period`` days peaking ``lag`` days
    after its astronomical phase, grows with its seasonal salinity; weather on top."""
    rng = np.random.default_rng(seed)
    n = int(3 * 365.2425)
    first_day = 738000
    day = first_day + np.arange(n)
    level = 6.0 + 4.0 * np.sin(2 * np.pi * np.arange(n) / 365.2425)
    weather = np.zeros(n)
    for i in range(1, n):
        weather[i] = 0.7 * weather[i - 1] + rng.normal(0, 0.5)
    swing = 0.35 * np.cos(2 * np.pi * (day - lag) / period)
    return DailySeries(first_day, np.maximum(level * (1.0 + swing) + weather, 0.0))


def test_earlier_seasons_teach_the_spring_neap_swing_of_a_station() -> None:
    """A station whose swing grows with its salinity and peaks two days after the springs: with
    a year of record behind it, the cycle's phase and size are learned from all of it."""
    series = _swinging(seed=5, period=14.765294, lag=2.0)
    y, n, first = series.values, series.values.size, 2 * 365
    found = outlooks(series, SETTINGS, first)
    assert np.isnan(found.by_method["damped+springs"][:365]).all()  # no year behind: none
    without = tuple(m for m in OUTLOOK_METHODS if m != "damped+springs")
    before = outlooks(series, SETTINGS, first, without)
    assert found.method[first:].count("damped+springs") > (n - first) / 3
    for lead in (3, 7):  # +0.608 against +0.558, +0.707 against +0.645
        assert _skill(y, found, lead, first) > _skill(y, before, lead, first) + 0.015


def test_earlier_seasons_teach_the_tropic_cycle_of_a_mixed_tide() -> None:
    """A station on a mixed tide, whose daily peak follows the diurnal half of it: the K1–O1
    beat, every 13.66 days. Within a season it cannot be told from the spring–neap cycle; two
    seasons behind the scored one teach it, and the correction of those seasons replaces the
    methods it nests (``damped``, ``damped+climate``) wherever it is offered."""
    series = _swinging(seed=6, period=13.660791, lag=1.0)
    y, n, first = series.values, series.values.size, 2 * 365
    found = outlooks(series, SETTINGS, first)
    taught = ~np.isnan(found.by_method["damped+springs"][first:, 0])
    assert taught.all()
    for nested in ("damped", "damped+climate"):
        assert np.isnan(found.by_method[nested][first:]).all()
    assert found.method[first:].count("damped+springs") > (n - first) / 2
    within = outlooks(series, SETTINGS, first, ("persistence", "damped", "damped+tide"))
    # +0.64 and +0.74 at days 3 and 7; within a season +0.42 and +0.41, and the earlier seasons'
    # spring-neap cycle alone (no 13.66-day one) +0.40 and +0.45
    for lead in (3, 7):
        assert _skill(y, found, lead, first) > _skill(y, within, lead, first) + 0.15


def test_earlier_seasons_sampled_in_bursts_leave_the_simpler_methods_offered() -> None:
    """The drought years were sampled 2–4 days every week: a year logged 3 days in 6 holds no
    pair 3 days apart, and two months of the scored season cannot tell the two cycles apart.
    The springs' fit is not made at that lead, and ``damped`` stays on offer."""
    full = _swinging(seed=6, period=13.660791, lag=1.0)
    y = full.values.copy()
    year = np.arange(y.size) // 365
    y[(year == 1) & (np.arange(y.size) % 6 >= 3)] = np.nan
    first = 2 * 365 + 60
    found = outlooks(DailySeries(full.first_day, y), SETTINGS, first)
    assert np.isnan(found.by_method["damped+springs"][first, 2])  # no pair 3 days apart
    assert np.isfinite(found.by_method["damped"][first]).all()
    logged = outlooks(full, SETTINGS, first)  # the same year logged every day
    assert np.isfinite(logged.by_method["damped+springs"][first]).all()
    assert np.isnan(logged.by_method["damped"][first]).all()


def test_an_origin_s_forecast_uses_nothing_after_it() -> None:
    y = _seasonal(3, seed=4)
    origin = 2 * 365 + 100
    before = outlooks(DailySeries(738000, y), SETTINGS, origin - 20)
    later = y.copy()
    later[origin + 1 :] += 50.0  # whatever happens afterwards
    after = outlooks(DailySeries(738000, later), SETTINGS, origin - 20)
    assert np.allclose(before.mean[origin], after.mean[origin])
    assert np.allclose(before.upper[origin], after.upper[origin])
    assert before.method[origin] == after.method[origin]


def test_the_climatology_of_a_date_is_from_earlier_years_only() -> None:
    y = np.full(3 * 365, np.nan)
    y[10:40] = 2.0  # year one, around day 25
    y[365 + 10 : 365 + 40] = 4.0  # year two
    clim = climatology(y, 7, SETTINGS)
    assert np.isnan(clim[15, 0])  # nothing earlier than year one
    assert clim[365 + 18, 6] == pytest.approx(2.0)  # year two's date: year one's values
    assert clim[2 * 365 + 18, 6] == pytest.approx(3.0)  # year three: both earlier years


def test_the_band_holds_its_nominal_share_of_later_days() -> None:
    rng = np.random.default_rng(5)
    y = 5.0 + rng.normal(0, 1.0, 500)
    found = outlooks(DailySeries(738000, y), SETTINGS)
    t = np.arange(200, 490)
    inside = (y[t + 3] >= found.lower[t, 2]) & (y[t + 3] <= found.upper[t, 2])
    assert 0.84 <= inside.mean() <= 0.97


def test_conformal_ranks_widen_a_short_record() -> None:
    errors = np.linspace(-1.0, 1.0, 11)
    lo, hi = conformal(errors, 0.9)
    assert (lo, hi) == (-1.0, 1.0)
    assert conformal(np.array([np.nan]), 0.9)[0] != conformal(np.array([np.nan]), 0.9)[0]


def _front(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A salt front (km) that moves toward where the river's recent flow holds it, with
    spates of a few days that push it back and a drier season each year."""
    rng = np.random.default_rng(seed)
    n = 6 * 365
    day = np.arange(n)
    base = 400.0 * np.exp(0.5 * np.sin(2 * np.pi * day / 365.2425))
    spate = np.zeros(n)
    for i in range(1, n):
        spate[i] = 0.8 * spate[i - 1] + (rng.exponential(600.0) if rng.random() < 0.05 else 0.0)
    flow = base + spate
    held = 160.0 - 25.0 * np.log(np.convolve(flow, np.ones(7) / 7)[:n])
    km = np.zeros(n)
    km[0] = held[0]
    for i in range(1, n):
        km[i] = km[i - 1] + 0.15 * (held[i - 1] - km[i - 1]) + rng.normal(0, 0.8)
    return km, flow


def test_a_front_follows_the_flow_that_holds_it() -> None:
    km, flow = _front(seed=9)
    first = 4 * 365
    with_flow = outlooks(DailySeries(738000, km, flow), SETTINGS, first)
    without = outlooks(DailySeries(738000, km), SETTINGS, first, ("persistence", "damped"))
    assert with_flow.method[first:].count("damped+flow") > 0.8 * (km.size - first)
    for lead in (3, 7):
        # one 30-day flow as a level: about what damping alone does (−0.003, +0.010)
        assert _skill(km, with_flow, lead, first) > _skill(km, without, lead, first) + 0.15
