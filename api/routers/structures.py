"""Sluices and intakes: each structure with its gate, the salinity guarding it and its limit
(viewer); an operator's "opened" / "closed" (operator, on the audit log under the token's name);
a gate's history from its sensor and its operators (viewer). docs/interface.md "Structures"."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import BaseModel, Field

from saltwatch.alerts.structures import (
    GateSeen,
    StructureStatus,
    StructureWatch,
    gate_readings,
    gate_seen,
)
from saltwatch.api.auth import AUTH_RESPONSES, Operator, Viewer
from saltwatch.api.context import ApiContext
from saltwatch.api.convert import moment_query, query_time, when
from saltwatch.api.deps import Audit, Context, Rules, record
from saltwatch.core.qc import BAD_FLAGS
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

router = APIRouter(prefix="/api/v1", tags=["structures"], responses=AUTH_RESPONSES)
StructureId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
GateState = Literal["open", "closed", "partial"]


class GateOut(BaseModel):
    state: GateState
    opening_pct: float | None
    at: str = Field(description="when the gate was reported so")
    source: Literal["sensor", "operator"]
    by: str | None = Field(description="the operator's name (operator entries)")
    note: str | None


class GuardOut(BaseModel):
    station: str
    name: str
    ppt: float | None = Field(description="the station's newest good reading, ‰")
    at: str | None = Field(description="when it was measured")


class StructureOut(BaseModel):
    id: str
    name: str
    kind: str = Field(description="sluice, dam, pumping_station or plant_intake")
    zone: str
    also_zones: list[str]
    river: str | None
    km: float | None
    use: str = Field(description="what its water is for: rice, fruit or domestic")
    limit_ppt: float = Field(description="it must not stand open at or above this salinity, ‰")
    capacity_m3s: float | None
    description: str
    guard: GuardOut
    gate: GateOut | None = Field(description="the newer of the sensor's and the operator's")
    sensor: GateOut | None
    operator: GateOut | None
    disagree: bool = Field(description="the sensor, reporting after the operator, says otherwise")
    open_to_salt: bool = Field(description="open while its guard reads at or above its limit")


class OperationIn(BaseModel):
    state: GateState = Field(description='"open" (đã mở), "closed" (đã đóng) or "partial"')
    opening_pct: float | None = Field(None, ge=0, le=100)
    note: str | None = Field(None, max_length=200)


def _gate(g: GateSeen | None) -> GateOut | None:
    if g is None:
        return None
    state: GateState = (
        "open" if g.state == "open" else "partial" if g.state == "partial" else "closed"
    )
    source: Literal["sensor", "operator"] = "operator" if g.source == "operator" else "sensor"
    return GateOut(
        state=state,
        opening_pct=g.opening_pct,
        at=when(g.at_ns) or "",
        source=source,
        by=g.by or None,
        note=g.note or None,
    )


def _out(s: StructureStatus, ctx: ApiContext) -> StructureOut:
    st = s.structure
    guard = ctx.registry.device(st.guard)
    return StructureOut(
        id=st.id,
        name=st.name,
        kind=st.kind.value,
        zone=st.zone,
        also_zones=list(st.also_zones),
        river=st.river,
        km=st.km,
        use=str(st.use),
        limit_ppt=s.limit,
        capacity_m3s=st.capacity_m3s,
        description=st.description,
        guard=GuardOut(
            station=st.guard,
            name=guard.name if guard else st.guard,
            ppt=s.guard_ppt,
            at=when(s.guard_at_ns),
        ),
        gate=_gate(s.gate),
        sensor=_gate(s.sensor),
        operator=_gate(s.operator),
        disagree=s.disagree,
        open_to_salt=s.open_to_salt,
    )


def _watch(ctx: ApiContext, rules: RuleSet) -> StructureWatch:
    """The structures as the store knows them now: each gate's newest sensor report and operator
    entry, and each guard station's newest reading."""
    watch = StructureWatch(ctx.registry, lambda: rules)
    guards = sorted({s.guard for s in ctx.registry.structures.values()})
    readings: list[Reading] = [
        *ctx.store.latest(TopicKind.GATE).values(),
        *ctx.store.latest(TopicKind.OPERATION).values(),
    ]
    for station, latest in ctx.store.latest(TopicKind.SALINITY, guards).items():
        good = latest
        if latest.qc & BAD_FLAGS:  # a value QC rejected is not the water now: the last good one
            day = latest.ts_ns - 86400 * NS_PER_S
            recent = ctx.store.query(TopicKind.SALINITY, station, day, latest.ts_ns, 200)
            good = next((r for r in reversed(recent) if not r.qc & BAD_FLAGS), latest)
        readings.append(good)
    watch.on_readings(sorted(readings, key=lambda r: r.ts_ns))
    return watch


@router.get(
    "/structures",
    summary="Sluices and intakes with their gates, guard salinity and limits",
    response_model=list[StructureOut],
)
def structures(
    ctx: Context,
    rules: Rules,
    _: Viewer,
    zone: Annotated[str | None, Query(description="only those serving this zone")] = None,
) -> list[StructureOut]:
    watch = _watch(ctx, rules())
    out = []
    for sid, st in ctx.registry.structures.items():
        zones = ctx.registry.structure_zones(st)
        status = watch.status(sid)
        if status is not None and (zone is None or zone in zones):
            out.append(_out(status, ctx))
    return out


@router.post(
    "/structures/{structure}/operations",
    summary="Record that a gate was opened or closed (operator); on the audit log",
    response_model=StructureOut,
    responses={404: {"description": "no such structure"}},
)
def operate(
    ctx: Context,
    rules: Rules,
    audit: Audit,
    who: Operator,
    structure: StructureId,
    body: OperationIn,
) -> StructureOut:
    if structure not in ctx.registry.structures:
        raise HTTPException(404, f"no structure {structure!r}")
    now = ctx.clock.now_ns()
    seen = GateSeen(body.state, now, "operator", body.opening_pct, who.name, body.note or "")
    entry = gate_readings([seen], structure)
    ctx.store.write(entry)  # kept before it is told: a 503 when the store is away
    detail = body.state + (f" {body.opening_pct:g}%" if body.opening_pct is not None else "")
    record(
        audit,
        ctx,
        who,
        "structure.operate",
        structure,
        detail + (f": {body.note}" if body.note else ""),
    )
    ctx.alerts.judge_operations(entry)  # at once where the engine runs here; else from the store
    ctx.cache.clear()
    status = _watch(ctx, rules()).status(structure)
    assert status is not None
    return _out(status, ctx)


class HistoryItem(BaseModel):
    at: str
    state: GateState
    opening_pct: float | None
    source: Literal["sensor", "operator"]
    by: str | None
    note: str | None


@router.get(
    "/structures/{structure}/history",
    summary="A gate's reports from its sensor and its operators, newest first",
    response_model=list[HistoryItem],
    responses={404: {"description": "no such structure"}},
)
def history(
    ctx: Context,
    _: Viewer,
    structure: StructureId,
    since: Annotated[str | None, moment_query("from (default: 7 days ago)")] = None,
    until: Annotated[str | None, moment_query("to (default: now)")] = None,
) -> list[HistoryItem]:
    if structure not in ctx.registry.structures:
        raise HTTPException(404, f"no structure {structure!r}")
    end = query_time(until, "until") or ctx.clock.now_ns()
    start = query_time(since, "since") or end - 7 * 86400 * NS_PER_S
    rows = list(ctx.store.query(TopicKind.OPERATION, structure, start, end + 1, 1000))
    sensor = ctx.registry.gate_of(structure)
    if sensor is not None:
        rows += ctx.store.query(TopicKind.GATE, sensor.id, start, end + 1, 1000)
    out = []
    for r in sorted(rows, key=lambda r: r.ts_ns, reverse=True):
        source = "operator" if r.kind is TopicKind.OPERATION else "sensor"
        g = _gate(gate_seen(r, source))
        if g is not None:
            out.append(HistoryItem(**g.model_dump(exclude={"at"}), at=g.at))
    return out
