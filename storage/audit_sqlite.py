"""Who did what (CONTRACT §7, ``GET /api/v1/audit``): one row per action taken through the API
(acknowledging, silences, rule changes), kept in the alert state's SQLite file, filtered and
paged in SQL. A rule change keeps the rules it replaced in its ``detail``."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from saltwatch.storage.sqlite import connect_durable


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at_ns: int
    actor: str  # the token's name
    role: str
    action: str  # ack, silence.create, silence.delete, rules.update
    target: str  # an alert id, a silence id, "rules"
    detail: str


class AuditLog:
    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = connect_durable(Path(path))
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS audit (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
                role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
                detail TEXT NOT NULL);
            CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
            CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor, at);
            """
        )

    def record(self, entry: AuditEntry) -> None:
        with self._lock:
            self._db.execute(
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
        with self._lock:
            total = self._db.execute(f"SELECT count(*) FROM audit WHERE {clause}", params)
            count = int(total.fetchone()[0])
            rows = self._db.execute(
                f"SELECT at, actor, role, action, target, detail FROM audit WHERE {clause} "
                "ORDER BY at DESC, seq DESC LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
        return [AuditEntry(*row) for row in rows], count

    def close(self) -> None:
        with self._lock:
            self._db.close()
