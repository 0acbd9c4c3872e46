"""What the API reads from: one object built by the composition root and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request
from prometheus_client import CollectorRegistry

from saltwatch.alerts.store import AlertStore
from saltwatch.analytics.issued import IssuedBulletins
from saltwatch.analytics.schedules import ScheduleBook
from saltwatch.api.audit import AuditLog
from saltwatch.api.cache import TtlCache
from saltwatch.api.signin import SignIns
from saltwatch.api.views import AlertsView, AnalyticsView, IngestView, NoIngest
from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.registry import Registry
from saltwatch.core.settings import Settings
from saltwatch.core.store import ReadingStore


@dataclass
class ApiContext:
    settings: Settings
    registry: Registry
    store: ReadingStore
    state: AlertStore
    audit: AuditLog  # who did what through the API
    alerts: AlertsView  # the alert engine: here (serve) or elsewhere (api/views.py)
    analytics: AnalyticsView  # what the engine's analytics jobs keep (api/views.py)
    #: the bulletins as issued, each kept at its own link (analytics/issued.py)
    issued: IssuedBulletins
    #: one-time sign-in codes and the sessions they open (api/signin.py)
    signins: SignIns
    #: planned openings of the structures (analytics/schedules.py)
    schedules: ScheduleBook
    ingest: IngestView = field(default_factory=NoIngest)  # rejections, device liveness
    clock: Clock = field(default_factory=SystemClock)
    metrics: list[CollectorRegistry] = field(default_factory=list)
    #: answers shared by the clients polling within a couple of seconds of each other
    cache: TtlCache = field(default_factory=lambda: TtlCache(ttl_s=2.0))


def ctx_of(request: Request) -> ApiContext:
    """The context the composition root put on the app."""
    ctx: ApiContext = request.app.state.ctx
    return ctx
