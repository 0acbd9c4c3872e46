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

_COLUMNS = "version, issued_at, digest, html, markdown, share"  # the columns an Issue is read from


def _issue(row: tuple[object, ...]) -> Issue:
    version, at, digest, html, markdown, share = row
    return Issue(int(str(version)), int(str(at)), str(digest), str(html), str(markdown), str(share))


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
                        "NULL, html TEXT NOT NULL, markdown TEXT NOT NULL, share TEXT NOT NULL "
                        "UNIQUE, PRIMARY KEY (key, version))"
                    )
                    self._opened = db
                yield self._opened
            except sqlite3.OperationalError as exc:
                raise classify_sqlite(exc) from exc

    def issues(self, key: str) -> list[Issue]:
        with self._locked() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM bulletins WHERE key = ? ORDER BY version",
                (key,),
            ).fetchall()
        return [_issue(row) for row in rows]

    def shared(self, share: str) -> Issue | None:
        with self._locked() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM bulletins WHERE share = ?",
                (share,),
            ).fetchone()
        return _issue(row) if row else None

    def add(self, key: str, issue: Issue) -> bool:
        with self._locked() as db:
            try:
                db.execute(
                    "INSERT INTO bulletins VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (key, issue.version, issue.issued_at_ns, issue.digest, issue.html,
                     issue.markdown, issue.share),
                )  # fmt: skip
            except sqlite3.IntegrityError:
                return False
        return True

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
