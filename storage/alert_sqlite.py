"""The alert store on SQLite (the ``AlertStore`` port of alerts/store.py): alerts, silences, an
outbox of deliveries and the rules an admin saved.

A delivery (an event for one channel) is written in the same transaction as the alert change that
caused it, under a unique key (alert, state, severity, reminder, escalation): a restart neither
forgets an open alert nor queues its notification again. A delivery is marked sent once done.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from saltwatch.alerts.model import Alert, Delivery, Event, Fingerprint, Silence
from saltwatch.alerts.store import AlertQuery
from saltwatch.core.errors import RetryableError
from saltwatch.storage.sqlite import classify_sqlite, connect_durable

_FILTERED = {
    "zone": "TEXT",
    "severity": "TEXT",
    "kind": "TEXT",
    "started_at": "INTEGER",
    "resolved_at": "INTEGER",
}


def _alert_data(alert: Alert) -> dict[str, object]:
    """An alert as stored: its fields, the fingerprint as its three parts (a subject may hold a
    colon: a failing channel ``receiver:<name>``)."""
    data = dataclasses.asdict(alert)
    fp = alert.fingerprint
    data["fingerprint"] = [fp.rule, fp.subject, fp.part]
    return data


def _alert_of(data: dict[str, Any]) -> Alert:
    """A stored alert; one stored before fingerprints were kept in parts holds their text."""
    fp = data["fingerprint"]
    typed = Fingerprint(*fp) if isinstance(fp, list) else Fingerprint.parse(fp)
    return Alert(**{**data, "fingerprint": typed})


def _alert_blob(alert: Alert) -> bytes:
    return orjson.dumps(_alert_data(alert))


class SqliteAlertStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect_durable(self.path)
        self._db.executescript(
            """
            CREATE TABLE IF NOT EXISTS alerts (
                id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL,
                updated_at INTEGER NOT NULL, data BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS alerts_open ON alerts (fingerprint)
                WHERE state != 'resolved';
            CREATE TABLE IF NOT EXISTS outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT, channel TEXT NOT NULL,
                dedup TEXT NOT NULL, event BLOB NOT NULL, created_at INTEGER NOT NULL,
                sent_at INTEGER, error TEXT, UNIQUE (channel, dedup));
            CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (channel) WHERE sent_at IS NULL;
            CREATE TABLE IF NOT EXISTS kv (key TEXT PRIMARY KEY, value BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS silences (
                id TEXT PRIMARY KEY, zone TEXT, device TEXT, rule TEXT, starts_at INTEGER NOT NULL,
                ends_at INTEGER NOT NULL, author TEXT NOT NULL, reason TEXT NOT NULL);
            """
        )
        # a file of an older SaltWatch: the delivery attempts became columns later
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(outbox)")}
        if "attempts" not in columns:
            self._db.execute("ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0")
        if "next_at" not in columns:
            self._db.execute("ALTER TABLE outbox ADD COLUMN next_at INTEGER")
        self._index_columns()

    @contextmanager
    def _locked(self) -> Iterator[None]:
        """The connection to itself, with SQLite's errors said in the port's terms
        (core.errors): a full disk or a busy file may pass, a read-only file will not."""
        with self._lock:
            try:
                yield
            except sqlite3.OperationalError as exc:
                raise classify_sqlite(exc) from exc
            except sqlite3.Error as exc:
                raise RetryableError(f"alert state: {exc}") from exc

    def _index_columns(self) -> None:
        """What the alert list filters on, as indexed columns (filled from the stored alert
        for a file written before they existed)."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(alerts)")}
        added = [c for c in _FILTERED if c not in columns]
        for column in added:
            self._db.execute(f"ALTER TABLE alerts ADD COLUMN {column} {_FILTERED[column]}")
        if added:
            rows = self._db.execute("SELECT id, data FROM alerts").fetchall()
            for alert_id, blob in rows:
                a = _alert_of(orjson.loads(blob))
                self._db.execute(
                    "UPDATE alerts SET zone = ?, severity = ?, kind = ?, started_at = ?, "
                    "resolved_at = ? WHERE id = ?",
                    (a.zone, a.severity, a.kind, a.started_at_ns, a.resolved_at_ns, alert_id),
                )
        self._db.executescript(
            """
            CREATE INDEX IF NOT EXISTS alerts_updated ON alerts (updated_at);
            CREATE INDEX IF NOT EXISTS alerts_zone ON alerts (zone, updated_at);
            """
        )

    # ------------------------------------------------------------------ alerts
    def _alerts(self, sql: str, params: tuple[object, ...] = ()) -> list[Alert]:
        with self._locked():
            rows = self._db.execute(sql, params).fetchall()
        return [_alert_of(orjson.loads(row[0])) for row in rows]

    def open_alerts(self) -> dict[Fingerprint, Alert]:
        alerts = self._alerts("SELECT data FROM alerts WHERE state != 'resolved'")
        return {a.fingerprint: a for a in alerts}

    def get(self, alert_id: str) -> Alert | None:
        found = self._alerts("SELECT data FROM alerts WHERE id = ?", (alert_id,))
        return found[0] if found else None

    def all(self, limit: int = 1000) -> list[Alert]:
        return self._alerts("SELECT data FROM alerts ORDER BY updated_at DESC LIMIT ?", (limit,))

    def query(self, q: AlertQuery) -> tuple[list[Alert], int]:
        """One page of the alerts that match, newest change first, and how many match in all:
        filtered, counted and paged in SQL."""
        where: list[str] = ["1 = 1"]
        params: list[str | int] = []
        if q.zones is not None:
            zones = sorted(q.zones)
            where.append(f"zone IN ({', '.join('?' * len(zones))})")
            params.extend(zones)
        for column, value in (("state", q.state), ("severity", q.severity), ("kind", q.kind)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if q.until_ns is not None:  # episodes that overlap [since, until)
            where.append("started_at < ?")
            params.append(q.until_ns)
        if q.since_ns is not None:
            where.append("(resolved_at IS NULL OR resolved_at >= ?)")
            params.append(q.since_ns)
        clause = " AND ".join(where)
        with self._locked():
            total = self._db.execute(
                f"SELECT COUNT(*) FROM alerts WHERE {clause}", params
            ).fetchone()
            rows = self._db.execute(
                f"SELECT data FROM alerts WHERE {clause} ORDER BY updated_at DESC, id "
                "LIMIT ? OFFSET ?",
                [*params, q.limit, q.offset],
            ).fetchall()
        return [_alert_of(orjson.loads(row[0])) for row in rows], int(total[0])

    def save(
        self, changes: list[tuple[Alert | None, Alert | None]], deliveries: list[Delivery]
    ) -> None:
        """Apply (before, after) changes and queue ``deliveries``, atomically."""
        with self._locked():
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for before, after in changes:
                    if after is None and before is not None:
                        self._db.execute("DELETE FROM alerts WHERE id = ?", (before.id,))
                    elif after is not None:
                        self._db.execute(
                            "INSERT INTO alerts (id, fingerprint, state, updated_at, data, zone, "
                            "severity, kind, started_at, resolved_at) "
                            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                            "state = excluded.state, updated_at = excluded.updated_at, "
                            "data = excluded.data, zone = excluded.zone, "
                            "severity = excluded.severity, kind = excluded.kind, "
                            "started_at = excluded.started_at, resolved_at = excluded.resolved_at",
                            (
                                after.id,
                                str(after.fingerprint),
                                after.state,
                                after.updated_at_ns,
                                _alert_blob(after),
                                after.zone,
                                after.severity,
                                after.kind,
                                after.started_at_ns,
                                after.resolved_at_ns,
                            ),
                        )
                for d in deliveries:
                    blob = orjson.dumps(
                        {
                            "alert": _alert_data(d.event.alert),
                            "state": d.event.state,
                            "at_ns": d.event.at_ns,
                        }
                    )
                    self._db.execute(
                        "INSERT OR IGNORE INTO outbox (channel, dedup, event, created_at) "
                        "VALUES (?, ?, ?, ?)",
                        (d.channel, d.key, blob, d.event.at_ns),
                    )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # ------------------------------------------------------------------ outbox
    def unsent(self, channel: str, limit: int = 500) -> list[tuple[int, Event]]:
        with self._locked():
            rows = self._db.execute(
                "SELECT seq, event FROM outbox WHERE channel = ? AND sent_at IS NULL "
                "ORDER BY seq LIMIT ?",
                (channel, limit),
            ).fetchall()
        out = []
        for seq, blob in rows:
            data = orjson.loads(blob)
            out.append((seq, Event(_alert_of(data["alert"]), data["state"], data["at_ns"])))
        return out

    def mark_sent(self, seq: int, now_ns: int, error: str | None = None) -> None:
        with self._locked():
            self._db.execute(
                "UPDATE outbox SET sent_at = ?, error = ? WHERE seq = ?", (now_ns, error, seq)
            )

    def record_attempt(self, seq: int, attempts: int, next_at_ns: int, error: str) -> None:
        """A failed delivery: how many attempts so far, when the next one is due, and why."""
        with self._locked():
            self._db.execute(
                "UPDATE outbox SET attempts = ?, next_at = ?, error = ? WHERE seq = ?",
                (attempts, next_at_ns, error, seq),
            )

    def pending_attempt(self, channel: str) -> tuple[int, int | None]:
        """(attempts, next try) of the channel's oldest unsent delivery: where a restarted
        worker takes its backoff up again."""
        with self._locked():
            row = self._db.execute(
                "SELECT attempts, next_at FROM outbox WHERE channel = ? AND sent_at IS NULL "
                "ORDER BY seq LIMIT 1",
                (channel,),
            ).fetchone()
        return (int(row[0]), row[1]) if row else (0, None)

    def sent(self, channel: str) -> list[tuple[str, str | None]]:
        """(dedup key, error) of every delivery made on ``channel``, oldest first."""
        with self._locked():
            rows = self._db.execute(
                "SELECT dedup, error FROM outbox WHERE channel = ? AND sent_at IS NOT NULL "
                "ORDER BY seq",
                (channel,),
            ).fetchall()
        return [(row[0], row[1]) for row in rows]

    def channels_told(self, alert_id: str) -> set[str]:
        """Channels that were given (or queued) this alert's firing."""
        pattern = f"{alert_id}:firing:%"
        with self._locked():
            rows = self._db.execute(
                "SELECT DISTINCT channel FROM outbox WHERE dedup LIKE ?", (pattern,)
            ).fetchall()
        return {row[0] for row in rows}

    # ------------------------------------------------------------------ silences
    def add_silence(self, silence: Silence) -> None:
        with self._locked():
            self._db.execute(
                "INSERT INTO silences VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    silence.id,
                    silence.zone,
                    silence.device,
                    silence.rule,
                    silence.starts_ns,
                    silence.ends_ns,
                    silence.author,
                    silence.reason,
                ),
            )

    def silences(
        self, active_at_ns: int | None = None, ending_after_ns: int | None = None
    ) -> list[Silence]:
        """Every silence, those active at a time, or those that end after one (active or still
        to come), by start."""
        sql, params = "SELECT * FROM silences", ()
        if active_at_ns is not None:
            sql += " WHERE starts_at <= ? AND ends_at > ?"
            params = (active_at_ns, active_at_ns)  # type: ignore[assignment]
        elif ending_after_ns is not None:
            sql += " WHERE ends_at > ?"
            params = (ending_after_ns,)  # type: ignore[assignment]
        with self._locked():
            rows = self._db.execute(sql + " ORDER BY starts_at", params).fetchall()
        return [Silence(*row) for row in rows]

    def expire_silence(self, silence_id: str, now_ns: int) -> bool:
        with self._locked():
            cursor = self._db.execute(
                "UPDATE silences SET ends_at = ? WHERE id = ? AND ends_at > ?",
                (now_ns, silence_id, now_ns),
            )
        return cursor.rowcount > 0

    # ------------------------------------------------------------------ rules changed at run time
    def save_rules(self, rules: dict[str, object]) -> None:
        with self._locked():
            self._db.execute(
                "INSERT INTO kv VALUES ('rules', ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value",
                (orjson.dumps(rules),),
            )

    def saved_rules(self) -> dict[str, object] | None:
        with self._locked():
            row = self._db.execute("SELECT value FROM kv WHERE key = 'rules'").fetchone()
        return orjson.loads(row[0]) if row else None

    def close(self) -> None:
        with self._lock:
            self._db.close()
