"""The salt front: how far inland the 4 ‰ and 1 ‰ lines reached on each river, and the risk
level of Decision 18/2021/QĐ-TTg that follows from both (analytics/risk.py): *observed* from the
day's maxima, *forecast* from the stations' 48 h forecasts. Both are indicative: the
authorities declare the level; an admin may record a declared one (``[saltfront.override]``).

Per river, the registry's stations ordered by km from the mouth; each station's maximum of the
day (good readings only: QC-flagged ones never move the front); each line's reach from them as
analytics/reach.py draws it (never extrapolated past the stations).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from saltwatch.alerts.model import Fingerprint, Observation, Severity
from saltwatch.analytics.reach import LINES_PPT, Reach, furthest, level_of, line_reach
from saltwatch.analytics.risk import Line, RegionCriteria, RiskLevel
from saltwatch.core.clock import Clock
from saltwatch.core.qc import good_value
from saltwatch.core.registry import Registry
from saltwatch.core.risk_rules import RiskOverride, SaltFrontRules
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading


@dataclass
class FrontDay:
    river: str
    day: str  # YYYY-MM-DD, Vietnam time
    start_ns: int
    reaches: dict[float, Reach | None]  # by line (‰)
    risk: RiskLevel  # observed: from the day's maxima
    stations: dict[str, float] = field(default_factory=dict)  # daily max ‰ of each good station
    forecast: RiskLevel | None = None  # from the stations' forecasts, as last computed that day

    @property
    def bound(self) -> str:
        return ",".join(
            f"{_field(line)}{r.bound}" for line, r in self.reaches.items() if r and r.bound
        )

    def reading(self) -> Reading:
        """The day as one ``saltfront`` point (time: the day's start, Vietnam time)."""
        fields: dict[str, float | int | bool | str] = {
            "risk_level": self.risk.level,
            "risk_by": self.risk.by or "",
            "bound": self.bound,
        }
        for line, reach in self.reaches.items():
            if reach is not None:
                fields[_field(line)] = round(reach.km, 2)
        if self.forecast is not None:
            fields["forecast_level"] = self.forecast.level
            fields["forecast_by"] = self.forecast.by or ""
        return Reading(TopicKind.SALTFRONT, self.river, self.start_ns, fields, river=self.river)


def forecast_of(stored: Reading) -> RiskLevel | None:
    """The forecast level kept in a stored ``saltfront`` day (None: none was kept)."""
    level, by = stored.fields.get("forecast_level"), stored.fields.get("forecast_by")
    if not isinstance(level, int) or isinstance(level, bool):
        return None
    line: Line | None = "4ppt" if by == "4ppt" else "1ppt" if by == "1ppt" else None
    return RiskLevel(level, line, None)


def _field(line_ppt: float) -> str:
    return f"km_{line_ppt:g}ppt"


def day_start_ns(ts_ns: int) -> int:
    """Midnight (Vietnam time) of the day holding ``ts_ns``."""
    moment = datetime.fromtimestamp(ts_ns / NS_PER_S, VN_TZ)
    return int(moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()) * NS_PER_S


def compute_days(
    store: ReadingStore,
    registry: Registry,
    river: str,
    start_ns: int,
    end_ns: int,
    region: RegionCriteria,
) -> list[FrontDay]:
    """The front of every Vietnam-time day that begins in ``[start_ns, end_ns)`` (a day still
    under way counts what it has so far). One query per station for the whole range."""
    first = day_start_ns(start_ns)
    daily: dict[int, dict[str, tuple[float, float]]] = {}  # day → station → (km, max)
    for station in registry.stations_on(river):
        if station.km is None:
            continue
        for r in _readings(store, station.id, first, end_ns):
            value = good_value(r, "salinity_ppt")
            if value is None:
                continue
            day = daily.setdefault(day_start_ns(r.ts_ns), {})
            km, seen = day.get(station.id, (station.km, -math.inf))
            day[station.id] = (km, max(seen, value))
    out = []
    day_ns = first
    while day_ns < end_ns:
        found = daily.get(day_ns, {})
        if found:
            pairs = list(found.values())
            reaches = {line: line_reach(pairs, line) for line in LINES_PPT}
            out.append(
                FrontDay(
                    river,
                    datetime.fromtimestamp(day_ns / NS_PER_S, VN_TZ).date().isoformat(),
                    day_ns,
                    reaches,
                    level_of(reaches, region),
                    {sid: mx for sid, (_, mx) in found.items()},
                )
            )
        day_ns = _next_day(day_ns)
    return out


def _next_day(day_ns: int) -> int:
    moment = datetime.fromtimestamp(day_ns / NS_PER_S, VN_TZ) + timedelta(days=1)
    return int(moment.timestamp()) * NS_PER_S


def _readings(store: ReadingStore, station: str, start_ns: int, end_ns: int) -> list[Reading]:
    """Every reading of the range, in pages (a season of 15-minute readings is ~9,000)."""
    out: list[Reading] = []
    page = 20_000
    while True:
        rows = store.query(TopicKind.SALINITY, station, start_ns, end_ns, page)
        out.extend(rows)
        if len(rows) < page:
            return out
        start_ns = rows[-1].ts_ns + 1


def rivers_with_stations(registry: Registry) -> list[str]:
    return sorted(
        river
        for river in registry.rivers
        if sum(1 for d in registry.stations_on(river) if d.km is not None) >= 1
    )


SEVERITY_OF_LEVEL: tuple[Severity, ...] = ("info", "warning", "critical")


def severity_of(level: int) -> Severity | None:
    """Level 1 info, 2 warning, 3 and up critical; 0: no alert."""
    return SEVERITY_OF_LEVEL[min(level, len(SEVERITY_OF_LEVEL)) - 1] if level >= 1 else None


def river_zone(registry: Registry, river: str) -> str:
    """The smallest zone holding every station of the river (their common ancestor)."""
    chains = [[d.zone, *registry.ancestors(d.zone)] for d in registry.stations_on(river)]
    if not chains:
        return "unassigned"
    common = set(chains[0]).intersection(*chains[1:])
    return next((z for z in chains[0] if z in common), chains[0][-1])


@dataclass(frozen=True)
class RiverRisk:
    """A river's risk level now: observed (today's maxima), forecast (the stations' 48 h
    forecasts), and one declared by people when an admin recorded it."""

    region: str
    observed: RiskLevel
    forecast: RiskLevel | None  # None: no forecast of the river's stations yet
    declared: RiskOverride | None = None

    @property
    def alert_level(self) -> tuple[int, str, str, float | None]:
        """(level, line, basis, km) the river's alert carries: a declared level as it is,
        otherwise the higher of the observed and the forecast one."""
        if self.declared is not None:
            return self.declared.level, "", "declared", None
        best, basis = self.observed, "observed"
        if self.forecast is not None and self.forecast.level > best.level:
            best, basis = self.forecast, "forecast"
        return best.level, best.by or "", basis, best.km


def forecast_risk(
    registry: Registry, river: str, peaks: dict[str, float], region: RegionCriteria
) -> RiskLevel | None:
    """The level of the forecast lines: each station's highest forecast salinity over the
    horizon (``peaks``, ‰ by station id) placed along the river; None without any."""
    stations = registry.stations_on(river)
    pairs = [(d.km, peaks[d.id]) for d in stations if d.km is not None and d.id in peaks]
    if not pairs:
        return None
    return level_of({line: line_reach(pairs, line) for line in LINES_PPT}, region)


class FrontKeeper:
    """Keeps each river's daily front in the store (measurement ``saltfront``) and judges it:
    one ``saltfront-risk`` alert per river whose severity and level follow the level reached
    (observed, forecast, or declared), changing in place; and one when the 4 ‰ line moved
    inland faster than ``advance_km_per_day`` from one whole day to the next."""

    def __init__(
        self,
        store: ReadingStore,
        registry: Registry,
        rules: Callable[[], SaltFrontRules],
        clock: Clock,
        history_days: int = 30,
        forecast_peaks: Callable[[], dict[str, float]] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.rules = rules
        self.clock = clock
        self.history_days = history_days
        self.forecast_peaks = forecast_peaks
        self.recent: dict[str, list[FrontDay]] = {}  # per river, oldest first, the last 3 days
        self.risks: dict[str, RiverRisk] = {}
        self._zones = {r: river_zone(registry, r) for r in rivers_with_stations(registry)}

    def update(self) -> list[tuple[Observation, str]]:
        """Compute the days since the last stored one (that one again: it may have been
        partial), write them, and return the observations for the alert engine."""
        now = self.clock.now_ns()
        rules = self.rules()
        stored = self.store.latest(TopicKind.SALTFRONT)
        observations: list[tuple[Observation, str]] = []
        for river, zone in self._zones.items():
            known = self.recent.get(river)
            if known:
                start = known[-1].start_ns
            elif river in stored:
                start = stored[river].ts_ns
            else:
                start = now - self.history_days * 86400 * NS_PER_S
            _, region = rules.region_of(river)
            days = compute_days(self.store, self.registry, river, start, now + 1, region)
            if days:
                by_start = {d.start_ns: d for d in (known or [])}
                by_start.update((d.start_ns, d) for d in days)
                self.recent[river] = [by_start[k] for k in sorted(by_start)][-3:]
            risk = self.risk(river, rules)
            if days:
                days[-1].forecast = risk.forecast  # today's forecast level, kept with the day
                self.store.write([d.reading() for d in days])
            observations.extend((obs, zone) for obs in self._judge(river, now, rules, risk))
        return observations

    def risk(self, river: str, rules: SaltFrontRules) -> RiverRisk:
        """The river's levels now, from the last day and a half (a new day's first hours do
        not reset it) and the latest forecasts."""
        name, region = rules.region_of(river)
        days = self.recent.get(river, [])
        current = days[-2:] if len(days) >= 2 else days
        reaches = {line: furthest(d.reaches[line] for d in current) for line in LINES_PPT}
        peaks = self.forecast_peaks() if self.forecast_peaks else {}
        return RiverRisk(
            name,
            level_of(reaches, region),
            forecast_risk(self.registry, river, peaks, region),
            rules.override.get(river),
        )

    def _judge(
        self, river: str, now: int, rules: SaltFrontRules, risk: RiverRisk
    ) -> list[Observation]:
        days = self.recent.get(river, [])
        if not days:
            return []
        self.risks[river] = risk
        level, line, basis, km = risk.alert_level
        out = [
            Observation(
                fingerprint=Fingerprint("saltfront-risk", river),
                rule="saltfront-risk",
                kind="saltfront",
                device="",
                severity=severity_of(level),
                value=float(level),
                threshold=round(km, 1) if km is not None else None,
                unit=f"level:{line}:{basis}",
                since_ns=now,
                at_ns=now,
            )
        ]
        complete = [d for d in days if _next_day(d.start_ns) <= now]
        if len(complete) >= 2:
            before, last = complete[-2].reaches[4.0], complete[-1].reaches[4.0]
            moved = last.km - before.km if last and before else 0.0
            fast = moved > rules.advance_km_per_day and not (last and last.bound == "<")
            out.append(
                Observation(
                    fingerprint=Fingerprint("saltfront-advance", river),
                    rule="saltfront-advance",
                    kind="saltfront",
                    device="",
                    severity="warning" if fast else None,
                    value=round(moved, 1),
                    threshold=rules.advance_km_per_day,
                    unit="km",
                    since_ns=now,
                    at_ns=now,
                )
            )
        return out

    def latest(self) -> dict[str, FrontDay]:
        return {river: days[-1] for river, days in self.recent.items() if days}
