"""Alert state in SQLite: alerts, and an outbox of events so a restart neither forgets nor
re-sends. An event is written in the same transaction as the alert change that caused it, and
marked sent per channel once delivered.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from pathlib import Path

import orjson

from alerts.lifecycle import Alert, Event


class AlertState:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS alerts (
                id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
                updated_at INTEGER NOT NULL, data BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS alerts_open ON alerts (fingerprint)
                WHERE state != 'resolved';
            CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL, event BLOB NOT NULL,
                created_at INTEGER NOT NULL, sent_at INTEGER);
            CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (channel) WHERE sent_at IS NULL;
            """
        )

    def open_alerts(self) -> dict[str, Alert]:
        with self._lock:
            rows = self._db.execute("SELECT data FROM alerts WHERE state != 'resolved'").fetchall()
        alerts = [Alert(**orjson.loads(row[0])) for row in rows]
        return {a.fingerprint: a for a in alerts}

    def get(self, alert_id: str) -> Alert | None:
        with self._lock:
            row = self._db.execute("SELECT data FROM alerts WHERE id = ?", (alert_id,)).fetchone()
        return Alert(**orjson.loads(row[0])) if row else None

    def all(self, limit: int = 1000) -> list[Alert]:
        with self._lock:
            rows = self._db.execute(
                "SELECT data FROM alerts ORDER BY updated_at DESC LIMIT ?", (limit,)
            ).fetchall()
        return [Alert(**orjson.loads(row[0])) for row in rows]

    def save(
        self,
        changes: list[tuple[Alert | None, Alert | None]],
        events: list[Event],
        channels: list[str],
    ) -> None:
        """Apply (before, after) changes and queue ``events`` for every channel, atomically."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for before, after in changes:
                    if after is None and before is not None:
                        self._db.execute("DELETE FROM alerts WHERE id = ?", (before.id,))
                    elif after is not None:
                        self._db.execute(
                            "INSERT INTO alerts (id, fingerprint, state, updated_at, data) "
                            "VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                            "state = excluded.state, updated_at = excluded.updated_at, "
                            "data = excluded.data",
                            (
                                after.id,
                                after.fingerprint,
                                after.state,
                                after.updated_at_ns,
                                orjson.dumps(dataclasses.asdict(after)),
                            ),
                        )
                for event in events:
                    blob = orjson.dumps(
                        {
                            "alert": dataclasses.asdict(event.alert),
                            "state": event.state,
                            "at_ns": event.at_ns,
                        }
                    )
                    for channel in channels:
                        self._db.execute(
                            "INSERT INTO outbox (channel, event, created_at) VALUES (?, ?, ?)",
                            (channel, blob, event.at_ns),
                        )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def unsent(self, channel: str, limit: int = 500) -> list[tuple[int, Event]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event FROM outbox WHERE channel = ? AND sent_at IS NULL "
                "ORDER BY seq LIMIT ?",
                (channel, limit),
            ).fetchall()
        out = []
        for seq, blob in rows:
            data = orjson.loads(blob)
            out.append((seq, Event(Alert(**data["alert"]), data["state"], data["at_ns"])))
        return out

    def mark_sent(self, seq: int, now_ns: int) -> None:
        with self._lock:
            self._db.execute("UPDATE outbox SET sent_at = ? WHERE seq = ?", (now_ns, seq))

    def sent_count(self, channel: str) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COUNT(*) FROM outbox WHERE channel = ? AND sent_at IS NOT NULL", (channel,)
            ).fetchone()
        return int(row[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
