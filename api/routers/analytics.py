"""The salt front (per river: how far the 4 ‰ and 1 ‰ lines reached, the risk level, history),
the stations' forecasts with their safe intake windows, and the daily bulletin."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, HTTPException, Query

from saltwatch.analytics.forecast import StationForecast, forecast_station
from saltwatch.analytics.forecast_store import LiveScore
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.saltfront import (
    FrontDay,
    compute_days,
    day_start_ns,
    forecast_of,
    river_zone,
    rivers_with_stations,
)
from saltwatch.api.auth import AUTH_RESPONSES, Viewer
from saltwatch.api.context import ApiContext
from saltwatch.api.deps import Context, Rules
from saltwatch.api.schemas_analytics import (
    ForecastOut,
    ForecastPoint,
    FrontDayOut,
    FrontOut,
    FrontStationOut,
    RiskOut,
    RiskOverrideOut,
    SkillOut,
    WindowOut,
)
from saltwatch.core.registry import Profile
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_rfc3339
from saltwatch.core.topics import TopicKind

if TYPE_CHECKING:
    pass  # matplotlib: imported when first used

router = APIRouter(prefix="/api/v1", tags=["analytics"], responses=AUTH_RESPONSES)


@router.get(
    "/saltfront",
    response_model=list[FrontOut],
    summary="Per river: km from the mouth reached by the 4 ‰ and 1 ‰ lines, the risk level, "
    "and the daily history",
)
def saltfront(
    ctx: Context,
    in_force: Rules,
    _: Viewer,
    days: Annotated[int, Query(ge=0, le=366, description="days of history before today")] = 30,
) -> list[FrontOut]:
    now = ctx.clock.now_ns()
    minute = now // (60 * NS_PER_S)
    result: list[FrontOut] = ctx.cache.get(
        ("saltfront", days, minute), lambda: _fronts(ctx, in_force(), days)
    )
    return result


def _fronts(ctx: ApiContext, in_force: RuleSet, days: int) -> list[FrontOut]:
    now = ctx.clock.now_ns()
    today_ns = day_start_ns(now)
    rules = in_force.saltfront
    kept, risks = ctx.analytics.fronts(), ctx.analytics.risks()
    out = []
    for river in rivers_with_stations(ctx.registry):
        region_name, region = rules.region_of(river)
        today = kept.get(river)
        if today is None or today.start_ns != today_ns:  # none kept here, or not yet today
            found = compute_days(ctx.store, ctx.registry, river, today_ns, now + 1, region)
            today = found[-1] if found else None
        known = risks.get(river)
        observed = known.observed if known else (today.risk if today else None)
        forecast = known.forecast if known else _kept_forecast(ctx, river, today_ns)
        declared = rules.override.get(river)
        stored = ctx.store.query(
            TopicKind.SALTFRONT, river, today_ns - (days + 1) * 86400 * NS_PER_S, today_ns
        )
        names = {d.id: d.name for d in ctx.registry.stations_on(river)}
        kms = {d.id: d.km or 0.0 for d in ctx.registry.stations_on(river)}
        out.append(
            FrontOut(
                river=river,
                name=ctx.registry.rivers[river].name,
                zone=river_zone(ctx.registry, river),
                today=_day_out(today) if today else None,
                text_4ppt=_text(today, 4.0),
                text_1ppt=_text(today, 1.0),
                stations=sorted(
                    (
                        FrontStationOut(id=s, name=names[s], km=kms[s], max_ppt=v)
                        for s, v in (today.stations if today else {}).items()
                    ),
                    key=lambda s: s.km,
                ),
                history=[
                    FrontDayOut(
                        day=to_rfc3339(r.ts_ns, VN_TZ)[:10],
                        km_4ppt=_float(r.fields.get("km_4ppt")),
                        km_1ppt=_float(r.fields.get("km_1ppt")),
                        risk_level=int(r.fields.get("risk_level", 0)),
                        bound=str(r.fields.get("bound", "")),
                    )
                    for r in stored[-days:]
                    if days
                ],
                risk=[
                    RiskOut(level=r.level, by=r.by, km=_km(r.km), basis=b, region=region_name)
                    for r, b in ((observed, "observed"), (forecast, "forecast"))
                    if r is not None
                ],
                risk_declared=RiskOverrideOut(**declared.model_dump()) if declared else None,
            )
        )
    return out


def _day_out(day: FrontDay) -> FrontDayOut:
    four, one = day.reaches.get(4.0), day.reaches.get(1.0)
    return FrontDayOut(
        day=day.day,
        km_4ppt=round(four.km, 2) if four else None,
        km_1ppt=round(one.km, 2) if one else None,
        risk_level=day.risk.level,
        bound=day.bound,
    )


def _text(day: FrontDay | None, line: float) -> str | None:
    reach = day.reaches.get(line) if day else None
    return reach.text() if reach else None


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _kept_forecast(ctx: ApiContext, river: str, today_ns: int) -> RiskLevel | None:
    """Today's forecast level as the alerts process kept it (no keeper in this process)."""
    rows = ctx.store.query(TopicKind.SALTFRONT, river, today_ns, today_ns + 1)
    return forecast_of(rows[-1]) if rows else None


def _km(km: float | None) -> float | None:
    return round(km, 2) if km is not None else None


@router.get(
    "/forecast/{station}",
    response_model=ForecastOut,
    summary="A station's 48 h salinity forecast with its uncertainty band, and safe intake "
    "windows at intake stations",
    responses={409: {"description": "too few recent readings to fit a forecast"}},
)
def forecast(ctx: Context, in_force: Rules, _: Viewer, station: str) -> ForecastOut:
    device = ctx.registry.device(station)
    if device is None or device.kind != "salinity":
        raise HTTPException(404, "no such salinity station")
    now = ctx.clock.now_ns()
    kept = ctx.analytics.forecasts().get(station)
    if kept is None or now - kept.forecast.fitted_at_ns > 3600 * NS_PER_S:
        rules = in_force()
        minute = now // (60 * NS_PER_S)
        kept = ctx.cache.get(
            ("forecast", station, minute),
            lambda: forecast_station(ctx.store, ctx.registry, device, rules, now),
        )
    if kept is None:
        raise HTTPException(409, "too few recent good readings to fit a forecast")
    return _forecast_out(kept)


def _forecast_out(found: StationForecast) -> ForecastOut:
    f = found.forecast
    at = f.first_above(found.level)
    return ForecastOut(
        station=found.station.id,
        name=found.station.name,
        fitted_at=to_rfc3339(f.fitted_at_ns, VN_TZ),
        readings_used=f.points,
        method=f.method,
        sigma_log=round(f.spread_log(), 4),
        skill=_skill_out(found.score),
        reliable=found.reliable,
        unreliable_because=(found.score.reason or None) if found.score else "not scored",
        level=found.level,
        reaches_level_at=to_rfc3339(at, VN_TZ) if at is not None else None,
        intake_threshold=found.threshold if found.station.profile is Profile.INTAKE else None,
        windows=[
            WindowOut(
                start=to_rfc3339(w.start_ns, VN_TZ),
                end=to_rfc3339(w.end_ns, VN_TZ),
                hours=round(w.hours, 2),
                precision=_r(found.edge.precision),
            )
            for w in found.windows
        ],
        window_edge=found.edge.q,
        points=[
            ForecastPoint(
                ts=to_rfc3339(int(t), VN_TZ),
                mean=round(float(m), 3),
                lower=round(float(lo), 3),
                upper=round(float(hi), 3),
            )
            for t, m, lo, hi in zip(f.ts_ns, f.mean, f.lower, f.upper, strict=True)
        ],
    )


def _r(value: float | None, digits: int = 4) -> float | None:
    return round(value, digits) if value is not None else None


def _skill_out(score: LiveScore | None) -> SkillOut | None:
    if score is None:
        return None
    t = score.tally
    r = _r
    return SkillOut(
        days=score.days,
        forecasts=t.forecasts,
        mae_24h=r(t.mae),
        mae_24h_persistence=r(t.mae_persistence),
        skill=r(t.skill),
        band_coverage=r(t.coverage),
        window_precision=r(t.precision),
        window_recall=r(t.recall),
    )
