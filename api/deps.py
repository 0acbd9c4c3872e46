"""What a route may ask for, typed: declare a parameter ``engine: Engine`` and get the alert
engine (or a 409 where this process does not run it), ``ingest: Ingest`` for ingest's view of the
devices (empty in the API-only process), ``rules: Rules`` for the rules in force (read when
called), ``audit: Audit`` for the log of who did what. The routes
never test a bag of optional services themselves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from saltwatch.alerts.engine import AlertEngine
from saltwatch.api.audit import AuditEntry, AuditLog
from saltwatch.api.auth import Principal
from saltwatch.api.context import ApiContext, IngestView, ctx_of
from saltwatch.core.rules import RuleSet, rules_in_force

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


def _ingest(request: Request) -> IngestView:
    return ctx_of(request).ingest


Ingest = Annotated[IngestView, Depends(_ingest)]
