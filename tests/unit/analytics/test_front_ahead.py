"""The salt front ahead and the law's risk level per day from the forecast lines (QĐ 18/2021
Điều 49, table for the south), from station outlooks whose answer is known."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta

import pytest

from saltwatch.analytics.front_ahead import fronts_ahead
from saltwatch.analytics.outlook_kept import DayAhead, StationOutlook
from saltwatch.analytics.tides_ahead import moon_springs
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules

ORIGIN = date(2024, 3, 10)
#: the Tiền's stations in the bundled registry, km from the mouth
KM = {
    "vam-kenh": 18.0,
    "hoa-binh": 30.0,
    "vam-giong": 35.0,
    "xuan-hoa": 42.0,
    "lac-hong": 46.0,
    "xoai-hot": 51.0,
    "dong-tam": 52.5,
    "phu-phong": 64.0,
    "vam-ba-rai": 97.0,
    "tra-lot": 120.0,
}


def outlook(station: str, peaks: list[float], spread: float = 0.5) -> StationOutlook:
    days = tuple(
        DayAhead(ORIGIN + timedelta(days=i + 1), i + 1, p, p - spread, p + spread, p / 2,
                 p / 2 - spread, p / 2 + spread)
        for i, p in enumerate(peaks)
    )  # fmt: skip
    return StationOutlook(station, ORIGIN, 0, peaks[0], peaks[0] / 2, days, "damped", "recent", 60)


def profile(four_km: float, days: int = 3) -> dict[str, StationOutlook]:
    """Every Tiền station with a peak that falls tenfold every 20 km past the 4 ‰ line."""
    return {
        sid: outlook(sid, [4.0 * 10 ** (-(km - four_km) / 20.0)] * days) for sid, km in KM.items()
    }


@pytest.mark.parametrize(
    ("four_km", "level", "by"),
    [
        (20.0, 1, "1ppt"),  # 4 ‰ at 20 km (no level), 1 ‰ at 32 km: beyond 25 km, level 1
        (40.0, 2, "4ppt"),  # 4 ‰ beyond 25 km: level 2
        (60.0, 3, "4ppt"),  # beyond 50 km: level 3
        (100.0, 4, "4ppt"),  # beyond 90 km: level 4
    ],
)
def test_the_law_s_level_per_day_from_the_forecast_lines(
    four_km: float, level: int, by: str
) -> None:
    rules = load_rules().saltfront
    (day, *_) = fronts_ahead(load_registry(), profile(four_km), rules)["tien"].days
    reach = day.reaches[4.0]
    assert reach is not None and math.isclose(reach.km, four_km, abs_tol=0.01)
    one = day.reaches[1.0]
    assert one is not None and math.isclose(one.km, four_km + 20 * math.log10(4), abs_tol=0.01)
    assert (day.risk.level, day.risk.by) == (level, by)


def test_each_day_ahead_has_its_own_level_and_the_upper_edges_theirs() -> None:
    rules = load_rules().saltfront
    rising = {
        sid: outlook(sid, [4.0 * 10 ** (-(km - front) / 20.0) for front in (20.0, 45.0, 55.0)])
        for sid, km in KM.items()
    }
    days = fronts_ahead(load_registry(), rising, rules)["tien"].days
    assert [d.lead for d in days] == [1, 2, 3]
    assert [d.day for d in days] == [ORIGIN + timedelta(days=i) for i in (1, 2, 3)]
    assert [d.risk.level for d in days] == [1, 2, 3]
    assert all(d.risk_high.level >= d.risk.level for d in days)
    low, high = days[1].low[4.0], days[1].high[4.0]
    assert low is not None and high is not None and low.km < 45.0 < high.km


def test_a_river_without_outlooks_states_no_level() -> None:
    rules = load_rules().saltfront
    ahead = fronts_ahead(load_registry(), {}, rules)["tien"]
    assert ahead.days == ()
    assert set(ahead.missing) == set(KM)


def test_stations_without_an_outlook_are_named() -> None:
    rules = load_rules().saltfront
    some = profile(40.0)
    del some["xuan-hoa"], some["tra-lot"]
    ahead = fronts_ahead(load_registry(), some, rules)["tien"]
    assert ahead.days and set(ahead.missing) == {"xuan-hoa", "tra-lot"}
    assert ahead.days[0].risk.level == 2


def test_spring_tides_from_the_moon_alone_follow_new_and_full_moon() -> None:
    """Without a station's tide: new moon 10/3/2024 and full moon 25/3/2024 (UTC), the spring
    tides a day and a half later (Vietnam dates; the mean lunation is within a day of the
    true one)."""
    start = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp()) * 10**9
    first, second = (s.day for s in moon_springs(start, 31))
    assert date(2024, 3, 11) <= first <= date(2024, 3, 12)
    assert date(2024, 3, 26) <= second <= date(2024, 3, 27)
