"""One decision per reading across the members of ``saltwatch ingest --workers N``.

Each device is handled by one member (ingest/partition.py), but not always the same one: after
the fleet is resized two members read a device for a while, and a member that went away may
still hold, in its spool, a value the other has not seen. Each member remembers only what it
saw itself (ingest/conflicts.py), so neither could tell. The members therefore decide in one
place: a small SQLite file beside their spools
(``<ingest.spool_path>/claims.db``) in which each reading's first value *claims* its (measurement,
device, time). Before a member makes a batch durable it claims the batch's readings in one
transaction: an unclaimed time is claimed and the reading goes on, a time claimed with the same
values is a copy and goes on, a time claimed with other values is a conflict and is refused.

What the file cannot know is what was stored before it kept count: at every start the
supervisor notes each device's newest stored time as its *floor* (from the store; when the store
is away, one floor for all: its start plus ``ingest.max_future``, since no member had yet
written a reading above it). Claims are kept ``KEEP_S`` after they were made; a device's claims
let go raise its floor to the newest time among them. A reading at or below its device's floor
is claimed too but is also *unverified*: the writer asks the store for its time
(ingest/conflicts.py ``without_stored_conflicts``) before writing, as one process does. Above
the floor, every time a member accepted is still claimed, so the claims decide alone.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from saltwatch.core.errors import RetryableError
from saltwatch.core.schema import FieldValue
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import READING_KINDS
from saltwatch.core.types import Reading
from saltwatch.ingest.conflicts import shared_digest
from saltwatch.ingest.partition import RESIZE_GRACE_S, Partition

CLAIMS_FILE = "claims.db"  # in ``ingest.spool_path``, beside the members' spools
log = logging.getLogger("saltwatch.ingest")
KEEP_S = 2 * 86_400  # how long a claim is kept after it was made
PRUNE_EVERY_S = 600.0
_IN_CHUNK = 500

_SCHEMA = """
CREATE TABLE IF NOT EXISTS claims (
    kind TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL, digest INTEGER NOT NULL,
    claimed_at INTEGER NOT NULL, PRIMARY KEY (kind, device, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS floors (
    kind TEXT NOT NULL, device TEXT NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (kind, device)
) WITHOUT ROWID;
"""


class SharedClaims:
    """The members' claims file (one connection per process; use from ingest's writer)."""

    def __init__(self, path: Path, wall_ns: Callable[[], int] = time.time_ns) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._now = wall_ns
        self._db = sqlite3.connect(path, timeout=60, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._pruned_at = 0.0

    def begin_fleet(self, history: ReadingStore | None, max_future_s: float) -> None:
        """At the supervisor's start, before any member runs: each device's newest stored time
        is its floor; without the store, nothing stored so far lies above one floor for all
        (readings reach at most ``max_future_s`` ahead of their arrival)."""
        newest: list[tuple[str, str, int]] = []
        floor = self._now() + int(max_future_s * NS_PER_S)
        if history is not None:
            try:
                for kind in READING_KINDS:
                    latest = history.latest(kind).values()
                    newest.extend((kind.value, r.device, r.ts_ns) for r in latest)
                floor = 0
            except RetryableError as exc:
                log.warning("claims: the store is away, one floor for every device (%s)", exc)
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM floors")
            db.executemany("INSERT INTO floors VALUES (?, ?, ?)", newest)
            db.execute(
                "INSERT INTO meta VALUES ('floor', ?) ON CONFLICT (key) DO UPDATE "
                "SET value = excluded.value",
                (floor,),
            )
            db.execute("COMMIT")
        self.prune()

    def resize(self, members: int) -> int:
        """Note the fleet's size (1: one process) at its start; returns the size before. A
        change opens a grace of ``RESIZE_GRACE_S`` (ingest/partition.py)."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT value FROM meta WHERE key = 'members'").fetchone()
            before = int(row[0]) if row else 1
            if before != members:
                until = self._now() + int(RESIZE_GRACE_S * NS_PER_S)
                db.executemany(
                    "INSERT INTO meta VALUES (?, ?) ON CONFLICT (key) DO UPDATE "
                    "SET value = excluded.value",
                    [("members", members), ("resized_from", before), ("resize_until", until)],
                )
            db.execute("COMMIT")
        return before

    def partition(self, member: int) -> Partition:
        """Which devices ``member`` handles, as the supervisor last sized the fleet."""
        with self._lock:
            meta = dict(self._db.execute("SELECT key, value FROM meta").fetchall())
        members = int(meta.get("members", 1))
        if member >= members:
            raise ValueError(f"member {member} of a fleet of {members}")
        left_s = (int(meta.get("resize_until", 0)) - self._now()) / NS_PER_S
        if left_s <= 0:
            return Partition(member, members)
        before = int(meta.get("resized_from", 0))
        return Partition(member, members, before, time.monotonic() + left_s)

    def floors(self) -> tuple[int, dict[tuple[str, str], int]]:
        """The floor for all devices, and each device's own."""
        with self._lock:
            rows = self._db.execute("SELECT kind, device, ts FROM floors").fetchall()
            return self._floor_for_all(), {(k, d): int(ts) for k, d, ts in rows}

    def _floor_for_all(self) -> int:
        row = self._db.execute("SELECT value FROM meta WHERE key = 'floor'").fetchone()
        return int(row[0]) if row else 0

    def decide(self, readings: list[Reading]) -> tuple[list[Reading], list[Reading], list[Reading]]:
        """Claim ``readings`` in one transaction: (accepted, refused, unverified); the
        unverified are accepted too, for the writer to check against the store."""
        now = self._now()
        by_device: dict[tuple[str, str], list[tuple[Reading, int]]] = {}
        for reading in readings:  # the values' digests before taking the file's lock
            key = (reading.kind.value, reading.device)
            by_device.setdefault(key, []).append((reading, shared_digest(reading.fields)))
        refused: set[int] = set()  # ids of the refused readings
        unverified: list[Reading] = []
        new: list[tuple[str, str, int, int, int]] = []
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                floor = self._floor_for_all()
                floors = self._device_floors(list(by_device))
                for (kind, device), mine in by_device.items():
                    claimed = self._claimed(kind, device, [r.ts_ns for r, _ in mine])
                    below = max(floor, floors.get((kind, device), 0))
                    for reading, value in mine:
                        held = claimed.get(reading.ts_ns)
                        if held is None:
                            claimed[reading.ts_ns] = value
                            new.append((kind, device, reading.ts_ns, value, now))
                            if reading.ts_ns <= below:
                                unverified.append(reading)
                        elif held != value:
                            refused.add(id(reading))
                db.executemany("INSERT INTO claims VALUES (?, ?, ?, ?, ?)", new)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        if time.monotonic() - self._pruned_at > PRUNE_EVERY_S:
            self.prune()
        if not refused:
            return readings, [], unverified
        accepted = [r for r in readings if id(r) not in refused]
        return accepted, [r for r in readings if id(r) in refused], unverified

    def _device_floors(self, devices: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for i in range(0, len(devices), _IN_CHUNK):
            chunk = devices[i : i + _IN_CHUNK]
            rows = self._db.execute(
                "SELECT kind, device, ts FROM floors WHERE (kind, device) IN "  # noqa: S608 - only ? placeholders
                f"(VALUES {', '.join(['(?, ?)'] * len(chunk))})",
                [part for pair in chunk for part in pair],
            )
            out.update(((kind, device), ts) for kind, device, ts in rows)
        return out

    def _claimed(self, kind: str, device: str, times: list[int]) -> dict[int, int]:
        out: dict[int, int] = {}
        wanted = sorted(set(times))
        for i in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[i : i + _IN_CHUNK]
            rows = self._db.execute(
                f"SELECT ts, digest FROM claims WHERE kind = ? AND device = ? "  # noqa: S608 - only ? placeholders
                f"AND ts IN ({', '.join('?' * len(chunk))})",
                (kind, device, *chunk),
            )
            out.update(rows.fetchall())
        return out

    def settle(self, reading: Reading, stored: Mapping[str, FieldValue]) -> None:
        """The store already held ``stored`` at ``reading``'s time: that value is the claim."""
        with self._lock:
            self._db.execute(
                "UPDATE claims SET digest = ? WHERE kind = ? AND device = ? AND ts = ?",
                (shared_digest(stored), reading.kind.value, reading.device, reading.ts_ns),
            )

    def prune(self) -> None:
        """Let go of the claims made more than ``KEEP_S`` ago; each device's floor rises to the
        newest time among its claims let go."""
        cutoff = self._now() - KEEP_S * NS_PER_S
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute(
                    "INSERT INTO floors SELECT kind, device, MAX(ts) FROM claims "
                    "WHERE claimed_at < ? GROUP BY kind, device "
                    "ON CONFLICT (kind, device) DO UPDATE SET ts = MAX(ts, excluded.ts)",
                    (cutoff,),
                )
                db.execute("DELETE FROM claims WHERE claimed_at < ?", (cutoff,))
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
        self._pruned_at = time.monotonic()

    def close(self) -> None:
        with self._lock:
            self._db.close()
