"""Zones, stations and their readings, wells, taps, device liveness."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, TypeVar

import orjson
from fastapi import APIRouter, HTTPException, Query, Request, Response
from pydantic import BaseModel

from saltwatch.api.auth import AUTH_RESPONSES, Viewer
from saltwatch.api.context import ApiContext, ctx_of
from saltwatch.api.convert import latest, moment_query, station_range, when
from saltwatch.api.deps import Ingest, Rules
from saltwatch.api.paging import Page
from saltwatch.api.schemas import (
    AggregatePoint,
    DeviceLatestOut,
    DeviceStatusOut,
    LevelsOut,
    ReadingPoint,
    ReadingsOut,
    StationOut,
    ZoneOut,
)
from saltwatch.core.errors import BadInputError
from saltwatch.core.registry import Device
from saltwatch.core.rules import SEVERITY_RANK, RuleSet
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, parse_duration, to_rfc3339
from saltwatch.core.topics import TopicKind

T = TypeVar("T")
router = APIRouter(prefix="/api/v1", tags=["devices"], responses=AUTH_RESPONSES)
MAX_POINTS = 10_000


def _sliced(items: Sequence[T], page: tuple[int, int]) -> list[T]:
    offset, limit = page
    return list(items[offset : offset + limit])


def _encode(models: Sequence[BaseModel]) -> bytes:
    """Serialised once, served to every client of the cache's few seconds."""
    return orjson.dumps([m.model_dump(mode="json") for m in models])


def _json(body: bytes) -> Response:
    return Response(body, media_type="application/json")


@router.get(
    "/zones",
    response_model=list[ZoneOut],
    summary="Zones with their parent, worst active severity and active alert count",
)
def zones(request: Request, _: Viewer, page: Page) -> Response:
    ctx = ctx_of(request)
    return _json(ctx.cache.get(("zones", *page), lambda: _encode(_sliced(_zones(ctx), page))))


def _zones(ctx: ApiContext) -> list[ZoneOut]:
    reg = ctx.registry
    active = [a for a in ctx.state.open_alerts().values() if a.state in ("firing", "acknowledged")]
    out = []
    for zone in reg.zones.values():
        covered = {zone.id, *reg.descendants(zone.id)}
        mine = [a for a in active if a.zone in covered]
        worst = max((a.severity for a in mine), key=SEVERITY_RANK.__getitem__, default=None)
        out.append(
            ZoneOut(
                id=zone.id,
                name=zone.name,
                name_en=zone.name_en,
                kind=zone.kind.value,
                parent=zone.parent,
                legacy=zone.legacy,
                worst_severity=worst,
                active_alerts=len(mine),
            )
        )
    return out


@router.get(
    "/stations",
    response_model=list[StationOut],
    summary="Salinity stations with registry data and the latest reading",
)
def stations(request: Request, _: Viewer, page: Page, rules: Rules) -> Response:
    ctx = ctx_of(request)
    stations = lambda: _encode(_sliced(_stations(ctx, rules()), page))  # noqa: E731
    return _json(ctx.cache.get(("stations", *page), stations))


def _stations(ctx: ApiContext, rules: RuleSet) -> list[StationOut]:
    newest = ctx.store.latest(TopicKind.SALINITY)
    month = datetime.fromtimestamp(ctx.clock.now_ns() / NS_PER_S, VN_TZ).month

    def levels(device: Device) -> LevelsOut | None:
        if device.profile is None:
            return None
        found = rules.levels_for(device, ctx.registry, month)
        return LevelsOut(warning=found.warning, critical=found.critical)

    return [
        StationOut(
            id=d.id,
            name=d.name,
            zone=d.zone,
            also_zones=list(d.also_zones),
            river=d.river,
            km=d.km,
            lat=d.lat,
            lon=d.lon,
            approx_location=d.approx_location,
            profile=d.profile.value if d.profile else None,
            reports=d.reports,
            latest=latest(newest.get(d.id)),
            levels=levels(d),
        )
        for d in ctx.registry.devices_of("salinity")
    ]


@router.get(
    "/stations/{station}/readings",
    response_model=ReadingsOut,
    summary="A station's readings, or min/mean/max per `every` bucket",
)
def readings(
    request: Request,
    _: Viewer,
    station: str,
    start: Annotated[str | None, moment_query("default: 24 h before end")] = None,
    end: Annotated[str | None, moment_query("default: now")] = None,
    every: Annotated[str | None, Query(description="bucket width: 15m, 1h, 1d…")] = None,
) -> ReadingsOut | Response:
    ctx = ctx_of(request)
    start_ns, end_ns = station_range(ctx, station, start, end, 86_400)
    out = ReadingsOut(
        station=station,
        start=to_rfc3339(start_ns, VN_TZ),
        end=to_rfc3339(end_ns, VN_TZ),
        every=every,
    )
    if every is None:
        rows = ctx.store.query(TopicKind.SALINITY, station, start_ns, end_ns, MAX_POINTS + 1)
        if len(rows) > MAX_POINTS:
            raise HTTPException(
                422, f"more than {MAX_POINTS} readings: narrow the range or give `every`"
            )
        out.readings = [
            ReadingPoint(ts=to_rfc3339(r.ts_ns, VN_TZ), values=dict(r.fields), qc=r.qc)
            for r in rows
        ]
        return out
    try:
        every_s = parse_duration(every)
    except BadInputError as exc:
        raise HTTPException(422, f"every: {exc}") from None
    if (end_ns - start_ns) / (every_s * NS_PER_S) > MAX_POINTS:
        raise HTTPException(422, f"more than {MAX_POINTS} buckets: widen `every`")
    minute = 60 * NS_PER_S  # the same minute's request shares its buckets for a while
    key = ("aggregate", station, start_ns // minute, end_ns // minute, every_s)

    def buckets() -> list[dict[str, object]]:
        rows = ctx.store.aggregate(
            TopicKind.SALINITY, station, "salinity_ppt", start_ns, end_ns, every_s
        )
        return [
            AggregatePoint(
                ts=to_rfc3339(b.start_ns, VN_TZ), min=b.min, mean=b.mean, max=b.max, count=b.count
            ).model_dump()
            for b in rows
        ]

    body = out.model_dump(exclude={"aggregates", "readings"})
    body["readings"] = None
    body["aggregates"] = ctx.cache.get(key, buckets)
    return _json(orjson.dumps(body))


def _latest_of(request: Request, kind: TopicKind) -> list[DeviceLatestOut]:
    ctx = ctx_of(request)
    newest = ctx.store.latest(kind)
    return [
        DeviceLatestOut(
            id=d.id, name=d.name, zone=d.zone, lat=d.lat, lon=d.lon, latest=latest(newest.get(d.id))
        )
        for d in ctx.registry.devices_of(kind.value)
    ]


@router.get("/wells", response_model=list[DeviceLatestOut], summary="Latest status of each well")
def wells(request: Request, _: Viewer, page: Page) -> list[DeviceLatestOut]:
    return _sliced(_latest_of(request, TopicKind.WELL), page)


@router.get("/taps", response_model=list[DeviceLatestOut], summary="Latest status of each tap")
def taps(request: Request, _: Viewer, page: Page) -> list[DeviceLatestOut]:
    return _sliced(_latest_of(request, TopicKind.TAP), page)


@router.get(
    "/devices/status",
    response_model=list[DeviceStatusOut],
    summary="Online/offline, last seen and lost messages (seq gaps) per device",
)
def device_status(_: Viewer, ingest: Ingest, page: Page) -> list[DeviceStatusOut]:
    return [
        DeviceStatusOut(
            device=s.device,
            online=s.online,
            status_at=when(s.status_at_ns),
            last_seen=when(s.last_seen_ns),
            last_measured=when(s.last_measured_ns),
            seq_lost=s.seq_lost,
            restarts=s.restarts,
        )
        for s in _sliced(ingest.devices(), page)
    ]
