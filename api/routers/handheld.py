"""Handheld readings (docs/sources.md): commune staff measure at a sluice or a canal with a
handheld meter and enter the value from the phone (operator). The reading is stored with source
``manual`` and the token's name, judged by the codec like any other, refused when the station
already holds another value at that time, written to the audit log, and handed to the alert
engine: at once where it runs in this process, else through the landed log that the process
running it follows (storage/landed_sqlite.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, Field

from saltwatch.api.auth import AUTH_RESPONSES, Operator
from saltwatch.api.convert import query_time
from saltwatch.api.deps import Audit, Context, record
from saltwatch.api.schemas import ReadingPoint
from saltwatch.core.codec import reading_from_values
from saltwatch.core.sources import UNITS, unit_factor
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_rfc3339
from saltwatch.core.types import Reading, Rejection
from saltwatch.ingest.conflicts import differs

router = APIRouter(prefix="/api/v1", tags=["readings"], responses=AUTH_RESPONSES)
StationId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
#: what a handheld meter shows, and the stored quantity it becomes
QUANTITIES = {"salinity": "salinity_ppt", "chloride": "chloride_mg_l", "conductivity": "ec25_us_cm"}
#: how far ahead of the server's clock a phone's time may be
AHEAD_S = 300


class HandheldIn(BaseModel):
    value: float = Field(ge=0, description="what the meter showed")
    quantity: Literal["salinity", "chloride", "conductivity"] = Field(
        "salinity", description="salinity (‰, g/L), chloride (mg/L) or conductivity at 25 °C"
    )
    unit: str = Field(
        "‰", max_length=12, description="the meter's unit: ‰, g/L, mg/L, µS/cm, mS/cm, …"
    )
    at: str | None = Field(None, description="when it was measured (RFC 3339); default now")
    note: str = Field("", max_length=200, description="where exactly, the meter, anything")


@router.post(
    "/stations/{station}/readings",
    summary="Enter a handheld reading at a station (operator); on the audit log",
    response_model=ReadingPoint,
    status_code=201,
    responses={
        404: {"description": "no such salinity station"},
        409: {"description": "the station already has another value at that time"},
    },
)
def enter(
    ctx: Context, audit: Audit, who: Operator, station: StationId, body: HandheldIn
) -> ReadingPoint:
    device = ctx.registry.device(station)
    if device is None or device.kind != "salinity":
        raise HTTPException(404, f"no salinity station {station!r}")
    now = ctx.clock.now_ns()
    ts_ns = query_time(body.at, "at") if body.at is not None else now
    assert ts_ns is not None
    if ts_ns > now + AHEAD_S * NS_PER_S:
        raise HTTPException(422, "at: later than now (check the phone's clock)")
    to = QUANTITIES[body.quantity]
    factor = unit_factor(to, body.unit)
    if factor is None:
        raise HTTPException(422, f"unit: {body.unit!r} is not one of {', '.join(UNITS[to])}")
    values = {to: body.value * factor}
    judged = reading_from_values(
        device.topic_kind, device.id, values, ts_ns, device.zone, device.river or "", "manual"
    )
    if isinstance(judged, Rejection):
        raise HTTPException(422, f"{judged.reason}: {judged.detail}")
    note = " ".join(body.note.split())  # one line: no control characters reach the store
    fields = {**judged.fields, "by": who.name, **({"note": note} if note else {})}
    reading = Reading(
        judged.kind, judged.device, ts_ns, fields, judged.qc, judged.zone, judged.river
    )
    stored = ctx.store.at_times(reading.kind, reading.device, [ts_ns]).get(ts_ns)
    if stored is not None and differs(stored.fields, reading.fields) is not None:
        raise HTTPException(409, f"{station} already has another value at that time")
    ctx.store.write([reading])  # kept before it is told: a 503 when the store is away
    shown = f"{body.value:g} {body.unit}" + (f": {note}" if note else "")
    record(audit, ctx, who, "reading.manual", station, shown)
    ctx.alerts.judge_now([reading])  # at once where the engine runs here; else logged for it
    ctx.cache.clear()
    return ReadingPoint(ts=to_rfc3339(ts_ns, VN_TZ), values=dict(reading.fields), qc=reading.qc)
