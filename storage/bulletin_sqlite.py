"""Issued bulletins (analytics/issued.py) in the alert state's SQLite file: one row per issue,
the (bulletin, version) pair unique, so two API processes issuing at once keep one."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from saltwatch.analytics.issued import Issue
from saltwatch.storage.sqlite import classify_sqlite, connect_durable


class SqliteIssuedBulletins:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._opened: sqlite3.Connection | None = None

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, opened at first use (as the audit log's), SQLite's errors said in
        core.errors terms."""
        with self._lock:
            try:
                if self._opened is None:
                    db = connect_durable(self.path)
                    db.execute(
                        "CREATE TABLE IF NOT EXISTS bulletins (key TEXT NOT NULL, "
                        "version INTEGER NOT NULL, issued_at INTEGER NOT NULL, digest TEXT NOT "
                        "NULL, html TEXT NOT NULL, markdown TEXT NOT NULL, "
                        "PRIMARY KEY (key, version))"
                    )
                    self._opened = db
                yield self._opened
            except sqlite3.OperationalError as exc:
                raise classify_sqlite(exc) from exc

    def issues(self, key: str) -> list[Issue]:
        with self._locked() as db:
            rows = db.execute(
                "SELECT version, issued_at, digest, html, markdown FROM bulletins WHERE key = ? "
                "ORDER BY version",
                (key,),
            ).fetchall()
        return [Issue(int(v), int(at), str(d), str(h), str(m)) for v, at, d, h, m in rows]

    def add(self, key: str, issue: Issue) -> bool:
        with self._locked() as db:
            try:
                db.execute(
                    "INSERT INTO bulletins VALUES (?, ?, ?, ?, ?, ?)",
                    (key, issue.version, issue.issued_at_ns, issue.digest, issue.html,
                     issue.markdown),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
