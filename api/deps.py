"""What a route may ask for, typed: declare a parameter ``alerts: Alerts`` for the alert engine's
view (api/views.py: what only a running engine does answers 409 where it runs elsewhere),
``ingest: Ingest`` for ingest's view of the devices (empty in the API-only process),
``rules: Rules`` for the rules in force (read when called), ``audit: Audit`` for the log of who
did what. The routes never test a bag of optional services themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request

from saltwatch.api.audit import AuditEntry, AuditLog
from saltwatch.api.auth import Principal
from saltwatch.api.context import ApiContext, ctx_of
from saltwatch.api.views import AlertsView, IngestView
from saltwatch.core.rules import RuleSet

Context = Annotated[ApiContext, Depends(ctx_of)]


def _alerts(request: Request) -> AlertsView:
    return ctx_of(request).alerts


#: the alert engine, here or elsewhere: what only a running engine can do answers 409 elsewhere
Alerts = Annotated[AlertsView, Depends(_alerts)]


def _rules(request: Request) -> Callable[[], RuleSet]:
    """The rules in force, read when called: the engine's, or as the alerts process applies
    them when it runs elsewhere (saved by an admin, or the configured file)."""
    return ctx_of(request).alerts.rules


Rules = Annotated[Callable[[], RuleSet], Depends(_rules)]


def _audit(request: Request) -> AuditLog:
    return ctx_of(request).audit


Audit = Annotated[AuditLog, Depends(_audit)]


def record(
    audit: AuditLog, ctx: ApiContext, who: Principal, action: str, target: str, detail: str = ""
) -> None:
    """One line of who did what, at the context's clock."""
    audit.record(AuditEntry(ctx.clock.now_ns(), who.name, who.role, action, target, detail))


def _ingest(request: Request) -> IngestView:
    return ctx_of(request).ingest


Ingest = Annotated[IngestView, Depends(_ingest)]
