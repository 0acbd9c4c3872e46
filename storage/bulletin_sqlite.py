"""Issued bulletins (analytics/issued.py) in the alert state's SQLite file: one row per issue,
the (bulletin, version) pair unique, so two API processes issuing at once keep one."""

from __future__ import annotations

import sqlite3

from saltwatch.analytics.issued import Issue
from saltwatch.storage.sqlite import OpenedAtFirstUse

_COLUMNS = "version, issued_at, digest, html, markdown, share"  # the columns an Issue is read from


def _issue(row: tuple[object, ...]) -> Issue:
    version, at, digest, html, markdown, share = row
    return Issue(int(str(version)), int(str(at)), str(digest), str(html), str(markdown), str(share))


class SqliteIssuedBulletins(OpenedAtFirstUse):
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS bulletins (
            key TEXT NOT NULL, version INTEGER NOT NULL, issued_at INTEGER NOT NULL,
            digest TEXT NOT NULL, html TEXT NOT NULL, markdown TEXT NOT NULL,
            share TEXT NOT NULL UNIQUE, PRIMARY KEY (key, version));
        """

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
