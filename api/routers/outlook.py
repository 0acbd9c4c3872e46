"""The week ahead: ``GET /api/v1/outlook`` (each station's daily peak and low for the coming
days, each river's salt front and risk level per day, the spring tides, the upstream flow)."""

from __future__ import annotations

import math
from collections.abc import Callable

from fastapi import APIRouter

from saltwatch.analytics.outlook_kept import Skill, StationOutlook
from saltwatch.analytics.reach import Reach
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.saltfront import compute_days, day_start_ns
from saltwatch.analytics.week import WeekAhead, level_reached, week_ahead
from saltwatch.api.auth import AUTH_RESPONSES, Viewer
from saltwatch.api.context import ApiContext
from saltwatch.api.deps import Context, Rules
from saltwatch.api.schemas_outlook import (
    DayAheadOut,
    FlowOut,
    FrontAheadOut,
    OutlookOut,
    OutlookSkillOut,
    ReachOut,
    RiverAheadOut,
    SpringTideOut,
    StationOutlookOut,
    TidesOut,
)
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_rfc3339

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=AUTH_RESPONSES)


def current_week(ctx: ApiContext, in_force: Callable[[], RuleSet]) -> WeekAhead:
    """The week from the stations' outlooks as the analytics view has them (api/views.py)."""
    now = ctx.clock.now_ns()
    rules = in_force()
    outlooks = dict(ctx.analytics.outlooks())
    return week_ahead(ctx.store, ctx.registry, rules, outlooks, _observed(ctx, rules), now)


def _observed(ctx: ApiContext, rules: RuleSet) -> dict[str, RiskLevel]:
    risks = ctx.analytics.risks()
    if risks:
        return {river: risk.observed for river, risk in risks.items()}
    now = ctx.clock.now_ns()
    out = {}
    for river in ctx.registry.rivers:
        _, region = rules.saltfront.region_of(river)
        days = compute_days(ctx.store, ctx.registry, river, day_start_ns(now), now + 1, region)
        if days:
            out[river] = days[-1].risk
    return out


@router.get(
    "/outlook",
    response_model=OutlookOut,
    summary="The week ahead: each station's forecast daily maximum and minimum for the next "
    "days with a 90 % band (the method its own record chose, never worse than persistence "
    "there) and the live score of its kept outlooks; each river's 4 ‰ and 1 ‰ lines and the "
    "indicative risk level (QĐ 18/2021 Điều 49) per day from the forecast lines beside today's "
    "observed level; the coming spring tides; the upstream flow",
)
def outlook(ctx: Context, in_force: Rules, _: Viewer) -> OutlookOut:
    minute = ctx.clock.now_ns() // (60 * NS_PER_S)
    week: WeekAhead = ctx.cache.get(("outlook", minute), lambda: current_week(ctx, in_force))
    return outlook_out(ctx, in_force(), week)


def _num(value: float) -> float | None:
    return round(value, 3) if math.isfinite(value) else None


def _reach(reach: Reach | None) -> ReachOut:
    if reach is None:
        return ReachOut(km=None, bound="")
    return ReachOut(km=round(reach.km, 1), bound=reach.bound)


def _station_out(ctx: ApiContext, rules: RuleSet, o: StationOutlook) -> StationOutlookOut:
    device = ctx.registry.devices[o.station]
    skill = o.skill
    return StationOutlookOut(
        station=o.station,
        name=device.name,
        river=device.river,
        km=device.km,
        origin=o.origin.isoformat(),
        made_at=to_rfc3339(o.made_at_ns, VN_TZ),
        observed_peak=round(o.observed_peak, 3),
        observed_low=round(o.observed_low, 3),
        method=o.method,
        basis=o.basis,
        history_days=o.history_days,
        days=[
            DayAheadOut(
                day=d.day.isoformat(),
                lead=d.lead,
                peak=_num(d.peak),
                peak_lower=_num(d.peak_lower),
                peak_upper=_num(d.peak_upper),
                low=_num(d.low),
                low_lower=_num(d.low_lower),
                low_upper=_num(d.low_upper),
                above=level_reached(ctx.registry, rules, o.station, d.peak, d.day),
            )
            for d in o.days
        ],
        skill=_skill_out(skill),
        coverage=skill.coverage if skill else None,
    )


def _skill_out(skill: Skill | None) -> list[OutlookSkillOut]:
    if skill is None:
        return []
    return [
        OutlookSkillOut(
            lead=lead,
            mae=round(mae, 3),
            mae_persistence=round(base, 3),
            skill=_num(skill.skill(lead) or math.nan),
            scored=n,
        )
        for lead, (mae, base, n) in skill.by_lead.items()
    ]


def outlook_out(ctx: ApiContext, rules: RuleSet, week: WeekAhead) -> OutlookOut:
    rivers = []
    for river, ahead in week.rivers.items():
        seen = week.observed.get(river)
        rivers.append(
            RiverAheadOut(
                river=river,
                name=ctx.registry.rivers[river].name,
                region=ahead.region,
                observed_level=seen.level if seen else None,
                observed_by=seen.by if seen else None,
                days=[
                    FrontAheadOut(
                        day=d.day.isoformat(),
                        lead=d.lead,
                        line_4ppt=_reach(d.reaches.get(4.0)),
                        line_4ppt_range=[_reach(d.low.get(4.0)), _reach(d.high.get(4.0))],
                        line_1ppt=_reach(d.reaches.get(1.0)),
                        line_1ppt_range=[_reach(d.low.get(1.0)), _reach(d.high.get(1.0))],
                        risk_level=d.risk.level,
                        risk_by=d.risk.by,
                        risk_level_upper=d.risk_high.level,
                        basis=list(d.stations),
                    )
                    for d in ahead.days
                ],
                missing=list(ahead.missing),
                unavailable=None
                if ahead.days
                else "no station of this river has an outlook yet (too short a history, or "
                "no whole day yesterday): no level ahead is stated",
            )
        )
    origin = week.origin
    return OutlookOut(
        made_at=to_rfc3339(week.made_at_ns, VN_TZ),
        origin=origin.isoformat() if origin else None,
        stations=[_station_out(ctx, rules, o) for _, o in sorted(week.stations.items())],
        rivers=rivers,
        tides=TidesOut(
            basis=week.tides.basis,
            device=week.tides.device,
            spring_tides=[
                SpringTideOut(day=s.day.isoformat(), height_m=s.height_m)
                for s in week.tides.springs
            ],
        ),
        flows=[
            FlowOut(device=f.device, name=f.name, days=[(d.isoformat(), v) for d, v in f.days])
            for f in week.flows
        ],
    )
