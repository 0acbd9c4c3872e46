"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.services import InfluxServer
from saltwatch.core.store import ReadingStore
from saltwatch.storage.influx import InfluxReadingStore
from saltwatch.storage.sqlite import SqliteReadingStore


@pytest.fixture(params=["sqlite", "influxdb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ReadingStore]:
    """Each store in turn: SQLite, and InfluxDB on the session's real influxd."""
    if request.param == "sqlite":
        adapter: ReadingStore = SqliteReadingStore(tmp_path / "readings.db")
    else:
        server: InfluxServer = request.getfixturevalue("influxd")
        adapter = InfluxReadingStore(server.store_url(request.getfixturevalue("influx_db")))
    yield adapter
    adapter.close()
