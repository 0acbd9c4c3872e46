"""Rules (read: viewer; change: admin, validated, applied without restart), zone summaries of
wells and taps, and the live stream of alert events."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from saltwatch.alerts.messages import render
from saltwatch.alerts.model import Event
from saltwatch.api.auth import AUTH_RESPONSES, Admin, Viewer
from saltwatch.api.context import ctx_of
from saltwatch.api.convert import moment_query, query_time, when
from saltwatch.api.deps import Alerts, Audit, Context, Rules, record
from saltwatch.api.paging import Page
from saltwatch.core.errors import ConfigError
from saltwatch.core.rules import parse_rules
from saltwatch.core.timeutil import VN_TZ, from_datetime, to_datetime
from saltwatch.core.topics import TopicKind

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1", tags=["operations"], responses=AUTH_RESPONSES)


@router.get("/rules", summary="The alert rules in force", response_model=dict[str, Any])
def get_rules(in_force: Rules, _: Viewer) -> dict[str, Any]:
    rules: dict[str, Any] = in_force().model_dump(mode="json")
    return rules


@router.put(
    "/rules",
    summary="Replace the alert rules (admin); applied at the next evaluation",
    response_model=dict[str, Any],
    responses={422: {"description": "the rules are not valid; detail says why"}},
)
def put_rules(
    ctx: Context,
    alerts: Alerts,
    audit: Audit,
    who: Admin,
    body: dict[str, Any] = Body(description="rules, as in config/rules.toml"),  # noqa: B008
) -> dict[str, Any]:
    try:
        rules = parse_rules(body, "rules")
    except ConfigError as exc:
        raise HTTPException(422, str(exc)) from None
    previous = alerts.rules()
    before = previous.saltfront.override
    alerts.replace_rules(rules)
    ctx.state.save_rules(rules.model_dump(mode="json"))
    ctx.cache.clear()  # no cached answer (a station's levels) outlives the rules it showed
    # the rules replaced, kept whole: a change can be read back and undone
    replaced = orjson.dumps(previous.model_dump(mode="json")).decode()
    record(audit, ctx, who, "rules.update", "rules", f"previous: {replaced}")
    for river in sorted(set(before) | set(rules.saltfront.override)):
        was, now = before.get(river), rules.saltfront.override.get(river)
        if was != now:  # a declared level is a human decision: on the record
            log.warning(
                "declared risk level on %s: %s → %s",
                river,
                f"{was.level} ({was.by}: {was.reason})" if was else "none",
                f"{now.level} ({now.by}: {now.reason})" if now else "none (computed again)",
            )
    applied: dict[str, Any] = rules.model_dump(mode="json")
    return applied


class AuditOut(BaseModel):
    at: str
    actor: str = Field(description="the name of the token that acted")
    role: str
    action: str = Field(description="ack, silence.create, silence.delete, rules.update")
    target: str = Field(description="an alert id, a silence id, or rules")
    detail: str


class AuditPage(BaseModel):
    items: list[AuditOut]
    total: int


@router.get(
    "/audit",
    response_model=AuditPage,
    summary="Who did what (admin): acknowledgements, silences, rule changes; newest first",
)
def audit_log(
    audit: Audit,
    _: Admin,
    page: Page,
    since: Annotated[str | None, moment_query("e.g. 2026-03-12T00:00:00+07:00")] = None,
    until: Annotated[str | None, moment_query("e.g. 2026-03-12T00:00:00+07:00")] = None,
    actor: Annotated[str | None, Query(max_length=64, description="a token's name")] = None,
) -> AuditPage:
    offset, limit = page
    entries, total = audit.query(
        query_time(since, "since"), query_time(until, "until"), actor, offset, limit
    )
    return AuditPage(
        items=[
            AuditOut(
                at=when(e.at_ns) or "",
                actor=e.actor,
                role=e.role,
                action=e.action,
                target=e.target,
                detail=e.detail,
            )
            for e in entries
        ],
        total=total,
    )


class ZoneSummary(BaseModel):
    zone: str
    wells_running: int
    wells_total: int
    taps_open: int
    taps_total: int
    tap_m3_today: float


@router.get(
    "/summary",
    response_model=list[ZoneSummary],
    summary="Per zone (its descendants included): wells running, taps open, water "
    "drawn at the taps today (Vietnam time)",
)
def summary(request: Request, _: Viewer) -> list[ZoneSummary]:
    ctx = ctx_of(request)
    reg = ctx.registry
    now = ctx.clock.now_ns()
    today = to_datetime(now, VN_TZ).replace(hour=0, minute=0, second=0, microsecond=0)
    midnight = from_datetime(today)
    wells = ctx.store.latest(TopicKind.WELL)
    taps = ctx.store.latest(TopicKind.TAP)
    drawn: dict[str, float] = {}
    for tap_id, reading in taps.items():
        end = reading.fields.get("volume_m3")
        if not isinstance(end, float) or reading.ts_ns < midnight:
            continue
        first = ctx.store.query(TopicKind.TAP, tap_id, midnight, now + 1, limit=1)
        start = first[0].fields.get("volume_m3") if first else None
        drawn[tap_id] = max(0.0, end - start) if isinstance(start, float) else 0.0
    out = []
    for zone in reg.zones.values():
        covered = {zone.id, *reg.descendants(zone.id)}
        zone_wells = [d.id for d in reg.devices_of("well") if d.zone in covered]
        zone_taps = [d.id for d in reg.devices_of("tap") if d.zone in covered]
        if not zone_wells and not zone_taps:
            continue
        out.append(
            ZoneSummary(
                zone=zone.id,
                wells_running=sum(
                    1 for w in zone_wells if w in wells and wells[w].fields.get("running") is True
                ),
                wells_total=len(zone_wells),
                taps_open=sum(
                    1 for t in zone_taps if t in taps and taps[t].fields.get("open") is True
                ),
                taps_total=len(zone_taps),
                tap_m3_today=round(sum(drawn.get(t, 0.0) for t in zone_taps), 3),
            )
        )
    return out


@router.get(
    "/alerts/stream",
    summary="Server-Sent Events: every alert event as it happens",
    response_class=StreamingResponse,
)
async def stream(request: Request, ctx: Context, alerts: Alerts, _: Viewer) -> StreamingResponse:
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[Event] = asyncio.Queue(maxsize=1000)

    def offer(event: Event) -> None:
        if not queue.full():  # a client too slow to read loses events, not the server memory
            queue.put_nowait(event)

    def listener(event: Event) -> None:
        loop.call_soon_threadsafe(offer, event)

    alerts.listen(listener)

    async def events() -> AsyncIterator[bytes]:
        try:
            yield b": connected\n\n"
            while not await request.is_disconnected():
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=15)
                except TimeoutError:
                    yield b": keep-alive\n\n"
                    continue
                body = orjson.dumps(render(event, ctx.registry))
                yield b"event: alert\ndata: " + body + b"\n\n"
        finally:
            alerts.unlisten(listener)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers={"Cache-Control": "no-cache"}
    )
