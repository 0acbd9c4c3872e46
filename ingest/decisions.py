"""Whether each reading of a batch exists: the one place ingest decides it, in the writer, just
before the batch becomes durable (docs/operations.md, guarantees).

Three steps, each narrower than the last: the worker's memory of recent times refused what it
could at once (ingest/conflicts.py ``Conflicts``, one process alone); the members of ``ingest
--workers N`` claim every reading in their shared file (ingest/claims.py); what neither can vouch
for (older than both remember) is looked up in the store at exactly its times. A refused reading
is recorded with reason ``conflict``; the rest go on to be stored.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

import orjson

from saltwatch.core.clock import Clock
from saltwatch.core.errors import RetryableError
from saltwatch.core.store import ReadingStore
from saltwatch.core.types import Reading
from saltwatch.ingest.claims import SharedClaims
from saltwatch.ingest.conflicts import without_stored_conflicts
from saltwatch.ingest.intake import Intake

log = logging.getLogger("saltwatch.ingest")


class AbandonedError(Exception):
    """A batch given up at shutdown before it was durable; its messages stay unacknowledged."""


class Decisions:
    def __init__(
        self,
        intake: Intake,
        clock: Clock,
        stopping: threading.Event,
        lookup: ReadingStore | None,
        claims: SharedClaims | None,
    ) -> None:
        self._intake = intake
        self._clock = clock
        self._stopping = stopping
        self._lookup = lookup  # where readings older than what is remembered are checked
        self._claims = claims  # the members' shared claims (ingest --workers N)

    def decide(
        self, readings: list[Reading], unverified: list[Reading], store_up: bool
    ) -> list[Reading]:
        """``readings`` less those refused; ``unverified`` (from the worker's memory) are
        checked against the store unless it is away (``store_up`` False: spooled as they are).
        Raises AbandonedError when stopping while the claims file cannot be written."""
        if self._claims is not None:
            readings, unverified = self._claimed(self._claims, readings)
        if unverified and store_up and self._lookup is not None:
            settler = self._claims if self._claims is not None else self._intake.conflicts
            try:
                return without_stored_conflicts(
                    readings, unverified, self._lookup, self._refuse, settler
                )
            except RetryableError as exc:
                log.warning("old readings not checked for conflicts, the store is away: %s", exc)
        return readings

    def _refuse(self, reading: Reading, field: str = "") -> None:
        topic = f"{self._intake.topic_prefix}/{reading.kind.value}/{reading.device}"
        body = orjson.dumps(reading.fields)
        self._intake.reject_conflict(reading, topic, body, self._clock.now_ns(), field)

    def _claimed(
        self, claims: SharedClaims, readings: list[Reading]
    ) -> tuple[list[Reading], list[Reading]]:
        """``readings`` less those another value claimed first, and those to check against the
        store; waits while the claims file cannot be written."""
        while True:
            try:
                accepted, refused, unverified = claims.decide(readings)
                break
            except sqlite3.Error as exc:
                log.warning("the members' claims cannot be written now (%s): waiting", exc)
                if self._stopping.wait(1.0):
                    raise AbandonedError from exc
        for reading in refused:
            self._refuse(reading)
        return accepted, unverified
