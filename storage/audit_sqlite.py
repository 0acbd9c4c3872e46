"""Who did what (docs/interface.md, ``GET /api/v1/audit``): one row per action taken through the API
(acknowledging, silences, rule changes), kept in the alert state's SQLite file, filtered and
paged in SQL. A rule change keeps the rules it replaced in its ``detail``."""

from __future__ import annotations

from saltwatch.api.audit import AuditEntry
from saltwatch.storage.sqlite import OpenedAtFirstUse


class SqliteAuditLog(OpenedAtFirstUse):
    """The audit log port (api/audit.py) on SQLite."""

    SCHEMA = """
        CREATE TABLE IF NOT EXISTS audit (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL,
            role TEXT NOT NULL, action TEXT NOT NULL, target TEXT NOT NULL,
            detail TEXT NOT NULL);
        CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
        CREATE INDEX IF NOT EXISTS audit_actor ON audit (actor, at);
        """

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
