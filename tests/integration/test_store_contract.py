"""One contract, two adapters: the SQLite store and the InfluxDB store against a real influxd."""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np
import pytest

from saltwatch.core.columns import DeviceColumns
from saltwatch.core.errors import BadInputError
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

pytestmark = pytest.mark.integration

T0 = 1_710_226_800 * 10**9  # 2024-03-12T07:00:00Z
H = 3600 * 10**9
NASTY = 'Cửa Tiểu, "nhánh" = 1 \\ it\'s'


def sal(device: str, ts: int, value: float, **extra: float | int) -> Reading:
    return Reading(
        TopicKind.SALINITY,
        device,
        ts,
        {"salinity_ppt": value, **extra},
        zone="xa-tan-dong",
        river="tien",
    )


def test_round_trip_keeps_every_type(store: ReadingStore) -> None:
    readings = [
        sal("vam-kenh", T0, 4.0, temp_c=29.5, seq=7, battery_v=3.9),
        Reading(
            TopicKind.WELL,
            "well-1",
            T0,
            {"running": True, "flow_m3h": 30.0, "fault": "dry_run", "seq": 1},
            qc=16,
            zone="z",
        ),
        Reading(TopicKind.TAP, "tap-1", T0, {"open": False, "volume_m3": 12.0}, zone="z"),
    ]
    store.write(readings)
    for original in readings:
        back = store.latest(original.kind)[original.device]
        assert back == original
    assert isinstance(store.latest(TopicKind.SALINITY)["vam-kenh"].fields["salinity_ppt"], float)


def test_second_write_of_same_reading_adds_nothing(store: ReadingStore) -> None:
    batch = [sal("vam-kenh", T0 + i * H, float(i)) for i in range(10)]
    store.write(batch)
    store.write(batch)
    store.write(batch[3:5])
    assert store.count(TopicKind.SALINITY) == 10
    assert store.counts_by_device(TopicKind.SALINITY) == {"vam-kenh": 10}


def test_rewrite_merges_fields_like_influx(store: ReadingStore) -> None:
    store.write([sal("a", T0, 1.0, temp_c=28.0)])
    store.write([sal("a", T0, 1.5)])
    back = store.latest(TopicKind.SALINITY)["a"]
    assert back.fields == {"salinity_ppt": 1.5, "temp_c": 28.0}


@pytest.mark.parametrize("text", [NASTY, "a b,c=d", 'q"uote', "back\\slash", "ơ ư đ ộ"])
def test_tag_values_survive_intact(store: ReadingStore, text: str) -> None:
    reading = Reading(TopicKind.SALINITY, "st-1", T0, {"salinity_ppt": 2.0}, zone=text, river=text)
    store.write([reading])
    back = store.latest(TopicKind.SALINITY)["st-1"]
    assert (back.zone, back.river) == (text, text)


@pytest.mark.parametrize(
    "hostile",
    [
        "x' OR '1'='1",
        'x" OR 1=1 --',
        "x'; DROP MEASUREMENT salinity; --",
        "a\\' OR ''='",
        "x\nSELECT * FROM well",
        "vam-kenh' OR \"station\" =~ /.*/ OR 'a'='b",
    ],
)
def test_no_device_string_changes_a_query(store: ReadingStore, hostile: str) -> None:
    store.write([sal("vam-kenh", T0, 3.0), sal("hoa-binh", T0, 1.0)])
    assert store.latest(TopicKind.SALINITY, [hostile]) == {}
    assert store.query(TopicKind.SALINITY, hostile, T0 - H, T0 + H) == []
    assert store.count(TopicKind.SALINITY, device=hostile) == 0
    assert store.aggregate(TopicKind.SALINITY, hostile, "salinity_ppt", T0 - H, T0 + H, 3600) == []
    if "\n" in hostile:  # control characters have no line-protocol form: refused by both stores
        with pytest.raises(BadInputError):
            store.write([sal(hostile, T0, 9.0)])
        return
    # the hostile id itself is stored and found back exactly, as an ordinary value
    store.write([sal(hostile, T0, 9.0)])
    assert [r.device for r in store.query(TopicKind.SALINITY, hostile, T0, T0 + 1)] == [hostile]
    assert store.count(TopicKind.SALINITY) == 3


def test_query_range_is_start_inclusive_end_exclusive(store: ReadingStore) -> None:
    store.write([sal("a", T0 + i * H, float(i)) for i in range(5)])
    got = store.query(TopicKind.SALINITY, "a", T0 + H, T0 + 3 * H)
    assert [r.fields["salinity_ppt"] for r in got] == [1.0, 2.0]
    assert store.count(TopicKind.SALINITY, T0 + H, T0 + 3 * H) == 2
    limited = store.query(TopicKind.SALINITY, "a", T0, T0 + 10 * H, limit=3)
    assert [r.ts_ns for r in limited] == [T0, T0 + H, T0 + 2 * H]


def test_aggregate_buckets_min_mean_max_count(store: ReadingStore) -> None:
    minutes = 60 * 10**9
    values = [1.0, 2.0, 6.0, 10.0, 20.0]  # first three in hour 0, last two in hour 1
    times = [T0, T0 + 15 * minutes, T0 + 45 * minutes, T0 + H, T0 + H + 30 * minutes]
    store.write([sal("a", t, v) for t, v in zip(times, values, strict=True)])
    got = store.aggregate(TopicKind.SALINITY, "a", "salinity_ppt", T0, T0 + 3 * H, 3600)
    assert [(a.start_ns, a.min, a.mean, a.max, a.count) for a in got] == [
        (T0, 1.0, 3.0, 6.0, 3),
        (T0 + H, 10.0, 15.0, 20.0, 2),
    ]


def test_aggregate_by_vietnam_day_leaves_flagged_readings_out(store: ReadingStore) -> None:
    """Days that start at 00:00 Vietnam time (17:00 UTC), good readings only: a spike QC
    flagged never becomes a day's peak; a reading with another bit (approximate) still counts."""
    day = 86400 * 10**9
    start = T0 - 14 * H  # 2024-03-11T17:00Z: 2024-03-12 00:00 in Vietnam
    readings = [
        sal("a", start - H, 7.0),  # the day before, Vietnam time
        sal("a", start + H, 2.0),
        sal("a", start + 5 * H, 30.0),
        sal("a", start + 9 * H, 4.0),
        sal("a", start + day - H, 3.0),
    ]
    readings[2] = replace(readings[2], qc=2)  # a spike, flagged
    readings[3] = replace(readings[3], qc=64)  # approximate: counts
    store.write(readings)
    got = store.aggregate(
        TopicKind.SALINITY, "a", "salinity_ppt", start - day, start + day, 86400,
        offset_s=17 * 3600, exclude_qc=2,
    )  # fmt: skip
    assert [(a.start_ns, a.max, a.min, a.count) for a in got] == [
        (start - day, 7.0, 7.0, 1),
        (start, 4.0, 2.0, 3),
    ]
    every = store.aggregate(TopicKind.SALINITY, "a", "salinity_ppt", start, start + day, 86400)
    assert max(a.max for a in every) == 30.0  # without the exclusion the spike is there


def test_recent_gives_every_device_oldest_first(store: ReadingStore) -> None:
    store.write([sal("a", T0 + 2 * H, 3.0), sal("a", T0 + H, 2.0), sal("b", T0 + H, 5.0, seq=1)])
    store.write([sal("a", T0 - H, 9.0)])  # before the window
    got = store.recent(TopicKind.SALINITY, T0, ["salinity_ppt", "seq"])
    assert set(got) == {"a", "b"}
    assert got["a"].ts_ns == [T0 + H, T0 + 2 * H]
    assert got["a"].values["salinity_ppt"] == [2.0, 3.0]
    assert got["a"].values["seq"] == [None, None]
    assert got["b"].values["seq"] == [1]
    assert got["b"].values["qc"] == [0]


def test_latest_picks_newest_per_device_and_filters(store: ReadingStore) -> None:
    store.write([sal("a", T0, 1.0), sal("a", T0 + H, 2.0), sal("b", T0, 7.0)])
    latest = store.latest(TopicKind.SALINITY)
    assert {d: r.fields["salinity_ppt"] for d, r in latest.items()} == {"a": 2.0, "b": 7.0}
    assert set(store.latest(TopicKind.SALINITY, ["b"])) == {"b"}


def test_ping(store: ReadingStore) -> None:
    assert store.ping() is True


def test_latest_finds_recent_and_long_silent_devices_together(store: ReadingStore) -> None:
    now = time.time_ns()
    store.write(
        [
            sal("fresh", now - 60 * 10**9, 1.0),
            sal("fresh", now - 120 * 10**9, 0.9),
            sal("silent", T0, 2.0),
        ]
    )  # "silent" last reported in March 2024
    latest = store.latest(TopicKind.SALINITY)
    assert {d: r.fields["salinity_ppt"] for d, r in latest.items()} == {"fresh": 1.0, "silent": 2.0}
    assert set(store.latest(TopicKind.SALINITY, ["silent", "nobody"])) == {"silent"}


def test_at_times_is_exact_over_any_history(store: ReadingStore) -> None:
    """The conflict check asks for exactly these times: rows between them (more than a page),
    near neighbours and absent times change nothing."""
    dense = [sal("d", T0 + i * 1_000_000, 2.0) for i in range(1, 10_051)]
    store.write([sal("d", T0, 1.0), *dense, sal("d", T0 + H, 3.0), sal("e", T0 + H, 9.0)])
    found = store.at_times(TopicKind.SALINITY, "d", [T0, T0 + 2 * H, T0 + H, T0 + 5_000_000])
    assert {ts: r.fields["salinity_ppt"] for ts, r in found.items()} == {
        T0: 1.0,
        T0 + H: 3.0,
        T0 + 5_000_000: 2.0,
    }
    assert store.at_times(TopicKind.SALINITY, "nobody", [T0]) == {}
    assert store.at_times(TopicKind.SALINITY, "d", []) == {}


def test_columns_are_written_as_the_readings_they_hold(store: ReadingStore) -> None:
    """A file's chunk goes as columns (a field a row lacks is NaN): the same points as the
    readings, with times in whole seconds or not."""
    whole = np.array([T0, T0 + H, T0 + 2 * H], np.int64)
    odd = np.array([T0 + 1, T0 + H + 500], np.int64)  # nanoseconds: not whole seconds
    batches = [
        DeviceColumns(
            TopicKind.SALINITY,
            device,
            "xa-tan-dong",
            "tien",
            np.arange(len(times), dtype=np.int64),
            times,
            {"salinity_ppt": np.linspace(0.5, 2.0, len(times)), "temp_c": temps},
            np.array([0, 64, 0][: len(times)], np.int64),
            {"source": "archive"},
        )
        for device, times, temps in (
            ("a", whole, np.array([28.0, np.nan, 29.5])),
            ("b", odd, np.array([np.nan, np.nan])),
        )
    ]
    store.write_columns(batches)
    for batch in batches:
        back = store.query(TopicKind.SALINITY, batch.device, 0, T0 + 3 * H)
        assert back == batch.readings()
    assert back[0].fields == {"salinity_ppt": 0.5, "source": "archive"}


def test_values_at_gives_the_asked_times_as_columns(store: ReadingStore) -> None:
    store.write([sal("d", T0, 1.0, temp_c=20.0), sal("d", T0 + H, 2.0), sal("d", T0 + 2 * H, 3.0)])
    found = store.values_at(TopicKind.SALINITY, "d", [T0 + 2 * H, T0, T0 + 5 * H])
    assert found.ts_ns == [T0, T0 + 2 * H]
    assert [float(v) for v in found.values["salinity_ppt"]] == [1.0, 3.0]
    assert found.values["temp_c"] == [20.0, None]
    assert found.values["qc"] == [0, 0]
    assert store.values_at(TopicKind.SALINITY, "nobody", [T0]).ts_ns == []
