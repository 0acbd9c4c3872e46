"""SQLite's errors, classified by what waiting can mend (real errors from real files)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from saltwatch.core.errors import FatalError, RetryableError
from saltwatch.storage.sqlite import SqliteReadingStore, classify_sqlite


def real_error(db: sqlite3.Connection, sql: str) -> sqlite3.OperationalError:
    with pytest.raises(sqlite3.OperationalError) as caught:
        db.execute(sql)
    return caught.value


def test_a_read_only_file_is_fatal_and_a_busy_one_retryable(tmp_path: Path) -> None:
    path = tmp_path / "r.db"
    SqliteReadingStore(path).close()
    read_only = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    refused = real_error(read_only, "INSERT INTO salinity (device, ts) VALUES ('a', 1)")
    assert isinstance(classify_sqlite(refused), FatalError)

    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    waiter = sqlite3.connect(path, timeout=0.01, isolation_level=None)
    busy = real_error(waiter, "BEGIN EXCLUSIVE")
    assert isinstance(classify_sqlite(busy), RetryableError)
    holder.execute("ROLLBACK")
    for db in (read_only, holder, waiter):
        db.close()
