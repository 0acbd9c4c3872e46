"""The landed log (storage/landed_sqlite.py): what a process without the alert engine stored,
read once and in order by the process that runs it, from where it stopped."""

from __future__ import annotations

from pathlib import Path

from saltwatch.core.schema import FieldValue
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.landed_sqlite import KEEP_NS, SqliteLandedLog

T0 = 1_710_000_000 * NS_PER_S


def handheld(value: float, minute: int) -> Reading:
    fields: dict[str, FieldValue] = {"salinity_ppt": value, "source": "manual", "by": "staff"}
    return Reading(TopicKind.SALINITY, "xuan-hoa", T0 + minute * 60 * NS_PER_S, fields, 0, "z")


def test_a_reader_gets_what_was_added_after_it_began_once_and_in_order(tmp_path: Path) -> None:
    log = SqliteLandedLog(tmp_path / "state.db")
    log.add([handheld(0.4, 0)], T0)  # before the reader: in the store, its windows fill from it
    end, got = log.read("alerts")
    assert got == []
    log.done("alerts", end)
    first, second = [handheld(1.2, 1)], [handheld(1.3, 2), handheld(1.4, 3)]
    log.add(first, T0)
    log.add(second, T0)
    seq, got = log.read("alerts")
    assert got == first + second  # as judged: fields, flags and zone kept
    again_seq, again = log.read("alerts")  # not handed over yet: given again
    assert (again_seq, again) == (seq, got)
    log.done("alerts", seq)
    assert log.read("alerts")[1] == []
    log.close()


def test_the_cursor_outlives_the_reader_and_readers_do_not_share_one(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    log = SqliteLandedLog(path)
    log.done("alerts", log.read("alerts")[0])
    log.add([handheld(2.0, 5)], T0)
    log.close()
    reopened = SqliteLandedLog(path)  # the alerts process restarted
    seq, got = reopened.read("alerts")
    assert [r.fields["salinity_ppt"] for r in got] == [2.0]
    reopened.done("alerts", seq)
    assert reopened.read("alerts")[1] == []
    assert reopened.read("another")[1] == []  # a new reader starts at the end
    reopened.add([handheld(2.5, 6)], T0)
    assert [r.fields["salinity_ppt"] for r in reopened.read("another")[1]] == [2.5]
    assert [r.fields["salinity_ppt"] for r in reopened.read("alerts")[1]] == [2.5]
    reopened.close()


def test_rows_older_than_a_week_are_dropped_as_rows_are_added(tmp_path: Path) -> None:
    log = SqliteLandedLog(tmp_path / "state.db")
    log.done("alerts", log.read("alerts")[0])
    log.add([handheld(1.0, 0)], T0)
    log.add([handheld(1.1, 1)], T0 + KEEP_NS + NS_PER_S)
    assert [r.fields["salinity_ppt"] for r in log.read("alerts")[1]] == [1.1]
    log.close()
