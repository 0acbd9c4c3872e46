"""High and low waters found in a fitted tide (analytics/tides_ahead.py ``extremes``)."""

from __future__ import annotations

import numpy as np

from saltwatch.analytics.tides_ahead import _turns, extremes

NS_H = 3600 * 10**9


def test_highs_and_lows_fall_between_samples_where_the_tide_turns() -> None:
    """A semidiurnal tide of 1.2 m amplitude around 0.3 m, sampled every half hour: each high
    and low is found within a minute and a centimetre of the true one, alternating."""
    period_h, phase_h = 12.4206, 1.37
    hours = np.arange(0.0, 72.0, 0.5)
    level = 0.3 + 1.2 * np.cos(2 * np.pi * (hours - phase_h) / period_h)
    found = extremes((hours * NS_H).astype(np.int64), level, heights=True)
    assert [w.high for w in found] == [i % 2 == 0 for i in range(len(found))]  # a high first
    assert len(found) == 12
    for w in found:
        cycles = (w.at_ns / NS_H - phase_h) / period_h - (0.0 if w.high else 0.5)
        assert abs(cycles - round(cycles)) * period_h * 60 < 1.0
        assert w.height_m == (1.5 if w.high else -0.9)


def test_a_tide_without_turns_has_no_waters_and_times_only_without_heights() -> None:
    hours = np.arange(0.0, 6.0, 0.5)
    assert extremes((hours * NS_H).astype(np.int64), hours * 0.1, heights=True) == ()
    wave = np.cos(2 * np.pi * np.arange(0.0, 24.0, 0.5) / 12.42)
    assert all(w.height_m is None for w in extremes(np.arange(48) * NS_H, wave, heights=False))


def test_the_ripples_of_a_salt_tide_clipped_at_fresh_water_are_no_high_or_low_water() -> None:
    """Salt at an intake stays near fresh through the ebb and peaks with the flood: the fitted
    curve of such a record rings with overtides and turns again around each low (here fifteen
    turns in two days). Only the two highs a day and a low between them are kept."""
    period_h = 12.4206
    hours = np.arange(0.0, 48.0, 0.5)
    curve = 0.2 + np.cos(2 * np.pi * hours / period_h) + 0.3 * np.cos(4 * np.pi * hours / period_h)
    times = (hours * NS_H).astype(np.int64)
    assert len(_turns(times, curve)) == 15  # the ripples turn too
    found = extremes(times, curve, heights=False)
    assert [w.high for w in found] == [i % 2 == 1 for i in range(len(found))]
    highs = [w.at_ns / NS_H for w in found if w.high]
    assert len(found) == 7 and len(highs) == 3
    assert all(abs(h - k * period_h) < 0.1 for h, k in zip(highs, (1, 2, 3), strict=True))
