"""The week ahead per structure ("lịch đóng mở cống"): planned openings entered by operators and
those SaltWatch proposes from the guard station's safe windows, each with what the forecast says
of the water during it and the high and low waters predicted in it (an intake by gravity takes
water while the tide outside stands above the canal); plan (operator) and cancel (operator),
both on the audit log."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from saltwatch.analytics.schedules import Opening, proposals, unsafe_peak
from saltwatch.analytics.tides_ahead import Waters, waters
from saltwatch.api.auth import AUTH_RESPONSES, Operator, Viewer
from saltwatch.api.context import ApiContext
from saltwatch.api.convert import query_time, when
from saltwatch.api.deps import Audit, Context, Rules, record
from saltwatch.core.errors import RetryableError
from saltwatch.core.timeutil import NS_PER_S

router = APIRouter(prefix="/api/v1", tags=["structures"], responses=AUTH_RESPONSES)
DAY_NS = 86400 * NS_PER_S


class WaterOut(BaseModel):
    at: str
    water: Literal["high", "low"]
    height_m: float | None = Field(description="water-level basis only")


class OpeningOut(BaseModel):
    id: str
    structure: str
    name: str
    start: str
    end: str
    source: Literal["operator", "proposed"] = Field(
        description="entered by an operator, or proposed from the guard station's safe windows"
    )
    by: str
    note: str
    forecast_peak_ppt: float | None = Field(
        description="the guard station's forecast mean at its highest during the opening, ‰ "
        "(null: beyond the forecast or no forecast here)"
    )
    unsafe: bool = Field(description="the forecast reaches the structure's limit during it")
    tide_basis: Literal["level", "salinity", "none", "unavailable"] = Field(
        description="where the predicted waters come from: a water-level station near the "
        "structure (times and heights), its guard station's salinity tide (times only), none "
        "(no record to fit), or unavailable (the reading store cannot be read now)"
    )
    waters: list[WaterOut] = Field(description="the high and low waters predicted during it")


class OpeningIn(BaseModel):
    structure: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    start: str = Field(description="RFC 3339 with an offset")
    end: str = Field(description="RFC 3339 with an offset, after start, within 14 days")
    note: str = Field("", max_length=200)


def _waters(ctx: ApiContext, structure_id: str) -> Waters | None:
    """The structure's predicted waters, made once a minute at most (a fit of 30 days); None
    while the reading store is away (the plan itself is kept elsewhere and still shown)."""
    now = ctx.clock.now_ns()
    structure = ctx.registry.structures[structure_id]
    try:
        found: Waters = ctx.cache.get(
            ("waters", structure_id, now // (60 * NS_PER_S)),
            lambda: waters(ctx.store, ctx.registry, structure, now, days=15),
        )
    except RetryableError:
        return None
    return found


def _out(ctx: ApiContext, o: Opening, limit: float | None) -> OpeningOut:
    structure = ctx.registry.structures[o.structure]
    found = ctx.analytics.forecasts().get(structure.guard)
    peak = unsafe_peak(o, found) if found else None
    tide = _waters(ctx, o.structure)
    return OpeningOut(
        id=o.id,
        structure=o.structure,
        name=structure.name,
        start=when(o.start_ns) or "",
        end=when(o.end_ns) or "",
        source="proposed" if o.source == "proposed" else "operator",
        by=o.by,
        note=o.note,
        forecast_peak_ppt=round(peak, 2) if peak is not None else None,
        unsafe=peak is not None and limit is not None and peak >= limit,
        tide_basis=tide.basis if tide else "unavailable",
        waters=[
            WaterOut(at=when(w.at_ns) or "", water="high" if w.high else "low", height_m=w.height_m)
            for w in (tide.waters if tide else ())
            if o.start_ns <= w.at_ns < o.end_ns
        ],
    )


@router.get(
    "/schedules",
    summary="Planned and proposed openings of the structures for the next days",
    response_model=list[OpeningOut],
)
def schedules(
    ctx: Context,
    rules: Rules,
    _: Viewer,
    structure: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")] = None,
    days: Annotated[float, Query(gt=0, le=14, description="how far ahead")] = 3,
) -> list[OpeningOut]:
    now = ctx.clock.now_ns()
    planned = ctx.schedules.between(now, now + int(days * DAY_NS), structure)
    latest = ctx.analytics.forecasts()
    found = [*planned, *proposals(ctx.registry, latest, structure)]
    in_force = rules()
    return [
        _out(ctx, o, in_force.structure_limit(ctx.registry.structures[o.structure]))
        for o in sorted(found, key=lambda o: o.start_ns)
        if o.structure in ctx.registry.structures
    ]


@router.post(
    "/schedules",
    summary="Plan an opening of a structure (operator); on the audit log",
    response_model=OpeningOut,
    status_code=201,
    responses={404: {"description": "no such structure"}, 422: {"description": "bad times"}},
)
def plan(ctx: Context, rules: Rules, audit: Audit, who: Operator, body: OpeningIn) -> OpeningOut:
    structure = ctx.registry.structures.get(body.structure)
    if structure is None:
        raise HTTPException(404, f"no structure {body.structure!r}")
    start, end = query_time(body.start, "start"), query_time(body.end, "end")
    now = ctx.clock.now_ns()
    if start is None or end is None or not now - DAY_NS < start < end <= now + 14 * DAY_NS:
        raise HTTPException(422, "start must come before end, within the next 14 days")
    opening = Opening(uuid.uuid4().hex[:12], structure.id, start, end, who.name, body.note)
    ctx.schedules.add(opening)
    record(audit, ctx, who, "schedule.create", structure.id, f"{body.start} → {body.end}")
    return _out(ctx, opening, rules().structure_limit(structure))


@router.delete(
    "/schedules/{opening_id}",
    summary="Cancel a planned opening (operator); on the audit log",
    status_code=204,
    responses={404: {"description": "no such planned opening, or already cancelled"}},
)
def cancel(
    ctx: Context,
    audit: Audit,
    who: Operator,
    opening_id: Annotated[str, Path(pattern=r"^[0-9a-f]{12}$")],
) -> None:
    found = ctx.schedules.cancel(opening_id, who.name)
    if found is None:
        raise HTTPException(404, f"no planned opening {opening_id!r}")
    record(audit, ctx, who, "schedule.cancel", found.structure, opening_id)
