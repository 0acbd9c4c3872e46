"""Quality-control bits as pure functions, and the per-device tracker."""

from __future__ import annotations

import pytest

from saltwatch.core.qc import (
    QcConfig,
    QcFlag,
    QualityControl,
    battery_flags,
    describe,
    flags_for_value,
)
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

M = 60 * 10**9
CFG = QcConfig()


def hist(*values: float, step: int = 15 * M) -> list[tuple[int, float]]:
    return [(i * step, v) for i, v in enumerate(values)]


@pytest.mark.parametrize(
    ("history", "value", "expected"),
    [
        (hist(1.0, 1.1, 1.2), 1.3, 0),
        (hist(), 45.0, QcFlag.RANGE),
        (hist(0.4, 0.5, 0.4, 0.5), 6.0, QcFlag.SPIKE | QcFlag.RATE),  # sudden jump, fast
        (hist(10.0, 10.5, 11.0, step=30 * M), 14.0, 0),  # +3.5, within 100 % of the median
        (hist(*[2.0] * 11), 2.0, QcFlag.FLATLINE),
        (hist(*[2.0] * 10), 2.0, 0),  # 11 identical values are not yet a flatline (12)
        (hist(1.0), 4.0, QcFlag.RATE),  # 3 ‰ in 15 minutes = 12 ‰/h > 10
        (hist(0.5, 1.0), 8.0, QcFlag.RATE),  # 7 ‰ in 15 minutes
        (hist(0.5, 1.0, step=60 * M), 8.0, 0),  # 7 ‰ in an hour: fast, but possible
        (hist(1.4, 1.0, 0.7), 0.3, 0),  # Xuân Hòa 22/2/2023: real fast freshening
    ],
)
def test_flags_for_value(history: list[tuple[int, float]], value: float, expected: int) -> None:
    step = history[1][0] - history[0][0] if len(history) > 1 else 15 * M
    ts = history[-1][0] + step if history else 0
    assert flags_for_value(value, ts, history, CFG) == int(expected)


def test_low_battery_and_names() -> None:
    assert battery_flags(3.2, CFG) == QcFlag.LOW_BATTERY
    assert battery_flags(3.6, CFG) == 0
    assert battery_flags(None, CFG) == 0
    assert describe(QcFlag.SPIKE | QcFlag.SERVER_TIME) == ["SPIKE", "SERVER_TIME"]


def reading(ts_min: int, value: float, **extra: float) -> Reading:
    return Reading(TopicKind.SALINITY, "a", ts_min * M, {"salinity_ppt": value, **extra})


def test_tracker_flags_spike_then_accepts_recovery() -> None:
    qc = QualityControl(CFG)
    flags = [
        qc.apply(reading(15 * i, v), "salinity_ppt").qc
        for i, v in enumerate([0.5, 0.5, 0.6, 0.5, 9.0, 0.55])
    ]
    assert flags[4] & QcFlag.SPIKE
    assert not flags[5] & QcFlag.SPIKE


def test_tracker_judges_backfill_against_earlier_values_only() -> None:
    qc = QualityControl(CFG)
    for i, v in enumerate([5.0, 5.1, 5.2, 5.3]):
        qc.apply(reading(60 + 15 * i, v), "salinity_ppt")
    # a late reading from before the others, in line with what came before it (nothing): clean
    late = qc.apply(reading(0, 0.4), "salinity_ppt")
    assert late.qc == 0


def test_tracker_keeps_battery_and_server_time_bits() -> None:
    qc = QualityControl(CFG)
    r = Reading(
        TopicKind.SALINITY, "a", 0, {"salinity_ppt": 1.0, "battery_v": 3.0}, qc=QcFlag.SERVER_TIME
    )
    assert qc.apply(r, "salinity_ppt").qc == QcFlag.SERVER_TIME | QcFlag.LOW_BATTERY
    tap = Reading(TopicKind.TAP, "t", 0, {"open": True})
    assert qc.apply(tap, None) is tap


def test_seeded_history_makes_a_restart_judge_like_before() -> None:
    def sal(minute: int, value: float) -> Reading:
        return Reading(TopicKind.SALINITY, "st", minute * M, {"salinity_ppt": value})

    earlier = [(m * M, v) for m, v in [(0, 0.4), (15, 0.5), (30, 0.4), (45, 0.5)]]
    spike = sal(60, 6.0)
    fresh = QualityControl(CFG)  # a restarted process with no memory: the spike passes
    assert fresh.apply(spike, "salinity_ppt").qc == 0
    seeded = QualityControl(CFG)
    seeded.seed("salinity", "st", earlier)
    seeded.seed("salinity", "st", earlier[-2:])  # seeding twice changes nothing
    assert seeded.apply(spike, "salinity_ppt").qc & QcFlag.SPIKE
