"""The landed log: readings stored by a process other than the alert engine's, for the engine to
judge (docs/architecture.md, "Readings that do not come over MQTT").

The alert engine hears the broker. A handheld reading entered through ``saltwatch api`` and a
vendor cloud's readings polled by ``saltwatch ingest`` reach the store another way; the process
that stored them adds them here (in the alert state's file, which the processes of a split
layout share), and the process running the engine follows the log: each reader keeps a cursor
in the file, moved on once what it read was handed over, so a reader that stops reads on from
there (at least once: the engine takes a repeated time as one). A reader new to the log starts
at its end: what came before is in the store, from which the engine's windows fill at its start.
Rows older than ``KEEP_NS`` are dropped as rows are added.
"""

from __future__ import annotations

from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Reading, decode_readings, encode_readings
from saltwatch.storage.sqlite import OpenedAtFirstUse

KEEP_NS = 7 * 86_400 * NS_PER_S  # a reader away longer than a week starts at the end again
ROWS_AT_ONCE = 200  # batches one read returns


class SqliteLandedLog(OpenedAtFirstUse):
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS landed (
            seq INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, batch BLOB NOT NULL);
        CREATE INDEX IF NOT EXISTS landed_at ON landed (at);
        CREATE TABLE IF NOT EXISTS landed_read (
            reader TEXT PRIMARY KEY, seq INTEGER NOT NULL) WITHOUT ROWID;
        """

    def add(self, readings: list[Reading], now_ns: int) -> None:
        """One batch for the readers; durable when this returns."""
        if not readings:
            return
        with self._locked() as db:
            db.execute(
                "INSERT INTO landed (at, batch) VALUES (?, ?)", (now_ns, encode_readings(readings))
            )
            db.execute("DELETE FROM landed WHERE at < ?", (now_ns - KEEP_NS,))

    def read(self, reader: str) -> tuple[int, list[Reading]]:
        """The readings added after ``reader``'s cursor (at most ``ROWS_AT_ONCE`` batches) and
        the place to move the cursor to once they are handed over (``done``). A reader new to
        the log gets nothing and its cursor at the end."""
        with self._locked() as db:
            row = db.execute("SELECT seq FROM landed_read WHERE reader = ?", (reader,)).fetchone()
            if row is None:
                end = db.execute("SELECT COALESCE(MAX(seq), 0) FROM landed").fetchone()[0]
                db.execute("INSERT INTO landed_read (reader, seq) VALUES (?, ?)", (reader, end))
                return int(end), []
            rows = db.execute(
                "SELECT seq, batch FROM landed WHERE seq > ? ORDER BY seq LIMIT ?",
                (row[0], ROWS_AT_ONCE),
            ).fetchall()
        readings = [r for _, batch in rows for r in decode_readings(batch)]
        return (int(rows[-1][0]) if rows else int(row[0])), readings

    def done(self, reader: str, seq: int) -> None:
        """``reader`` handed over everything up to ``seq``."""
        with self._locked() as db:
            db.execute("UPDATE landed_read SET seq = ? WHERE reader = ?", (seq, reader))
