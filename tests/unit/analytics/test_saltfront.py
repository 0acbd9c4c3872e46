"""The salt front's computation, as tables: interpolation, bounds, bad stations, ties, levels."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from saltwatch.analytics.reach import Reach, line_reach
from saltwatch.analytics.risk import Line, risk_level
from saltwatch.analytics.saltfront import compute_days
from saltwatch.core.qc import QcFlag
from saltwatch.core.registry import load_registry
from saltwatch.core.risk_rules import RISK_REGIONS
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.sqlite import SqliteReadingStore

# Tiền river stations of the bundled registry on 12/3/2024 (docs/domain.md §3.2, rounded)
PROFILE = [(6.0, 20.0), (21.0, 14.0), (42.0, 8.85), (50.0, 4.5), (64.0, 0.9), (97.0, 0.1)]


def log_between(k1: float, s1: float, k2: float, s2: float, line: float) -> float:
    return k1 + (k2 - k1) * math.log(s1 / line) / math.log(s1 / s2)


@pytest.mark.parametrize(
    ("stations", "line", "expected"),
    [
        # between 50 km (4.5 ‰) and 64 km (0.9 ‰), on a log scale of salinity
        (PROFILE, 4.0, Reach(log_between(50, 4.5, 64, 0.9, 4.0))),
        (PROFILE, 1.0, Reach(log_between(50, 4.5, 64, 0.9, 1.0))),
        # log, not linear: halfway in log (sqrt(8 * 2) = 4) is halfway in km
        ([(10.0, 8.0), (20.0, 2.0)], 4.0, Reach(15.0)),
        # past the last station: a bound, never extrapolated
        ([(10.0, 9.0), (30.0, 6.0)], 4.0, Reach(30.0, ">")),
        # not even at the first station
        ([(10.0, 3.0), (30.0, 1.0)], 4.0, Reach(10.0, "<")),
        # exactly the line at a station: that station's km
        ([(10.0, 9.0), (30.0, 4.0), (40.0, 1.0)], 4.0, Reach(30.0)),
        # two stations at one km: the saltier counts (order does not matter)
        ([(30.0, 1.0), (10.0, 8.0), (10.0, 2.0), (20.0, 2.0)], 4.0, Reach(15.0)),
        # a fresh upstream station (0 ‰): still finite, just short of it
        ([(10.0, 8.0), (20.0, 0.0)], 4.0, Reach(log_between(10, 8.0, 20, 1e-3, 4.0))),
        # non-monotonic: the furthest station the line passed decides
        (
            [(10.0, 8.0), (20.0, 3.0), (30.0, 5.0), (40.0, 1.25)],
            4.0,
            Reach(log_between(30, 5.0, 40, 1.25, 4.0)),
        ),
        ([], 4.0, None),
    ],
)
def test_line_reach(
    stations: list[tuple[float, float]], line: float, expected: Reach | None
) -> None:
    got = line_reach(stations, line)
    if expected is None:
        assert got is None
        return
    assert got is not None and got.bound == expected.bound
    assert got.km == pytest.approx(expected.km, abs=1e-9)


def test_reach_text() -> None:
    assert Reach(64.0, ">").text() == "> 64 km" and Reach(47.25).text() == "47.2 km"


# QĐ 18/2021/QĐ-TTg Điều 49 (docs/domain.md §1.3), every boundary of each line and region: (region,
# line, km reached, level). "> 25 to 50 km" starts just beyond 25; "15 to 25 km" includes 15.
LAW_TABLE = [
    # the 1 ‰ line, the same in every region
    *[
        (region, "1ppt", km, level)
        for region in ("nam-bo", "trung-bo", "bac-bo")
        for km, level in [
            (0.0, 0), (25.0, 0), (25.01, 1), (50.0, 1), (50.01, 2), (90.0, 2), (90.01, 3),
            (200.0, 3),
        ]
    ],
    # the 4 ‰ line, Nam Bộ: no level 1
    *[
        ("nam-bo", "4ppt", km, level)
        for km, level in [
            (0.0, 0), (15.0, 0), (24.99, 0), (25.0, 0), (25.01, 2), (50.0, 2), (50.01, 3),
            (90.0, 3), (90.01, 4), (140.0, 4),
        ]
    ],
    # Trung Trung Bộ / Nam Trung Bộ: level 1 from 15 km (inclusive)
    *[
        ("trung-bo", "4ppt", km, level)
        for km, level in [
            (14.99, 0), (15.0, 1), (25.0, 1), (25.01, 2), (50.0, 2), (50.01, 3), (90.0, 3),
            (90.01, 4),
        ]
    ],
    # Bắc Bộ / Bắc Trung Bộ: level 2 from 15 km, 4 beyond 50
    *[
        ("bac-bo", "4ppt", km, level)
        for km, level in [
            (14.99, 0), (15.0, 2), (25.0, 2), (25.01, 3), (50.0, 3), (50.01, 4), (90.01, 4),
        ]
    ],
]  # fmt: skip


@pytest.mark.parametrize(("region", "line", "km", "level"), LAW_TABLE)
def test_the_law_table(region: str, line: Line, km: float, level: int) -> None:
    criteria = RISK_REGIONS[region]
    got = risk_level({line: Reach(km)}, criteria)
    assert got.level == level
    assert got.by == (line if level else None) and got.km == (km if level else None)
    # a line known only to be beyond a station at that km ("> km") meets what km itself meets
    # and more: never a lower level
    assert risk_level({line: Reach(km, ">")}, criteria).level >= level
    # a line short of the first station ("< km") meets nothing
    assert risk_level({line: Reach(km, "<")}, criteria).level == 0


@pytest.mark.parametrize(
    ("four", "one", "level", "by"),
    [
        (20.0, 30.0, 1, "1ppt"),  # Nam Bộ: only the 1 ‰ line gives level 1
        (30.0, 45.0, 2, "4ppt"),  # both give 2: told by the 4 ‰ line
        (30.0, 60.0, 2, "4ppt"),
        (45.0, 95.0, 3, "1ppt"),  # the 1 ‰ line beyond 90 km outranks the 4 ‰ at 45
        (60.0, 95.0, 3, "4ppt"),
        (95.0, 130.0, 4, "4ppt"),
        (None, None, 0, None),
    ],
)
def test_the_highest_of_both_lines(
    four: float | None, one: float | None, level: int, by: str | None
) -> None:
    reaches = {
        "4ppt": Reach(four) if four is not None else None,
        "1ppt": Reach(one) if one is not None else None,
    }
    got = risk_level(reaches, RISK_REGIONS["nam-bo"])  # type: ignore[arg-type]
    assert (got.level, got.by) == (level, by)


def test_2024_and_2025_levels_issued_match_the_table() -> None:
    """docs/domain.md §1.2: Sông Tiền 4 ‰ at 45–50 km in Feb 2025 → 2; Long An 90–110 km forecast →
    4."""
    nam_bo = RISK_REGIONS["nam-bo"]
    assert risk_level({"4ppt": Reach(48.0)}, nam_bo).level == 2
    assert risk_level({"4ppt": Reach(100.0)}, nam_bo).level == 4
    assert risk_level({"4ppt": Reach(75.0)}, nam_bo).level == 3  # Sài Gòn, Mar 2024


def test_a_station_flagged_bad_is_left_out(tmp_path: Path) -> None:
    registry = load_registry()
    store = SqliteReadingStore(tmp_path / "r.db")
    t = 1_710_176_400 * 10**9 + 3600 * 10**9  # 2024-03-12 01:00 in Vietnam
    values = {
        "vam-kenh": 20.0,
        "hoa-binh": 14.0,
        "xuan-hoa": 8.85,
        "dong-tam": 4.5,
        "phu-phong": 0.9,
        "vam-ba-rai": 0.1,
    }
    readings = [
        Reading(TopicKind.SALINITY, station, t, {"salinity_ppt": v}, river="tien")
        for station, v in values.items()
    ]
    # a spike at Phú Phong (flagged by QC): it must not drag the 4 ‰ line to 64 km or beyond
    readings.append(
        Reading(
            TopicKind.SALINITY,
            "phu-phong",
            t + 600 * 10**9,
            {"salinity_ppt": 25.0},
            qc=int(QcFlag.SPIKE),
            river="tien",
        )
    )
    store.write(readings)
    nam_bo = RISK_REGIONS["nam-bo"]
    (day,) = compute_days(store, registry, "tien", t, t + 3600 * 10**9, nam_bo)
    assert day.day == "2024-03-12" and day.stations["phu-phong"] == 0.9
    reach = day.reaches[4.0]
    assert reach is not None and 50 < reach.km < 64 and day.risk.level == 3
    assert day.risk.by == "4ppt"  # the 1 ‰ line (64–97 km) gives 2 only
    point = day.reading()
    assert point.kind is TopicKind.SALTFRONT and point.fields["risk_level"] == 3
    assert point.fields["risk_by"] == "4ppt"
    assert point.fields["bound"] == ""  # both lines between stations
    store.write([point])  # the daily history: written and read back from the store
    (back,) = store.query(TopicKind.SALTFRONT, "tien", day.start_ns, day.start_ns + 1)
    assert back.fields["km_4ppt"] == pytest.approx(round(reach.km, 2))
