"""How bench/outlook_skill.py turns sub-daily records into days: the held-out Mekong records are
2-hourly (docs/domain.md §3.4), and a rule written for 15-minute series counted none of their
days, so the bench printed zeros for every station."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.outlook_skill import daily_by_station

STATION = "VN-1"


Part = tuple[datetime, int, float, int]  # first day, days, hours between readings, hours a day


def _write(path: Path, *parts: Part) -> None:
    """Readings every few hours over the first hours of each day, salinity = the day's index
    + the hour / 100 (so the day's peak is its last reading, its low the first)."""
    rows = ["time_utc,station,salinity_ppt,km_from_mouth"]
    for start, days, step_h, hours in parts:
        for d in range(days):
            t = start + timedelta(days=d)
            while t < start + timedelta(days=d, hours=hours):
                rows.append(f"{t:%Y-%m-%dT%H:%M:%SZ},{STATION},{d + t.hour / 100:.2f},")
                t += timedelta(hours=step_h)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_a_two_hourly_record_counts_its_days_beside_a_fifteen_minute_one(tmp_path: Path) -> None:
    """An earlier season logged 2-hourly and a later one every 15 minutes, for one station in
    files of their own: each file's days count by that file's own sampling."""
    early, late = tmp_path / "early.csv", tmp_path / "late.csv"
    _write(early, (datetime(2020, 3, 1, 1, tzinfo=UTC), 10, 2.0, 24))  # 01:00, 03:00 … 23:00
    _write(late, (datetime(2024, 3, 1, tzinfo=UTC), 10, 0.25, 24))
    peak, low = daily_by_station([early, late], None, 0.0)[STATION]
    y = peak.values
    counted = np.flatnonzero(~np.isnan(y)) + peak.first_day
    assert counted.size == 20
    assert datetime(2020, 3, 1).toordinal() in counted
    assert y[0] == 0.23 and low.values[0] == 0.01  # 2020-03-01: 01:00 … 23:00
    # Asking for 16 hours, as the bench did for every record, counts no 2-hourly day.
    peak16, _ = daily_by_station([early, late], 16, 0.0)[STATION]
    assert np.count_nonzero(~np.isnan(peak16.values)) == 10


def test_a_day_missing_a_third_of_its_sampling_does_not_count(tmp_path: Path) -> None:
    """A peak from half a day's readings is no daily peak: at 15-minute sampling a day needs
    16 hours with readings, at 2-hourly 8 of its 12."""
    fifteen, two_hourly = tmp_path / "fifteen.csv", tmp_path / "two.csv"
    _write(
        fifteen,
        (datetime(2024, 3, 1, tzinfo=UTC), 10, 0.25, 24),
        (datetime(2024, 4, 1, tzinfo=UTC), 1, 0.25, 12),  # readings in 12 hours
    )
    _write(
        two_hourly,
        (datetime(2024, 5, 1, 1, tzinfo=UTC), 9, 2.0, 24),
        (datetime(2024, 5, 10, 1, tzinfo=UTC), 1, 2.0, 14),  # 7 readings
    )
    for path, days in ((fifteen, 10), (two_hourly, 9)):
        peak, _ = daily_by_station([path], None, 0.0)[STATION]
        assert np.count_nonzero(~np.isnan(peak.values)) == days


def test_times_written_with_their_offset_fall_on_the_same_vietnam_day(tmp_path: Path) -> None:
    """01:00 in Vietnam is 18:00 UTC the day before: written either way, it is one local day."""
    utc, local = tmp_path / "utc.csv", tmp_path / "local.csv"
    _write(utc, (datetime(2024, 3, 1, 18, tzinfo=UTC), 3, 2.0, 24))
    text = utc.read_text(encoding="utf-8").splitlines()
    shifted = [text[0]]
    for row in text[1:]:
        when, rest = row.split(",", 1)
        at = datetime.fromisoformat(when.replace("Z", "+00:00")) + timedelta(hours=7)
        shifted.append(f"{at.replace(tzinfo=None).isoformat()}+07:00,{rest}")
    local.write_text("\n".join(shifted) + "\n", encoding="utf-8")
    a, _ = daily_by_station([utc], None, 7.0)[STATION]
    b, _ = daily_by_station([local], None, 7.0)[STATION]
    assert a.first_day == b.first_day == datetime(2024, 3, 2).toordinal()
    np.testing.assert_array_equal(a.values, b.values)
