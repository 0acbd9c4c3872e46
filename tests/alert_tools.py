"""Helpers for alert tests: a notifier that records, one that drops."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.store import AlertStore
from saltwatch.analytics.forecast import StationForecast
from saltwatch.analytics.issued import IssuedBulletins
from saltwatch.analytics.outlook_job import OutlookJob
from saltwatch.analytics.outlook_kept import StationOutlook
from saltwatch.analytics.saltfront import FrontDay, FrontKeeper, RiverRisk
from saltwatch.analytics.schedules import ScheduleBook
from saltwatch.api.audit import AuditLog
from saltwatch.api.context import ApiContext
from saltwatch.api.signin import SignIns
from saltwatch.api.views import AlertsElsewhere, AnalyticsView, EngineAlerts, StoredAnalytics
from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet, bundled_rules_path, load_rules
from saltwatch.core.settings import Settings
from saltwatch.core.store import ReadingStore
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.audit_sqlite import SqliteAuditLog
from saltwatch.storage.bulletin_sqlite import SqliteIssuedBulletins
from saltwatch.storage.landed_sqlite import SqliteLandedLog
from saltwatch.storage.schedule_sqlite import SqliteSchedules
from saltwatch.storage.signin_sqlite import SqliteSignIns


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


def api_context(
    settings: Settings,
    registry: Registry,
    store: ReadingStore,
    state: AlertStore,
    engine: AlertEngine | None = None,
    *,
    audit: AuditLog | None = None,
    analytics: AnalyticsView | None = None,
    clock: Clock | None = None,
    issued: IssuedBulletins | None = None,
    signins: SignIns | None = None,
    schedules: ScheduleBook | None = None,
    **rest: Any,
) -> ApiContext:
    """The API's context as the composition roots give it: with ``engine`` running here as in
    serve, without one as in ``saltwatch api``; no analytics job keeps anything unless
    ``analytics`` is given; issued bulletins, sign-ins and planned openings kept in the alert
    state's file unless given."""
    clock = clock if clock is not None else SystemClock()
    beside = sqlite_of(state).path
    landed = SqliteLandedLog(beside)  # as saltwatch/api_process.py gives it
    alerts = (
        EngineAlerts(engine)
        if engine is not None
        else AlertsElsewhere(
            state, settings.alerts.rules_path, lambda rs: landed.add(list(rs), clock.now_ns())
        )
    )
    if analytics is None:
        analytics = StoredAnalytics(store, registry, alerts.rules, clock)
    return ApiContext(
        settings, registry, store, state, audit if audit is not None else audit_beside(state),
        alerts, analytics,
        issued if issued is not None else SqliteIssuedBulletins(beside),
        signins if signins is not None else SqliteSignIns(beside),
        schedules if schedules is not None else SqliteSchedules(beside),
        clock=clock, **rest,
    )  # fmt: skip


@dataclass
class Kept:
    """The analytics view over what a test's own jobs keep (serve gives its running jobs)."""

    front: FrontKeeper | None = None
    outlook: OutlookJob | None = None

    def fronts(self) -> Mapping[str, FrontDay]:
        return self.front.latest() if self.front else {}

    def risks(self) -> Mapping[str, RiverRisk]:
        return self.front.risks if self.front else {}

    def forecasts(self) -> Mapping[str, StationForecast]:
        return {}

    def outlooks(self) -> Mapping[str, StationOutlook]:
        return self.outlook.latest if self.outlook else {}


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
