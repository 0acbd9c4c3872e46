"""ReadingStore on SQLite (WAL mode): the embedded default for the demo and one-machine sites.

One table per measurement with the schema's typed columns and the primary key (device, ts), so a
second write of the same reading updates it field by field (as InfluxDB merges a point) and never
adds a row. Every value goes in as a bound parameter; column names come only from the schema.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from saltwatch.core.columns import DeviceColumns
from saltwatch.core.errors import BadInputError, FatalError, RetryableError
from saltwatch.core.schema import (
    MEASUREMENTS,
    FieldType,
    FieldValue,
    Measurement,
    check_tags,
    measurement_for,
)
from saltwatch.core.store import Aggregate
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series

_SQL_TYPES = {
    FieldType.FLOAT: "REAL",
    FieldType.INT: "INTEGER",
    FieldType.BOOL: "INTEGER",
    FieldType.STRING: "TEXT",
}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _from_sql(ftype: FieldType, value: Any) -> FieldValue:
    if ftype is FieldType.BOOL:
        return bool(value)
    if ftype is FieldType.FLOAT:
        return float(value)
    if ftype is FieldType.INT:
        return int(value)
    return str(value)


def connect_durable(path: Path) -> sqlite3.Connection:
    """A SQLite connection in WAL mode where a commit survives power loss (we acknowledge or
    notify after it), shared across threads under the caller's lock, autocommit by default."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


#: what SQLite says when waiting cannot help: the file or its folder cannot be written
_FATAL = ("readonly", "read-only", "unable to open", "not authorized", "no such table")


def classify_sqlite(exc: sqlite3.OperationalError) -> RetryableError | FatalError:
    """A busy database, a full disk or an I/O error may pass (retryable); a read-only file or
    one that cannot be opened will not (fatal: an operator must act)."""
    text = str(exc)
    if any(word in text.lower() for word in _FATAL):
        return FatalError(f"SQLite cannot be written: {text}")
    return RetryableError(f"SQLite busy or unavailable: {text}")


class OpenedAtFirstUse:
    """A table of the API's in the alert state's file (the audit log, the issued bulletins),
    opened at first use: a full disk when the process starts must not stop the API, and the
    first use after space returns opens it. ``_locked`` gives the connection with SQLite's
    errors said in core.errors terms."""

    #: the statements that make the tables (``CREATE … IF NOT EXISTS``)
    SCHEMA = ""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._opened: sqlite3.Connection | None = None

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                if self._opened is None:
                    db = connect_durable(self.path)
                    db.executescript(self.SCHEMA)
                    self._opened = db
                yield self._opened
            except sqlite3.OperationalError as exc:
                raise classify_sqlite(exc) from exc

    def close(self) -> None:
        with self._lock:
            if self._opened is not None:
                self._opened.close()
                self._opened = None


_IN_CHUNK = 500  # times per ``IN (…)`` list, well under SQLite's bound on parameters


class SqliteReadingStore:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = connect_durable(self.path)
        self._inserts: dict[str, str] = {}
        for m in MEASUREMENTS.values():
            self._create(m)

    def _columns(self, m: Measurement) -> list[str]:
        return ["zone", *(["river"] if "river" in m.tags else []), *m.fields]

    def _create(self, m: Measurement) -> None:
        cols = ", ".join(
            f"{_q(c)} {_SQL_TYPES.get(m.fields.get(c, FieldType.STRING))}" for c in self._columns(m)
        )
        self._db.execute(
            f"CREATE TABLE IF NOT EXISTS {_q(m.name)} (device TEXT NOT NULL, ts INTEGER NOT NULL, "
            f"{cols}, PRIMARY KEY (device, ts)) WITHOUT ROWID"
        )
        names = self._columns(m)
        # a file written by an older SaltWatch: the fields added since become new columns
        have = {row[1] for row in self._db.execute(f"PRAGMA table_info({_q(m.name)})")}
        for c in names:
            if c not in have:
                kind = _SQL_TYPES.get(m.fields.get(c, FieldType.STRING))
                self._db.execute(f"ALTER TABLE {_q(m.name)} ADD COLUMN {_q(c)} {kind}")
        updates = ", ".join(
            f"{_q(c)} = COALESCE(excluded.{_q(c)}, {_q(m.name)}.{_q(c)})" for c in names
        )
        self._inserts[m.name] = (
            f"INSERT INTO {_q(m.name)} (device, ts, {', '.join(_q(c) for c in names)}) "
            f"VALUES ({', '.join('?' * (len(names) + 2))}) "
            f"ON CONFLICT (device, ts) DO UPDATE SET {updates}"
        )

    @contextmanager
    def _locked(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                yield self._db
            except sqlite3.OperationalError as exc:
                raise classify_sqlite(exc) from None

    def write(self, readings: Sequence[Reading]) -> None:
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for r in readings:
            m = measurement_for(r.kind)
            check_tags(r.device, r.zone, r.river)
            values: list[Any] = [r.device, r.ts_ns, r.zone or None]
            if "river" in m.tags:
                values.append(r.river or None)
            values.extend(r.qc if name == "qc" else r.fields.get(name) for name in m.fields)
            rows.setdefault(m.name, []).append(tuple(values))
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                for name, batch in rows.items():
                    db.executemany(self._inserts[name], batch)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _select(self, sql: str, params: Sequence[Any]) -> list[sqlite3.Row]:
        with self._locked() as db:
            cursor = db.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    @staticmethod
    def _reading(kind: TopicKind, m: Measurement, row: sqlite3.Row) -> Reading:
        keys = row.keys()
        fields = {
            name: _from_sql(ftype, row[name])
            for name, ftype in m.fields.items()
            if name != "qc" and row[name] is not None
        }
        river = row["river"] if "river" in keys else None
        return Reading(
            kind,
            row["device"],
            row["ts"],
            fields,
            int(row["qc"] or 0),
            row["zone"] or "",
            river or "",
        )

    def latest(self, kind: TopicKind, devices: Sequence[str] | None = None) -> dict[str, Reading]:
        m = measurement_for(kind)
        table = _q(m.name)
        sql = (
            f"SELECT t.* FROM {table} t JOIN (SELECT device, MAX(ts) AS ts FROM {table} "
            f"GROUP BY device) latest USING (device, ts)"
        )
        params: list[Any] = []
        if devices is not None:
            sql += f" WHERE t.device IN ({', '.join('?' * len(devices))})"
            params.extend(devices)
        return {row["device"]: self._reading(kind, m, row) for row in self._select(sql, params)}

    def query(
        self, kind: TopicKind, device: str, start_ns: int, end_ns: int, limit: int = 10_000
    ) -> list[Reading]:
        m = measurement_for(kind)
        rows = self._select(
            f"SELECT * FROM {_q(m.name)} WHERE device = ? AND ts >= ? AND ts < ? "
            "ORDER BY ts LIMIT ?",
            (device, start_ns, end_ns, limit),
        )
        return [self._reading(kind, m, row) for row in rows]

    def at_times(self, kind: TopicKind, device: str, times: Sequence[int]) -> dict[int, Reading]:
        m = measurement_for(kind)
        wanted = sorted(set(times))
        out: dict[int, Reading] = {}
        for i in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[i : i + _IN_CHUNK]
            rows = self._select(
                f"SELECT * FROM {_q(m.name)} WHERE device = ? "
                f"AND ts IN ({', '.join('?' * len(chunk))})",
                (device, *chunk),
            )
            out.update((row["ts"], self._reading(kind, m, row)) for row in rows)
        return out

    def values_at(self, kind: TopicKind, device: str, times: Sequence[int]) -> Series:
        found = self.at_times(kind, device, times)
        out = Series(device)
        names = [n for n in measurement_for(kind).fields if n != "qc"]
        for ts in sorted(found):
            reading = found[ts]
            out.ts_ns.append(ts)
            for name in names:
                out.values.setdefault(name, []).append(reading.fields.get(name))
            out.values.setdefault("qc", []).append(reading.qc)
        return out

    def write_columns(self, batches: Sequence[DeviceColumns]) -> None:
        self.write([reading for batch in batches for reading in batch.readings()])

    def aggregate(
        self,
        kind: TopicKind,
        device: str,
        field: str,
        start_ns: int,
        end_ns: int,
        every_s: int,
        *,
        offset_s: int = 0,
        exclude_qc: int = 0,
    ) -> list[Aggregate]:
        m = measurement_for(kind)
        if m.fields.get(field) is not FieldType.FLOAT:
            raise BadInputError(f"{field!r} is not a numeric field of {m.name}")
        width = int(every_s) * 1_000_000_000
        shift = (int(offset_s) % int(every_s)) * 1_000_000_000
        f = _q(field)
        good = " AND qc IS NOT NULL AND (qc & ?) = 0" if exclude_qc else ""
        rows = self._select(
            f"SELECT ((ts - ?) / ?) * ? + ? AS bucket, MIN({f}), AVG({f}), MAX({f}), COUNT({f}) "
            f"FROM {_q(m.name)} WHERE device = ? AND ts >= ? AND ts < ? AND {f} IS NOT NULL"
            f"{good} GROUP BY bucket ORDER BY bucket",
            (shift, width, width, shift, device, start_ns, end_ns)
            + ((int(exclude_qc),) if exclude_qc else ()),
        )
        return [
            Aggregate(int(r[0]), float(r[1]), float(r[2]), float(r[3]), int(r[4])) for r in rows
        ]

    def recent(self, kind: TopicKind, since_ns: int, fields: Sequence[str]) -> dict[str, Series]:
        m = measurement_for(kind)
        wanted = [f for f in dict.fromkeys([*fields, "qc"]) if f in m.fields]
        cols = ", ".join(_q(f) for f in wanted)
        rows = self._select(
            f"SELECT device, ts, {cols} FROM {_q(m.name)} WHERE ts >= ? ORDER BY device, ts",
            (since_ns,),
        )
        out: dict[str, Series] = {}
        for row in rows:
            series = out.get(row[0])
            if series is None:
                series = out[row[0]] = Series(row[0], [], {f: [] for f in wanted})
            series.ts_ns.append(row[1])
            for i, f in enumerate(wanted, start=2):
                series.values[f].append(None if row[i] is None else _from_sql(m.fields[f], row[i]))
        return out

    def count(
        self,
        kind: TopicKind,
        start_ns: int | None = None,
        end_ns: int | None = None,
        device: str | None = None,
    ) -> int:
        m = measurement_for(kind)
        clauses, params = ["1"], []
        for clause, value in (("ts >= ?", start_ns), ("ts < ?", end_ns), ("device = ?", device)):
            if value is not None:
                clauses.append(clause)
                params.append(value)
        rows = self._select(
            f"SELECT COUNT(*) FROM {_q(m.name)} WHERE {' AND '.join(clauses)}", params
        )
        return int(rows[0][0])

    def counts_by_device(self, kind: TopicKind) -> dict[str, int]:
        m = measurement_for(kind)
        rows = self._select(f"SELECT device, COUNT(*) FROM {_q(m.name)} GROUP BY device", ())
        return {row[0]: int(row[1]) for row in rows}

    def ping(self) -> bool:
        try:
            self._select("SELECT 1", ())
        except RetryableError:
            return False
        return True

    def close(self) -> None:
        with self._lock:
            self._db.close()
