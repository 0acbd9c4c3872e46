"""The bench's second ceiling (bench/outlook_skill.py ``fitted_on_scored``): each method's
correction fitted on the scored days themselves, which bounds what the outlook's inputs hold on a
record. docs/benchmarks.md quotes it to show how much of the measured series' target is there at
all, so it must find a cycle that is there and nothing in a random walk."""

from __future__ import annotations

import numpy as np

from bench.outlook_ceiling import fitted_on_scored
from saltwatch.analytics.outlook_inputs import CYCLE_DAYS, DailySeries, cycles, settings_of, springs
from saltwatch.core.rules import load_rules

FIRST_DAY = 738_000  # an ordinal in 2021


def test_a_tropic_cycle_in_one_season_is_found_by_the_fit_on_the_scored_days() -> None:
    """One season (200 days) of a peak that swings with the 13.66-day cycle at its astronomical
    phase: the cycles' fit gains most of a week's change, which no damping can."""
    rng = np.random.default_rng(3)
    days = FIRST_DAY + np.arange(200)
    y = 10.0 + 3.0 * np.cos(2 * np.pi * days / CYCLE_DAYS[1]) + rng.normal(0, 0.3, 200)
    s = settings_of(load_rules().outlook)
    got = fitted_on_scored(DailySeries(FIRST_DAY, y), 40, s, float(np.median(y)))
    assert got.method[7] == "damped+cycles"
    assert got.skill[7] > 0.5
    hit, far = got.hit_far
    assert hit > 0.8 and far < 0.2


def test_a_random_walk_holds_nothing_to_fit() -> None:
    rng = np.random.default_rng(4)
    y = 20.0 + np.cumsum(rng.normal(0, 1.0, 200))
    s = settings_of(load_rules().outlook)
    got = fitted_on_scored(DailySeries(FIRST_DAY, y), 40, s, float(np.median(y)))
    assert all(abs(got.skill[d]) < 0.05 for d in (1, 3, 5, 7))


def test_springs_are_the_cycles_with_the_first_year_left_out() -> None:
    y = np.linspace(5.0, 9.0, 500)
    level = np.full((500, 7), 2.0)
    full = cycles(FIRST_DAY, 7, level)
    masked = springs(DailySeries(FIRST_DAY, y), 7, level)
    assert np.isnan(masked[:365]).all()
    assert np.array_equal(masked[366:], full[366:])
