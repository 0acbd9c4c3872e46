"""Sign-in codes and sessions (api/signin.py) in the alert state's SQLite file, kept as digests
of their secrets; a code is used up in the statement that reads it."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from saltwatch.api.auth import Principal
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_rfc3339
from saltwatch.storage.sqlite import OpenedAtFirstUse


class SqliteSignIns(OpenedAtFirstUse):
    SCHEMA = """
        CREATE TABLE IF NOT EXISTS signins (
            digest TEXT PRIMARY KEY, kind TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
            expires INTEGER NOT NULL) WITHOUT ROWID;
        """

    def __init__(self, path: Path | str, wall_ns: Callable[[], int] = time.time_ns) -> None:
        super().__init__(path)
        self._now = wall_ns

    def add(self, kind: str, digest: str, who: Principal, ttl_s: float) -> str:
        now = self._now()
        expires = now + int(ttl_s * NS_PER_S)
        with self._locked() as db:
            db.execute("DELETE FROM signins WHERE expires < ?", (now,))  # the ended, let go
            db.execute(
                "INSERT INTO signins VALUES (?, ?, ?, ?, ?)",
                (digest, kind, who.name, who.role, expires),
            )
        return to_rfc3339(expires, VN_TZ)

    def take(self, digest: str) -> Principal | None:
        return self._holder("DELETE FROM signins", "code", digest, " RETURNING name, role")

    def session(self, digest: str) -> Principal | None:
        return self._holder("SELECT name, role FROM signins", "session", digest)

    def _holder(self, verb: str, kind: str, digest: str, tail: str = "") -> Principal | None:
        """Whose unexpired code or session ``digest`` is (``verb``: read it, or use it up)."""
        where = " WHERE digest = ? AND kind = ? AND expires > ?"
        with self._locked() as db:
            row = db.execute(verb + where + tail, (digest, kind, self._now())).fetchone()
        return Principal(row[0], row[1]) if row else None

    def end(self, digest: str) -> None:
        with self._locked() as db:
            db.execute("DELETE FROM signins WHERE digest = ? AND kind = 'session'", (digest,))
