"""What a route may ask for, typed: declare a parameter ``engine: Engine`` and get the alert
engine (or a 409 where this process does not run it), ``ingest: Ingest`` for ingest's view of the
devices (empty in the API-only process), ``rules: Rules`` for the rules in force (read when
called), ``audit: Audit`` for the log of who did what. The routes
never test a bag of optional services themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request

from saltwatch.alerts.engine import AlertEngine
from saltwatch.api.audit import AuditEntry, AuditLog
from saltwatch.api.auth import Principal
from saltwatch.api.context import ApiContext, ctx_of
from saltwatch.core.rules import RuleSet, rules_in_force
from saltwatch.ingest.devices import DeviceSnapshot
from saltwatch.ingest.intake import RecentRejection
from saltwatch.ingest.pipeline import Pipeline

Context = Annotated[ApiContext, Depends(ctx_of)]


def _engine(request: Request) -> AlertEngine:
    engine = ctx_of(request).engine
    if engine is None:
        raise HTTPException(409, "the alert engine does not run in this process")
    return engine


Engine = Annotated[AlertEngine, Depends(_engine)]


def _rules(request: Request) -> Callable[[], RuleSet]:
    """The rules in force, read when called: the engine's; without an engine here (``saltwatch
    api``), as the alerts process applies them (saved by an admin, or the configured file)."""
    ctx = ctx_of(request)
    engine = ctx.engine
    if engine is not None:
        return lambda: engine.rules
    return lambda: rules_in_force(ctx.state.saved_rules(), ctx.settings.alerts.rules_path)


Rules = Annotated[Callable[[], RuleSet], Depends(_rules)]


def _audit(request: Request) -> AuditLog:
    return ctx_of(request).audit


Audit = Annotated[AuditLog, Depends(_audit)]


def record(
    audit: AuditLog, ctx: ApiContext, who: Principal, action: str, target: str, detail: str = ""
) -> None:
    """One line of who did what, at the context's clock."""
    audit.record(AuditEntry(ctx.clock.now_ns(), who.name, who.role, action, target, detail))


class IngestView(Protocol):
    """What the API reads of ingest running in the same process."""

    def recent_rejections(self) -> list[RecentRejection]: ...

    def devices(self) -> list[DeviceSnapshot]: ...

    def quarantined(self) -> list[str]: ...

    def broker_connected(self) -> bool | None: ...

    def spool_disk_full(self) -> bool: ...


class _NoIngest:
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


class _PipelineView:
    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def recent_rejections(self) -> list[RecentRejection]:
        return self._pipeline.recent_rejections()

    def devices(self) -> list[DeviceSnapshot]:
        return self._pipeline.tracker.snapshot()

    def quarantined(self) -> list[str]:
        return self._pipeline.quarantined

    def broker_connected(self) -> bool | None:
        registry = self._pipeline.metrics.registry
        return bool(registry.get_sample_value("saltwatch_ingest_broker_connected"))

    def spool_disk_full(self) -> bool:
        return self._pipeline.spool_disk_full


def _ingest(request: Request) -> IngestView:
    pipeline = ctx_of(request).pipeline
    return _PipelineView(pipeline) if pipeline is not None else _NoIngest()


Ingest = Annotated[IngestView, Depends(_ingest)]
