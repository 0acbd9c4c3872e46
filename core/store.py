"""The reading store port: what ingest, alerts, analytics and the API need from a time-series store.
It sits in the kernel because every one of those folders uses it; the adapters (InfluxDB, SQLite)
are in storage/.

Both adapters (InfluxDB over HTTP, SQLite) honour the same semantics, checked by one contract test
suite: a reading's identity is (measurement, device, measurement time); writing it again overwrites
the same point (field by field) and never adds a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One ``every``-wide bucket; ``start_ns`` is aligned to the epoch."""

    start_ns: int
    min: float
    mean: float
    max: float
    count: int


class ReadingWriter(Protocol):
    def write(self, readings: Sequence[Reading]) -> None:
        """Durably store a batch, idempotently. Raises RetryableError or FatalError."""
        ...


class ReadingStore(ReadingWriter, Protocol):
    def latest(self, kind: TopicKind, devices: Sequence[str] | None = None) -> dict[str, Reading]:
        """The newest reading of each device (of ``devices``, or all)."""
        ...

    def query(
        self, kind: TopicKind, device: str, start_ns: int, end_ns: int, limit: int = 10_000
    ) -> list[Reading]:
        """A device's readings with ``start_ns <= ts < end_ns``, oldest first, at most ``limit``."""
        ...

    def aggregate(
        self, kind: TopicKind, device: str, field: str, start_ns: int, end_ns: int, every_s: int
    ) -> list[Aggregate]:
        """min/mean/max/count of a float field per ``every_s`` bucket; empty buckets omitted."""
        ...

    def recent(self, kind: TopicKind, since_ns: int, fields: Sequence[str]) -> dict[str, Series]:
        """Every device's values of ``fields`` (and ``qc``) since ``since_ns``, oldest first."""
        ...

    def count(
        self,
        kind: TopicKind,
        start_ns: int | None = None,
        end_ns: int | None = None,
        device: str | None = None,
    ) -> int:
        """How many readings are stored (in the range, for the device)."""
        ...

    def counts_by_device(self, kind: TopicKind) -> dict[str, int]:
        """Stored readings per device."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None: ...
