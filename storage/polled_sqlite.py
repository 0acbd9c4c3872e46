"""The polled sources as ``saltwatch ingest`` last saw them, for the alerts process beside it
(docs/sources.md §5): per vendor cloud, the newest time landed, since when it has been polled,
and how long it may stay quiet. The alerts process raises ``source-stale`` from them, the lag
counted at the time it asks, so a source whose ingest stopped too goes stale.

In the alert state's file, which the processes of a split layout share.
"""

from __future__ import annotations

from collections.abc import Iterable

from saltwatch.core.timeutil import NS_PER_S
from saltwatch.storage.sqlite import OpenedAtFirstUse


class SqlitePolledSources(OpenedAtFirstUse):
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS polled (
            name TEXT PRIMARY KEY, newest INTEGER, since INTEGER NOT NULL,
            stale_after REAL NOT NULL) WITHOUT ROWID;
        """

    def replace(self, sources: Iterable[tuple[str, int | None, int, float]]) -> None:
        """The sources polled now: (name, newest time landed or None, polled since, stale after
        seconds); sources no longer polled are forgotten."""
        rows = list(sources)
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM polled")
                db.executemany("INSERT INTO polled VALUES (?, ?, ?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def stale_hours(self, now_ns: int) -> dict[str, float]:
        """Each source quiet for longer than its ``stale_after`` → hours since its newest reading
        (since polling began, while none came)."""
        with self._locked() as db:
            rows = db.execute("SELECT name, newest, since, stale_after FROM polled").fetchall()
        out: dict[str, float] = {}
        for name, newest, since, stale_after in rows:
            quiet_s = (now_ns - (newest if newest is not None else since)) / NS_PER_S
            if quiet_s > stale_after:
                out[name] = round(quiet_s / 3600, 1)
        return out
