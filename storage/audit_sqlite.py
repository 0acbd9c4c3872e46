"""Who did what (docs/interface.md, ``GET /api/v1/audit``): one row per action taken through the API
(acknowledging, silences, rule changes), kept in the alert state's SQLite file, filtered and
paged in SQL. A rule change keeps the rules it replaced in its ``detail``."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from saltwatch.api.audit import AuditEntry
from saltwatch.storage.sqlite import classify_sqlite, connect_durable


class SqliteAuditLog:
    """The audit log port (api/audit.py) on SQLite."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._opened: sqlite3.Connection | None = None

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        """The connection, opened at first use (a full disk when the process starts must not
        stop the API; the first action after space returns opens it), with SQLite's errors said
        in core.errors terms."""
        with self._lock:
            try:
                if self._opened is None:
                    self._opened = self._open()
                yield self._opened
            except sqlite3.OperationalError as exc:
                raise classify_sqlite(exc) from exc

    def _open(self) -> sqlite3.Connection:
        db = connect_durable(self.path)
        db.executescript(
            """
            CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
                role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
                detail TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
            CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor, at);
            """
        )
        return db

    def record(self, entry: AuditEntry) -> None:
        with self._locked() as db:
            db.execute(
                "INSERT INTO audit (at, actor, role, action, target, detail) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (entry.at_ns, entry.actor, entry.role, entry.action, entry.target, entry.detail),
            )

    def query(
        self,
        since_ns: int | None = None,
        until_ns: int | None = None,
        actor: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[AuditEntry], int]:
        """A page of the entries that match, newest first, and how many match in all."""
        where, params = ["1 = 1"], list[str | int]()
        if since_ns is not None:
            where.append("at >= ?")
            params.append(since_ns)
        if until_ns is not None:
            where.append("at < ?")
            params.append(until_ns)
        if actor is not None:
            where.append("actor = ?")
            params.append(actor)
        clause = " AND ".join(where)
        with self._locked() as db:
            total = db.execute(f"SELECT count(*) FROM audit WHERE {clause}", params)
            count = int(total.fetchone()[0])
            rows = db.execute(
                f"SELECT at, actor, role, action, target, detail FROM audit WHERE {clause} "
                "ORDER BY at DESC, seq DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return [AuditEntry(*row) for row in rows], count

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None
