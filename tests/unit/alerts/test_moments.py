"""When a station's readings are judged: at band moves and hold ends only, and with the same
outcome as judging every reading."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from saltwatch.alerts.judging import _AsOf
from saltwatch.alerts.moments import MonthLevels, salinity_moments
from saltwatch.alerts.windows import DeviceWindow
from saltwatch.core.clock import FakeClock
from saltwatch.core.qc import QcFlag
from saltwatch.core.rules import SalinityLevels
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from tests.unit.alerts.test_evaluate import T0, M, Recorder, engine, sal

RIVER = SalinityLevels(
    warning=1.0, critical=4.0, hold_warning=900, hold_critical=0, hold_clear=1800, alerts=True
)


def window(*values: float, qc: dict[int, int] | None = None) -> DeviceWindow:
    readings = [sal("vam-kenh", i, v, (qc or {}).get(i, 0)) for i, v in enumerate(values)]
    return DeviceWindow(TopicKind.SALINITY).with_readings(readings, 10**15)


def minutes(moments: list[int]) -> list[int]:
    return [(t - T0) // M for t in moments]


@pytest.mark.parametrize(
    ("values", "since_min", "expected"),
    [
        ((0.5,) * 30, 0, [0]),  # never near a level: its first reading only
        ((0.5,) * 30, 10, []),  # …and nothing more once judged
        ((0.5,) * 10 + (4.5,) * 10 + (0.5,) * 40, 0, [0, 10, 20, 50]),  # up, down, clear hold
        ((0.5,) * 5 + (1.5,) * 30, 3, [5, 20]),  # above the warning: its 15-min hold ends at 20
        ((0.5,) * 5 + (1.5,) * 30, 12, [20]),  # the hold began before ``since``: still its end
        ((0.5,) * 5 + (0.95,) * 10, 0, [0, 5]),  # above clearing, below the warning: a move
        ((1.5, 3.7, 4.1, 3.7), 1, [1, 2, 3]),  # each band of the critical level
    ],
)
def test_moments_are_band_moves_and_hold_ends(
    values: tuple[float, ...], since_min: int, expected: list[int]
) -> None:
    got = salinity_moments(window(*values), T0 + since_min * M, lambda _: RIVER, 0.9)
    assert minutes(got) == expected


def test_readings_qc_rejected_are_no_moment() -> None:
    w = window(0.5, 0.5, 9.0, 0.5, 0.5, qc={2: int(QcFlag.SPIKE)})
    assert minutes(salinity_moments(w, T0 + M, lambda _: RIVER, 0.9)) == []


def test_levels_that_change_with_the_month() -> None:
    """A season's turn inside the span: each reading banded by its own month's levels."""
    dry = RIVER.model_copy(update={"warning": 0.5})
    levels = MonthLevels(lambda month: dry if month == 3 else RIVER)
    end_of_feb = T0 - 11 * 24 * 60 * M - 14 * 60 * M  # 2024-03-01 00:00 in Vietnam
    readings = [sal("vam-kenh", (end_of_feb - T0) / M + i * 30 - 60, 0.7) for i in range(4)]
    w = DeviceWindow(TopicKind.SALINITY).with_readings(readings, 10**15)
    got = salinity_moments(w, readings[0].ts_ns, levels, 0.9)
    # 0.7 ‰: below the warning in February, above it in March, where its hold ends 30 min later
    assert got == [readings[0].ts_ns, readings[2].ts_ns, readings[3].ts_ns]


def events(recorder: Recorder) -> list[tuple[object, ...]]:
    return [(e["rule"], e["state"], e["severity"], e["started_at"]) for e in recorder.events]


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_judging_at_moments_tells_what_judging_every_reading_tells(
    tmp_path: Path, seed: int
) -> None:
    """A random walk across the levels, handed over in batches of random sizes, raises the
    same episodes (rule, state, severity, start) as judging it reading by reading."""
    rng = random.Random(seed)
    value, readings = 0.5, []
    for i in range(600):
        value = min(max(value + rng.gauss(0, 0.35), 0.1), 8.0)
        readings.append(sal("vam-kenh", i * 5, round(value, 2)))
    end = readings[-1].ts_ns + M

    every = Recorder()
    ref = engine(tmp_path / "ref", FakeClock(end), every)
    for reading in readings:
        ref.windows.add([reading])
        w = ref.windows.get("vam-kenh")
        assert w is not None
        ref.judge.run({"vam-kenh"}, instant_only=True, windows=_AsOf("vam-kenh", w, reading.ts_ns))
    ref.dispatch()

    batched = Recorder()
    e = engine(tmp_path / "batched", FakeClock(end), batched)
    i = 0
    while i < len(readings):
        n = rng.choice([1, 1, 2, 7, 40])
        e.on_readings(readings[i : i + n])
        i += n
    e.dispatch()
    assert len(every.events) >= 4  # the walk did cross levels
    assert events(batched) == events(every)


@pytest.mark.parametrize("seed", [11, 12, 13, 14, 15, 16])
def test_backlogs_inserted_between_live_readings_are_judged_alike_however_batched(
    tmp_path: Path, seed: int
) -> None:
    """Live readings every 10 s near a domestic intake's critical level, and every 25 minutes a
    backlog of fresher water uploaded late, interleaved with them (the chaos soak's bursts):
    judged as each message arrives, or several arrivals in one pass, the same episodes."""
    rng = random.Random(seed)
    device, step = "dong-tam", 10 * 10**9
    arrivals: list[list[Reading]] = []
    value = 0.5
    for i in range(720):
        value = min(max(value + rng.gauss(0, 0.03), 0.05), 1.0)
        ts = T0 + i * step
        arrivals.append([sal(device, (ts - T0) / M, round(value, 3))])
        if i % 150 == 149:  # five minutes kept offline, between the live readings
            arrivals.append(
                [
                    sal(device, (ts - 300 * 10**9 + k * step + step // 2 - T0) / M, v)
                    for k in range(30)
                    for v in [round(rng.uniform(0.1, 0.3), 3)]
                ]
            )
    end = T0 + 721 * step

    one_by_one = Recorder()
    ref = engine(tmp_path / "ref", FakeClock(end), one_by_one)
    for batch in arrivals:
        ref.on_readings(batch)
    ref.dispatch()

    passes = Recorder()
    e = engine(tmp_path / "passes", FakeClock(end), passes)
    i = 0
    while i < len(arrivals):
        n = rng.choice([1, 2, 3, 8])
        e.on_readings([r for batch in arrivals[i : i + n] for r in batch])
        i += n
    e.dispatch()
    assert one_by_one.events  # the walk crossed levels
    assert events(passes) == events(one_by_one)
