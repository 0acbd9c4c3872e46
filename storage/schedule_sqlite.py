"""Planned openings of structures (analytics/schedules.py ``ScheduleBook``) in the alert state's
SQLite file; a cancelled opening is kept, marked with who cancelled it."""

from __future__ import annotations

from saltwatch.analytics.schedules import Opening
from saltwatch.storage.sqlite import OpenedAtFirstUse


class SqliteSchedules(OpenedAtFirstUse):
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS openings (
            id TEXT PRIMARY KEY, structure TEXT NOT NULL, start INTEGER NOT NULL,
            end INTEGER NOT NULL, by TEXT NOT NULL, note TEXT NOT NULL, source TEXT NOT NULL,
            cancelled_by TEXT) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS openings_start ON openings (start);
        """
    _COLUMNS = "id, structure, start, end, by, note, source"

    def add(self, opening: Opening) -> None:
        o = opening
        with self._locked() as db:
            db.execute(
                f"INSERT INTO openings ({self._COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (o.id, o.structure, o.start_ns, o.end_ns, o.by, o.note, o.source),
            )

    def cancel(self, opening_id: str, by: str) -> Opening | None:
        with self._locked() as db:
            row = db.execute(
                f"UPDATE openings SET cancelled_by = ? WHERE id = ? AND cancelled_by IS NULL "
                f"RETURNING {self._COLUMNS}",
                (by, opening_id),
            ).fetchone()
        return Opening(*row) if row else None

    def between(self, start_ns: int, end_ns: int, structure: str | None = None) -> list[Opening]:
        query = (
            f"SELECT {self._COLUMNS} FROM openings WHERE cancelled_by IS NULL AND start < ? "
            "AND end > ?"
        )
        args: list[object] = [end_ns, start_ns]
        if structure is not None:
            query += " AND structure = ?"
            args.append(structure)
        with self._locked() as db:
            rows = db.execute(query + " ORDER BY start", args).fetchall()
        return [Opening(*row) for row in rows]
