"""The polled sources as ingest keeps them for the alerts process beside it
(storage/polled_sqlite.py): staleness counted when asked, so a stopped ingest goes stale too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from saltwatch.core.timeutil import NS_PER_S
from saltwatch.ingest.poller import SourceStatus
from saltwatch.storage.polled_sqlite import SqlitePolledSources

HOUR = 3600 * NS_PER_S
NOW = 1_710_000_000 * NS_PER_S


def test_a_source_is_stale_once_quiet_longer_than_it_may_be(tmp_path: Path) -> None:
    polled = SqlitePolledSources(tmp_path / "state.db")
    polled.replace(
        [
            ("buoys", NOW - 2 * HOUR, NOW - 5 * HOUR, 3600.0, False),  # newest 2 h ago, may be 1 h
            ("fresh", NOW - HOUR // 2, NOW - 5 * HOUR, 3600.0, True),
            ("never", None, NOW - 3 * HOUR, 3600.0, False),  # nothing landed since polling began
        ]
    )
    assert polled.stale_hours(NOW) == {"buoys": 2.0, "never": 3.0}
    # no one writes again (ingest stopped): the fresh one goes stale as time passes
    assert polled.stale_hours(NOW + HOUR) == {"buoys": 3.0, "fresh": 1.5, "never": 4.0}
    # what /health of an API process beside ingest lists, counted at the time it asks
    assert polled.states(NOW) == [
        SourceStatus("buoys", 7200.0, stale=True, failing=False),
        SourceStatus("fresh", 1800.0, stale=False, failing=True),
        SourceStatus("never", None, stale=True, failing=False),
    ]
    polled.close()


def test_the_first_shape_of_the_table_gives_way(tmp_path: Path) -> None:
    """A state file written before ``failing`` was kept: the old table goes, and ingest's next
    write fills the new one."""
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE polled (name TEXT PRIMARY KEY, newest INTEGER, since INTEGER NOT NULL,"
            " stale_after REAL NOT NULL) WITHOUT ROWID"
        )
        db.execute("INSERT INTO polled VALUES ('buoys', NULL, 0, 60.0)")
    db.close()
    polled = SqlitePolledSources(path)
    assert polled.states(NOW) == []
    polled.replace([("buoys", NOW, NOW - HOUR, 60.0, True)])
    assert polled.states(NOW) == [SourceStatus("buoys", 0.0, stale=False, failing=True)]
    polled.close()


def test_sources_no_longer_polled_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    polled = SqlitePolledSources(path)
    polled.replace(
        [("old", None, NOW - 9 * HOUR, 60.0, False), ("buoys", None, NOW - 9 * HOUR, 60.0, True)]
    )
    polled.replace([("buoys", NOW, NOW - 9 * HOUR, 60.0, False)])
    polled.close()
    assert SqlitePolledSources(path).stale_hours(NOW) == {}
