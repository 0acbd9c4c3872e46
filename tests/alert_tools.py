"""Helpers for alert tests: a notifier that records, one that drops."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from saltwatch.alerts.store import AlertStore
from saltwatch.core.rules import RuleSet, bundled_rules_path, load_rules
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


def rivers_alerting() -> RuleSet:
    """The bundled rules with the river stations alerting too. The bundled rules make them watch
    stations (no salinity alert of their own); tests of the engine's mechanics use Vàm Kênh and
    its 1 / 4 ‰ river levels as a station that alerts."""
    rules = load_rules()
    salinity = {p: lv.model_copy(update={"alerts": True}) for p, lv in rules.salinity.items()}
    return rules.model_copy(update={"salinity": salinity})


def rivers_alerting_file(folder: Path) -> Path:
    """``rivers_alerting`` as a rules file, for a ``saltwatch`` process under test
    (``SALTWATCH_ALERTS__RULES_PATH``)."""
    text = bundled_rules_path().read_text(encoding="utf-8")
    assert text.count("\nalerts = false") == 1
    path = folder / "rules-rivers-alerting.toml"
    path.write_text(text.replace("\nalerts = false", "\nalerts = true"), encoding="utf-8")
    return path
