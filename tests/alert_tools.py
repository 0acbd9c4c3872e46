"""Helpers for alert tests: a notifier that records, one that drops."""

from __future__ import annotations

from typing import Any

from saltwatch.alerts.store import AlertStore
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.audit_sqlite import SqliteAuditLog


class Quiet:
    """A notifier on the MQTT channel that delivers nowhere."""

    channel = "mqtt"

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        pass


def sqlite_of(state: AlertStore) -> SqliteAlertStore:
    """The SQLite adapter behind an engine's port, for what a test reads of the file itself."""
    assert isinstance(state, SqliteAlertStore)
    return state


def audit_beside(state: AlertStore) -> SqliteAuditLog:
    """The audit log in the alert state's file, as the composition roots open it."""
    return SqliteAuditLog(sqlite_of(state).path)
