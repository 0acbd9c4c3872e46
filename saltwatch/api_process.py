"""The API process assembled, for ``saltwatch api --workers N``: each worker process builds its own
clients from the settings (environment, and ``SALTWATCH_CONFIG_FILE`` for a TOML file)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import FastAPI

from saltwatch.api.app import create_app
from saltwatch.api.context import ApiContext
from saltwatch.api.views import AlertsElsewhere, NoIngest, StoredAnalytics
from saltwatch.core.clock import SystemClock
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import load_settings
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.audit_sqlite import SqliteAuditLog
from saltwatch.storage.bulletin_sqlite import SqliteIssuedBulletins
from saltwatch.storage.factory import open_reading_store
from saltwatch.storage.schedule_sqlite import SqliteSchedules
from saltwatch.storage.signin_sqlite import SqliteSignIns
from saltwatch.wiring import PolledElsewhere, landed_for_alerts

CONFIG_ENV = "SALTWATCH_CONFIG_FILE"


def app_from_environment() -> FastAPI:
    config = os.environ.get(CONFIG_ENV)
    settings = load_settings(Path(config) if config else None)
    registry = load_registry(settings.registry.path)
    state_path = settings.state.path
    store = open_reading_store(settings.store)
    state = SqliteAlertStore(state_path)
    clock = SystemClock()
    # saltwatch alerts or serve judges what is entered here
    alerts = AlertsElsewhere(state, settings.alerts.rules_path, landed_for_alerts(settings, clock))
    context = ApiContext(
        settings,
        registry,
        store,
        state,
        SqliteAuditLog(state_path),
        alerts,
        StoredAnalytics(store, registry, alerts.rules, clock),
        clock=clock,
        issued=SqliteIssuedBulletins(state_path),
        signins=SqliteSignIns(state_path),
        schedules=SqliteSchedules(state_path),
        ingest=NoIngest(PolledElsewhere(settings, clock).states),  # the vendor clouds ingest polls
    )
    return create_app(context)
