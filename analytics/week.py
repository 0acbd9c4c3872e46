"""The week ahead as one picture: every station's outlook, each river's front and risk level
per day beside today's observed level, the spring tides, the upstream flow, and what last week's
outlooks were worth. The API (``/api/v1/outlook``) and the weekly bulletin both show this."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

from saltwatch.analytics.front_ahead import RiverAhead, fronts_ahead
from saltwatch.analytics.outlook_job import daily
from saltwatch.analytics.outlook_kept import StationOutlook, vn_date
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.tides_ahead import TideCalendar, calendar
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet, Severity
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind

_FLOW_BACK_DAYS = 7  # the upstream flow shown: its daily means of the last week
_TIDE_DAYS = 15  # spring tides looked for this far ahead: the next one, even past the week


@dataclass(frozen=True)
class Flow:
    """A river station's daily mean discharge (m³/s) over the last days, oldest first."""

    device: str
    name: str
    days: tuple[tuple[date, float], ...]


@dataclass(frozen=True)
class WeekAhead:
    made_at_ns: int
    stations: dict[str, StationOutlook]
    rivers: dict[str, RiverAhead]
    observed: dict[str, RiskLevel]  # each river's level from today's measurements
    tides: TideCalendar
    flows: tuple[Flow, ...]

    @property
    def origin(self) -> date | None:
        """The newest whole day the outlooks knew."""
        return max((o.origin for o in self.stations.values()), default=None)


def flows(store: ReadingStore, registry: Registry, now_ns: int) -> tuple[Flow, ...]:
    today = vn_date(now_ns)
    first = today - timedelta(days=_FLOW_BACK_DAYS)
    out = []
    for device in registry.devices_of("hydro"):
        _, _, mean = daily(
            store, TopicKind.HYDRO, device.id, "discharge_m3s", first, today - timedelta(days=1), 1
        )
        days = tuple(
            (first + timedelta(days=i), round(float(v), 1))
            for i, v in enumerate(mean)
            if math.isfinite(v)
        )
        if days:
            out.append(Flow(device.id, device.name, days))
    return tuple(out)


def level_reached(
    registry: Registry, rules: RuleSet, station: str, value: float, day: date
) -> Severity | None:
    """The highest of the station's levels (in force that month) that ``value`` reaches."""
    device = registry.devices.get(station)
    if device is None or device.profile is None or not math.isfinite(value):
        return None
    levels = rules.levels_for(device, registry, day.month)
    if value >= levels.critical:
        return "critical"
    return "warning" if value >= levels.warning else None


def current(outlooks: dict[str, StationOutlook], now_ns: int) -> dict[str, StationOutlook]:
    """Outlooks older than the day before yesterday's origin are left out: they no longer
    speak of the coming week (a station that stopped reporting has none)."""
    fresh_from = vn_date(now_ns) - timedelta(days=2)
    return {sid: o for sid, o in outlooks.items() if o.origin >= fresh_from}


def week_ahead(
    store: ReadingStore,
    registry: Registry,
    rules: RuleSet,
    outlooks: dict[str, StationOutlook],
    observed: dict[str, RiskLevel],
    now_ns: int,
) -> WeekAhead:
    """The week from the ``current`` outlooks."""
    fresh = current(outlooks, now_ns)
    return WeekAhead(
        now_ns,
        fresh,
        fronts_ahead(registry, fresh, rules.saltfront),
        observed,
        calendar(store, registry, now_ns, max(_TIDE_DAYS, rules.outlook.horizon_days)),
        flows(store, registry, now_ns),
    )
