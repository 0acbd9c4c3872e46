"""The weekly bulletin's figures ("bản tin dự báo xâm nhập mặn tuần"): from the week ahead
(analytics/week.py), what a provincial bulletin states — each station's highest salinity of
the week with its date and range, each river's 4 ‰ and 1 ‰ reach per day with the communes and
sluices reached, the risk level per day beside today's, the spring tides, the upstream flow,
how last week's outlooks did against "the same as today", and advice. Written out in
analytics/weekly_text.py; issued and kept as issued (analytics/issued.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from saltwatch.analytics.bulletin import covered_zones, in_zones
from saltwatch.analytics.outlook_kept import DayAhead, StationOutlook
from saltwatch.analytics.reach import Reach
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.tides_ahead import SpringTide
from saltwatch.analytics.week import Flow, WeekAhead, level_reached
from saltwatch.core.registry import Profile, Registry
from saltwatch.core.rules import RuleSet

SKILL_LEAD = 3  # last week's outlooks are told by their day-3 peaks


@dataclass(frozen=True)
class StationWeek:
    station: str
    name: str
    zone: str
    peak: float  # the week's highest forecast daily maximum, ‰
    day: date  # …expected on
    until: date  # …and held, as stated to 0.01 ‰, until (``day`` when it is one day's peak)
    lower: float
    upper: float
    level: str | None  # "critical" / "warning": the station's level that peak reaches
    intake_days: tuple[date, ...]  # intake stations: days whose whole band stays below warning


@dataclass(frozen=True)
class FrontWeekDay:
    day: date
    reach_4: Reach | None
    range_4: tuple[Reach | None, Reach | None]
    reach_1: Reach | None
    risk: RiskLevel


@dataclass(frozen=True)
class RiverWeek:
    river: str
    name: str
    observed: RiskLevel | None  # today's, from the measurements
    days: tuple[FrontWeekDay, ...]  # empty: no outlook of its stations (no level stated)
    reached: tuple[str, ...]  # structures the week's furthest 4 ‰ line passes
    communes: tuple[str, ...]  # …and the communes they and the stations passed lie in


@dataclass(frozen=True)
class Scored:
    """Last weeks' outlooks at ``SKILL_LEAD`` days, pooled over the stations."""

    mae: float
    mae_persistence: float
    scored: int


@dataclass(frozen=True)
class WeeklyBulletin:
    first: date
    last: date
    zone: str | None
    made_at_ns: int
    origin: date | None
    stations: tuple[StationWeek, ...]
    rivers: tuple[RiverWeek, ...]
    springs: tuple[SpringTide, ...]
    tide_basis: str
    flows: tuple[Flow, ...]
    scored: Scored | None
    advice: tuple[str, ...]  # keys of weekly_text's advice, with their arguments


def week_start(today: date, weekday: int) -> date:
    """The latest ``weekday`` (0 Monday … 6 Sunday) on or before ``today``."""
    return today - timedelta(days=(today.weekday() - weekday) % 7)


def _station_week(o: StationOutlook, registry: Registry, rules: RuleSet) -> StationWeek | None:
    device = registry.devices[o.station]
    days = [d for d in o.days if math.isfinite(d.peak)]
    if not days:
        return None
    at = max(range(len(days)), key=lambda i: days[i].peak)
    top = days[at]
    first, last = _held(days, at)
    level = level_reached(registry, rules, o.station, top.peak, top.day)
    intake: tuple[date, ...] = ()
    if device.profile == Profile.INTAKE:
        levels = rules.levels_for(device, registry, top.day.month)
        intake = tuple(
            d.day for d in days if math.isfinite(d.peak_upper) and d.peak_upper < levels.warning
        )
    return StationWeek(
        o.station,
        device.name,
        registry.zones[device.zone].name,
        top.peak,
        first,
        last,
        top.peak_lower,
        top.peak_upper,
        level,
        intake,
    )


def _held(days: list[DayAhead], at: int) -> tuple[date, date]:
    """The run of consecutive days around ``days[at]`` whose peak reads the same to 0.01 ‰: a
    forecast that holds all week has no one day of its highest, and a bulletin naming one would
    say what the forecast does not."""

    def same(i: int, j: int) -> bool:  # neighbours in time, read alike
        near = abs((days[j].day - days[i].day).days) == 1
        return near and round(days[j].peak, 2) == round(days[at].peak, 2)

    lo = hi = at
    while lo > 0 and same(lo, lo - 1):
        lo -= 1
    while hi + 1 < len(days) and same(hi, hi + 1):
        hi += 1
    return days[lo].day, days[hi].day


def _river_week(week: WeekAhead, river: str, registry: Registry) -> RiverWeek:
    ahead = week.rivers[river]
    days = tuple(
        FrontWeekDay(d.day, d.reaches.get(4.0), (d.low.get(4.0), d.high.get(4.0)),
                     d.reaches.get(1.0), d.risk)
        for d in ahead.days
    )  # fmt: skip
    furthest = max(
        (d.reach_4.km for d in days if d.reach_4 is not None and d.reach_4.bound != "<"),
        default=None,
    )
    reached: list[str] = []
    communes: list[str] = []
    if furthest is not None:
        for s in sorted(registry.structures.values(), key=lambda s: s.km or 0.0):
            if s.river == river and s.km is not None and s.km <= furthest:
                reached.append(s.name)
                communes.append(registry.zones[s.zone].name)
        for d in registry.stations_on(river):
            if d.km is not None and d.km <= furthest:
                communes.append(registry.zones[d.zone].name)
    return RiverWeek(
        river,
        registry.rivers[river].name,
        week.observed.get(river),
        days,
        tuple(reached),
        tuple(dict.fromkeys(communes)),
    )


def _scored(week: WeekAhead) -> Scored | None:
    rows = [
        o.skill.by_lead[SKILL_LEAD]
        for o in week.stations.values()
        if o.skill is not None and SKILL_LEAD in o.skill.by_lead
    ]
    n = sum(r[2] for r in rows)
    if not n:
        return None
    mae = sum(r[0] * r[2] for r in rows) / n
    base = sum(r[1] * r[2] for r in rows) / n
    return Scored(mae, base, n)


def _advice(
    stations: list[StationWeek], rivers: list[RiverWeek], springs: tuple[SpringTide, ...]
) -> tuple[str, ...]:
    out = []
    salty = any(s.level for s in stations) or any(d.risk.level >= 2 for r in rivers for d in r.days)
    if salty:
        out.append("store")
    if springs:
        out.append("springs")
    if any(s.intake_days for s in stations):
        out.append("intake")
    out.append("check")
    return tuple(out)


def build_weekly(
    week: WeekAhead, registry: Registry, rules: RuleSet, zone: str | None, first: date
) -> WeeklyBulletin:
    """The bulletin of the week from ``first``, for ``zone`` and its sub-zones (all: None)."""
    covered = covered_zones(registry, zone)
    stations = []
    for sid, o in sorted(week.stations.items(), key=lambda kv: registry.devices[kv[0]].km or 0):
        device = registry.devices[sid]
        if not in_zones(device, covered):
            continue
        found = _station_week(o, registry, rules)
        if found is not None:
            stations.append(found)
    rivers = [
        _river_week(week, river, registry)
        for river in week.rivers
        if covered is None or any(in_zones(d, covered) for d in registry.stations_on(river))
    ]
    last = first + timedelta(days=rules.outlook.horizon_days - 1)
    springs = tuple(s for s in week.tides.springs if first <= s.day <= last)
    return WeeklyBulletin(
        first,
        last,
        zone,
        week.made_at_ns,
        week.origin,
        tuple(stations),
        tuple(rivers),
        springs,
        week.tides.basis,
        week.flows,
        _scored(week),
        _advice(stations, rivers, springs),
    )
