"""The weekly bulletin's "highest … expected on": a forecast that holds at its highest for days
is stated over those days, not on the first of them alone (analytics/weekly.py)."""

from __future__ import annotations

from datetime import date, timedelta

from saltwatch.analytics.outlook_kept import DayAhead
from saltwatch.analytics.weekly import _held
from saltwatch.analytics.weekly_text import _days

MONDAY = date(2024, 3, 4)


def _week(*peaks: float) -> list[DayAhead]:
    return [
        DayAhead(MONDAY + timedelta(days=i), i + 1, p, p - 0.1, p + 0.1, 0.0, 0.0, 0.0)
        for i, p in enumerate(peaks)
    ]


def test_a_flat_week_is_held_all_week_and_said_so() -> None:
    days = _week(0.41, 0.41, 0.4104, 0.41, 0.41, 0.41, 0.41)  # as persistence ships it
    first, last = _held(days, 2)
    assert (first, last) == (MONDAY, MONDAY + timedelta(days=6))
    assert _days(first, last, "en") == "04–10 Mar"
    assert _days(first, last, "vi") == "04–10/03"
    assert _days(date(2024, 2, 28), date(2024, 3, 2), "vi") == "28/02–02/03"


def test_one_day_s_peak_is_that_day() -> None:
    days = _week(5.1, 5.6, 6.2, 5.9, 5.4, 5.2, 5.0)
    first, last = _held(days, 2)
    assert first == last == MONDAY + timedelta(days=2)
    assert _days(first, last, "en") == "06 Mar"


def test_a_plateau_is_bounded_by_what_reads_otherwise_and_by_a_missing_day() -> None:
    days = _week(2.0, 3.0, 3.0, 3.0, 2.5, 3.0, 3.0)
    assert _held(days, 1) == (MONDAY + timedelta(days=1), MONDAY + timedelta(days=3))
    gap = [d for d in _week(3.0, 3.0, 3.0, 3.0) if d.lead != 3]  # day 3 not forecast
    assert _held(gap, 0) == (MONDAY, MONDAY + timedelta(days=1))
