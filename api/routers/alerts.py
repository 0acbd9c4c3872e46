"""Alerts, acknowledgements, silences, recent ingest rejections."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from saltwatch.alerts.model import Silence
from saltwatch.alerts.store import AlertQuery
from saltwatch.api.auth import AUTH_RESPONSES, Operator, Viewer
from saltwatch.api.context import ctx_of
from saltwatch.api.convert import alert_out, moment_query, query_time, silence_out, when
from saltwatch.api.current import currents
from saltwatch.api.deps import Alerts, Audit, Context, Ingest, record
from saltwatch.api.paging import Page
from saltwatch.api.schemas import AckIn, AlertOut, AlertPage, RejectionOut, SilenceIn, SilenceOut
from saltwatch.core.timeutil import NS_PER_S

DAY_NS = 86_400 * NS_PER_S
MAX_SILENCE_NS = 30 * DAY_NS

router = APIRouter(prefix="/api/v1", tags=["alerts"], responses=AUTH_RESPONSES)


def alert_filters(
    request: Request,
    zone: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = None,
    state: Literal["pending", "firing", "acknowledged", "resolved"] | None = None,
    severity: Literal["info", "warning", "critical"] | None = None,
    kind: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$")] = None,
    since: Annotated[str | None, moment_query("episodes open at or after this time")] = None,
    until: Annotated[str | None, moment_query("episodes that started before this time")] = None,
) -> AlertQuery:
    """The alert filters every alert listing takes (the JSON page and the CSV)."""
    ctx = ctx_of(request)
    if zone is not None and zone not in ctx.registry.zones:
        raise HTTPException(404, "no such zone")
    covered = frozenset({zone, *ctx.registry.descendants(zone)}) if zone else None
    return AlertQuery(
        zones=covered,
        state=state,
        severity=severity,
        kind=kind,
        since_ns=query_time(since, "since"),
        until_ns=query_time(until, "until"),
    )


AlertFilters = Annotated[AlertQuery, Depends(alert_filters)]


@router.get(
    "/alerts",
    response_model=AlertPage,
    summary="Alerts, newest change first, filtered and paged in the store, any age; `zone` "
    "includes its descendant zones; `since`/`until` keep the episodes that overlap them",
    responses={422: {"description": "a time that is not RFC 3339"}},
)
def list_alerts(
    request: Request,
    _: Viewer,
    filters: AlertFilters,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AlertPage:
    ctx = ctx_of(request)
    query = replace(filters, offset=offset, limit=limit)
    items, total = ctx.state.query(query)
    now = currents(ctx.store, items, ctx.clock.now_ns())
    return AlertPage(
        items=[alert_out(a, ctx.registry, now.get(a.id)) for a in items],
        total=total,
        offset=offset,
        limit=limit,
    )


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertOut,
    summary="Acknowledge a firing alert (operator)",
    responses={
        404: {"description": "no open alert with this id"},
        409: {"description": "the alert is not firing"},
    },
)
def acknowledge(
    ctx: Context, alerts: Alerts, audit: Audit, who: Operator, alert_id: str, body: AckIn
) -> AlertOut:
    known = ctx.state.get(alert_id)
    if known is None:
        raise HTTPException(404, "no such alert")
    if known.state not in ("firing", "acknowledged"):
        raise HTTPException(409, f"the alert is {known.state}")
    try:
        note = " — ".join(t for t in (body.by, body.note) if t) or None
        acked = alerts.acknowledge(alert_id, who.name, note)
    except KeyError:
        raise HTTPException(409, "the alert is no longer open") from None
    record(audit, ctx, who, "ack", alert_id, note or "")
    return alert_out(acked, ctx.registry)


@router.get(
    "/silences",
    response_model=list[SilenceOut],
    summary="Silences and maintenance windows, by start; `current=true`: only those not ended "
    "(active or scheduled ahead)",
)
def list_silences(
    request: Request, _: Viewer, page: Page, current: bool = False
) -> list[SilenceOut]:
    ctx = ctx_of(request)
    now = ctx.clock.now_ns()
    offset, limit = page
    kept = ctx.state.silences(ending_after_ns=now if current else None)
    return [silence_out(s, now) for s in kept[offset : offset + limit]]


@router.post(
    "/silences",
    response_model=SilenceOut,
    status_code=201,
    summary="Mute alerts by zone, device and/or rule for a while (operator)",
)
def create_silence(ctx: Context, audit: Audit, who: Operator, body: SilenceIn) -> SilenceOut:
    if body.zone is None and body.device is None and body.rule is None:
        raise HTTPException(422, "name a zone, a device or a rule")
    if body.zone is not None and body.zone not in ctx.registry.zones:
        raise HTTPException(422, "zone: no such zone")
    now = ctx.clock.now_ns()
    starts, ends = silence_window(body, now)
    silence = Silence(
        uuid.uuid4().hex, body.zone, body.device, body.rule, starts, ends, who.name, body.reason
    )
    ctx.state.add_silence(silence)
    scope = ", ".join(
        f"{k} {v}"
        for k, v in (("zone", body.zone), ("device", body.device), ("rule", body.rule))
        if v
    )
    said = f" (as {body.author})" if body.author and body.author != who.name else ""
    window = f"{when(starts)} to {when(ends)}"
    record(audit, ctx, who, "silence.create", silence.id, f"{scope}, {window}: {body.reason}{said}")
    return silence_out(silence, now)


def silence_window(body: SilenceIn, now: int) -> tuple[int, int]:
    """When a silence starts and ends: from ``starts_at`` (now when absent or past) for
    ``minutes`` or until ``ends_at``; 422 for a window that is empty, over 30 days long, or
    more than a year ahead."""
    if (body.minutes is None) == (body.ends_at is None):
        raise HTTPException(422, "give either minutes or ends_at")
    starts = max(query_time(body.starts_at, "starts_at") or now, now)
    ends = query_time(body.ends_at, "ends_at") or starts + (body.minutes or 0) * 60 * NS_PER_S
    if ends <= starts:
        raise HTTPException(422, "ends_at: must be after the start (and after now)")
    if ends - starts > MAX_SILENCE_NS or starts - now > 366 * DAY_NS:
        raise HTTPException(422, "a silence lasts at most 30 days and starts within a year")
    return starts, ends


@router.delete(
    "/silences/{silence_id}",
    status_code=204,
    summary="Expire a silence now (operator)",
    responses={404: {"description": "no active silence with this id"}},
)
def expire_silence(ctx: Context, audit: Audit, who: Operator, silence_id: str) -> None:
    if not ctx.state.expire_silence(silence_id, ctx.clock.now_ns()):
        raise HTTPException(404, "no active silence with this id")
    record(audit, ctx, who, "silence.delete", silence_id)


@router.get(
    "/ingest/rejections",
    response_model=list[RejectionOut],
    summary="The most recent rejected messages: time, topic, reason",
)
def rejections(_: Viewer, ingest: Ingest, page: Page) -> list[RejectionOut]:
    offset, limit = page
    return [
        RejectionOut(
            at=when(r.received_ns) or "",
            topic=r.topic,
            reason=r.reason,
            detail=r.detail,
            payload_head=r.payload_head,
        )
        for r in ingest.recent_rejections()[offset : offset + limit]
    ]
