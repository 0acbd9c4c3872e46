"""The audit log port: who did what through the API (acknowledging, silences, rule changes),
``GET /api/v1/audit``. The adapter is storage/audit_sqlite.py, in the alert state's file."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at_ns: int
    actor: str  # the token's name
    role: str
    action: str  # ack, silence.create, silence.delete, rules.update
    target: str  # an alert id, a silence id, "rules"
    detail: str


class AuditLog(Protocol):
    def record(self, entry: AuditEntry) -> None:
        """Keep one entry, durably."""
        ...

    def query(
        self,
        since_ns: int | None = None,
        until_ns: int | None = None,
        actor: str | None = None,
        offset: int = 0,
        limit: int = 100,
    ) -> tuple[list[AuditEntry], int]:
        """A page of the entries that match, newest first, and how many match in all."""
        ...

    def close(self) -> None: ...
