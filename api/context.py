"""What the API reads from: one object built by the composition root and kept on ``app.state``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request
from prometheus_client import CollectorRegistry

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.store import AlertStore
from saltwatch.analytics.forecast_job import ForecastJob
from saltwatch.analytics.issued import IssuedBulletins
from saltwatch.analytics.outlook_job import OutlookJob
from saltwatch.analytics.saltfront import FrontKeeper
from saltwatch.analytics.schedules import ScheduleBook
from saltwatch.api.audit import AuditLog
from saltwatch.api.cache import TtlCache
from saltwatch.api.signin import SignIns
from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.registry import Registry
from saltwatch.core.settings import Settings
from saltwatch.core.store import ReadingStore
from saltwatch.ingest.devices import DeviceSnapshot
from saltwatch.ingest.intake import RecentRejection
from saltwatch.ingest.poller import SourceStatus


class IngestView(Protocol):
    """What the API reads of ingest running in the same process (``IngestService`` is one)."""

    def recent_rejections(self) -> list[RecentRejection]: ...

    def devices(self) -> list[DeviceSnapshot]: ...

    def quarantined(self) -> list[str]: ...

    def broker_connected(self) -> bool | None: ...

    def spool_disk_full(self) -> bool: ...

    def sources(self) -> list[SourceStatus]: ...


class NoIngest:
    """The API-only process: ingest runs elsewhere, so none of this is known here."""

    def recent_rejections(self) -> list[RecentRejection]:
        return []

    def devices(self) -> list[DeviceSnapshot]:
        return []

    def quarantined(self) -> list[str]:
        return []

    def broker_connected(self) -> bool | None:
        return None

    def spool_disk_full(self) -> bool:
        return False

    def sources(self) -> list[SourceStatus]:
        return []


@dataclass
class ApiContext:
    settings: Settings
    registry: Registry
    store: ReadingStore
    state: AlertStore
    audit: AuditLog  # who did what through the API
    engine: AlertEngine | None = None  # acknowledgements go through it when it runs here
    ingest: IngestView = field(default_factory=NoIngest)  # rejections, device liveness
    clock: Clock = field(default_factory=SystemClock)
    metrics: list[CollectorRegistry] = field(default_factory=list)
    front: FrontKeeper | None = None  # the salt front as the alert engine keeps it
    forecasts: ForecastJob | None = None  # the stations' forecasts as the alert engine made them
    #: the stations' week ahead as the alert engine made it (None: the API makes its own)
    outlooks: OutlookJob | None = None
    #: the bulletins as issued (analytics/issued.py); None: not kept, each built when asked
    issued: IssuedBulletins | None = None
    #: one-time sign-in codes and the sessions they open (api/signin.py); None: tokens only
    signins: SignIns | None = None
    #: planned openings of the structures (analytics/schedules.py); None: not kept here
    schedules: ScheduleBook | None = None
    #: answers shared by the clients polling within a couple of seconds of each other
    cache: TtlCache = field(default_factory=lambda: TtlCache(ttl_s=2.0))


def ctx_of(request: Request) -> ApiContext:
    """The context the composition root put on the app."""
    ctx: ApiContext = request.app.state.ctx
    return ctx
