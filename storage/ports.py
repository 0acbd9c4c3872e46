"""The ReadingStore port: what ingest, alerts and the API need from a time-series store.

Both adapters (InfluxDB over HTTP, SQLite) honour the same semantics, checked by one contract test
suite: a reading's identity is (measurement, device, measurement time); writing it again overwrites
the same point (field by field) and never adds a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series

if TYPE_CHECKING:
    from saltwatch.alerts.model import Alert, Delivery, Event, Silence


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


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertQuery:
    """Which alerts: ``zones`` (None: all), state, severity, kind, and episodes overlapping
    ``[since_ns, until_ns)``; a page of ``limit`` from ``offset``."""

    zones: frozenset[str] | None = None
    state: str | None = None
    severity: str | None = None
    kind: str | None = None
    since_ns: int | None = None
    until_ns: int | None = None
    offset: int = 0
    limit: int = 100


class AlertStore(Protocol):
    """Alert state: episodes, the outbox written in the same transaction, silences, and the
    rules an admin saved. One adapter (SQLite, storage/alert_sqlite.py), one contract suite."""

    def open_alerts(self) -> dict[str, Alert]: ...
    def get(self, alert_id: str) -> Alert | None: ...
    def query(self, q: AlertQuery) -> tuple[list[Alert], int]: ...
    def save(
        self, changes: list[tuple[Alert | None, Alert | None]], deliveries: list[Delivery]
    ) -> None: ...
    def unsent(self, channel: str, limit: int = 500) -> list[tuple[int, Event]]: ...
    def mark_sent(self, seq: int, now_ns: int, error: str | None = None) -> None: ...
    def record_attempt(self, seq: int, attempts: int, next_at_ns: int, error: str) -> None: ...
    def pending_attempt(self, channel: str) -> tuple[int, int | None]: ...
    def channels_told(self, alert_id: str) -> set[str]: ...
    def add_silence(self, silence: Silence) -> None: ...
    def silences(
        self, active_at_ns: int | None = None, ending_after_ns: int | None = None
    ) -> list[Silence]: ...
    def expire_silence(self, silence_id: str, now_ns: int) -> bool: ...
    def save_rules(self, rules: dict[str, object]) -> None: ...
    def saved_rules(self) -> dict[str, object] | None: ...
    def close(self) -> None: ...
