"""The polled sources as ``saltwatch ingest`` last saw them, for the alerts process beside it
and ``saltwatch api`` (docs/sources.md §5): per vendor cloud, the newest time landed, since when
it has been polled, how long it may stay quiet, and whether its last poll failed. The alerts
process raises ``source-stale`` from them and the API's ``/health`` lists them, the lag counted
at the time each asks, so a source whose ingest stopped too goes stale.

In the alert state's file, which the processes of a split layout share.
"""

from __future__ import annotations

from collections.abc import Iterable

from saltwatch.core.timeutil import NS_PER_S
from saltwatch.ingest.poller import Polled, SourceStatus
from saltwatch.storage.sqlite import OpenedAtFirstUse


class SqlitePolledSources(OpenedAtFirstUse):
    # ``polled`` (no ``failing``) was this table's first shape: its rows are rewritten at
    # ingest's next poll, so it is dropped rather than altered
    SCHEMA = """
        DROP TABLE IF EXISTS polled;
        CREATE TABLE IF NOT EXISTS polled_sources (
            name TEXT PRIMARY KEY, newest INTEGER, since INTEGER NOT NULL,
            stale_after REAL NOT NULL, failing INTEGER NOT NULL) WITHOUT ROWID;
        """

    def replace(self, sources: Iterable[Polled]) -> None:
        """The sources polled now; sources no longer polled are forgotten."""
        rows = [(*source[:4], int(source[4])) for source in sources]
        with self._locked() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                db.execute("DELETE FROM polled_sources")
                db.executemany("INSERT INTO polled_sources VALUES (?, ?, ?, ?, ?)", rows)
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise

    def states(self, now_ns: int) -> list[SourceStatus]:
        """Every source polled, by name, its lag counted at ``now_ns``: a source whose ingest
        stopped writing goes stale as time passes."""
        return [status for status, _ in self._counted(now_ns)]

    def stale_hours(self, now_ns: int) -> dict[str, float]:
        """Each source quiet for longer than its ``stale_after`` → hours since its newest reading
        (since polling began, while none came)."""
        return {s.name: round(quiet / 3600, 1) for s, quiet in self._counted(now_ns) if s.stale}

    def _counted(self, now_ns: int) -> list[tuple[SourceStatus, float]]:
        """Each source's status and seconds quiet (since its newest reading, else since polling
        began)."""
        with self._locked() as db:
            rows = db.execute(
                "SELECT name, newest, since, stale_after, failing FROM polled_sources ORDER BY name"
            ).fetchall()
        out = []
        for name, newest, since, stale_after, failing in rows:
            lag = (now_ns - newest) / NS_PER_S if newest is not None else None
            quiet = lag if lag is not None else (now_ns - since) / NS_PER_S
            out.append((SourceStatus(name, lag, quiet > stale_after, bool(failing)), quiet))
        return out
