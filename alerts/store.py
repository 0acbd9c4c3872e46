"""The alert store port: what the alert pipeline, the bulletin and the API need from the place
where alert state is kept. One adapter (SQLite, storage/alert_sqlite.py), one contract suite; it
raises only core.errors (RetryableError when waiting may mend it, FatalError when not)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from saltwatch.alerts.model import Alert, Delivery, Event, Fingerprint, Silence


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
    rules an admin saved."""

    def open_alerts(self) -> dict[Fingerprint, Alert]: ...
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
