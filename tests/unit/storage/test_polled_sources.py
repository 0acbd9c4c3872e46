"""The polled sources as ingest keeps them for the alerts process beside it
(storage/polled_sqlite.py): staleness counted when asked, so a stopped ingest goes stale too."""

from __future__ import annotations

from pathlib import Path

from saltwatch.core.timeutil import NS_PER_S
from saltwatch.storage.polled_sqlite import SqlitePolledSources

HOUR = 3600 * NS_PER_S
NOW = 1_710_000_000 * NS_PER_S


def test_a_source_is_stale_once_quiet_longer_than_it_may_be(tmp_path: Path) -> None:
    polled = SqlitePolledSources(tmp_path / "state.db")
    polled.replace(
        [
            ("buoys", NOW - 2 * HOUR, NOW - 5 * HOUR, 3600.0),  # newest 2 h ago, may be 1 h
            ("fresh", NOW - HOUR // 2, NOW - 5 * HOUR, 3600.0),
            ("never", None, NOW - 3 * HOUR, 3600.0),  # nothing landed since polling began
        ]
    )
    assert polled.stale_hours(NOW) == {"buoys": 2.0, "never": 3.0}
    # no one writes again (ingest stopped): the fresh one goes stale as time passes
    assert polled.stale_hours(NOW + HOUR) == {"buoys": 3.0, "fresh": 1.5, "never": 4.0}
    polled.close()


def test_sources_no_longer_polled_are_forgotten(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    polled = SqlitePolledSources(path)
    polled.replace([("old", None, NOW - 9 * HOUR, 60.0), ("buoys", None, NOW - 9 * HOUR, 60.0)])
    polled.replace([("buoys", NOW, NOW - 9 * HOUR, 60.0)])
    polled.close()
    assert SqlitePolledSources(path).stale_hours(NOW) == {}
