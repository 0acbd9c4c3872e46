"""Warnings ahead, from the week-ahead outlook (analytics/outlook_job.py, front_ahead.py):

- ``outlook-exceedance`` (kind ``forecast``, grouped with the station's other salt alerts): a
  station now below its ``[forecast] exceedance`` level whose forecast daily peak reaches it
  within the week; value = the lead in days, unit ``d:likely`` when that day's whole band is
  above the level, else ``d:possible``.
- ``outlook-structure`` (kind ``forecast``, the guard station's): the same for a structure's
  limit (a sluice that will have to stay shut).
- ``outlook-risk`` (kind ``saltfront``, per river): the indicative risk level from the forecast
  lines above today's observed one within the week; value = the level, threshold = the lead in
  days, unit ``level:<line>:outlook-likely`` when the bands' lower edges reach it too.

Each update says of every subject whether it holds (a resolved warning once it no longer does).
"""

from __future__ import annotations

import math

from saltwatch.alerts.model import Fingerprint, Observation
from saltwatch.analytics.front_ahead import RiverAhead, fronts_ahead
from saltwatch.analytics.outlook_kept import DayAhead, StationOutlook
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.saltfront import river_zone
from saltwatch.analytics.week import current
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet


def _coming(outlook: StationOutlook, limit: float) -> tuple[DayAhead, bool] | None:
    """The first day ahead whose forecast peak reaches ``limit`` while the origin day stayed
    below it, and whether its whole band did."""
    if not outlook.observed_peak < limit:
        return None  # already there: the salinity alerts speak
    for day in outlook.days:
        if math.isfinite(day.peak) and day.peak >= limit:
            return day, math.isfinite(day.peak_lower) and day.peak_lower >= limit
    return None


def _observation(
    rule: str, subject: str, device: str, kind: str, found: tuple[DayAhead, bool] | None,
    limit: float, now: int,
) -> Observation:  # fmt: skip
    day, likely = found if found else (None, False)
    return Observation(
        fingerprint=Fingerprint(rule, subject),
        rule=rule,
        kind=kind,
        device=device,
        severity="warning" if day is not None else None,
        value=float(day.lead) if day is not None else None,
        threshold=limit,
        unit=f"d:{'likely' if likely else 'possible'}",
        since_ns=now,
        at_ns=now,
    )


def station_warnings(
    outlooks: dict[str, StationOutlook], registry: Registry, rules: RuleSet, now: int
) -> list[Observation]:
    out = []
    for sid, o in outlooks.items():
        device = registry.devices.get(sid)
        if device is None or device.profile is None:
            continue
        levels = rules.levels_for(device, registry, o.days[0].day.month if o.days else 1)
        if not levels.alerts:
            continue  # a watch station: nobody operates anything where it stands
        limit = levels.level(rules.forecast.exceedance)
        out.append(
            _observation("outlook-exceedance", sid, sid, "forecast", _coming(o, limit), limit, now)
        )
    for structure in registry.structures.values():
        guard = outlooks.get(structure.guard)
        if guard is None:
            continue
        limit = rules.structure_limit(structure)
        found = _coming(guard, limit)
        out.append(
            _observation("outlook-structure", structure.id, structure.guard, "forecast", found,
                         limit, now)
        )  # fmt: skip
    return out


def risk_warnings(
    rivers: dict[str, RiverAhead], observed: dict[str, RiskLevel], now: int
) -> list[Observation]:
    """A river whose level ahead rises above today's; not judged without today's level."""
    out = []
    for river, ahead in rivers.items():
        today = observed.get(river)
        if today is None:
            continue
        rising = next((d for d in ahead.days if d.risk.level > today.level), None)
        likely = rising is not None and rising.risk_low.level >= rising.risk.level
        out.append(
            Observation(
                fingerprint=Fingerprint("outlook-risk", river),
                rule="outlook-risk",
                kind="saltfront",
                device="",
                severity="warning" if rising is not None else None,
                value=float(rising.risk.level) if rising is not None else None,
                threshold=float(rising.lead) if rising is not None else None,
                unit=(
                    f"level:{rising.risk.by or ''}:outlook-{'likely' if likely else 'possible'}"
                    if rising is not None
                    else "level::outlook"
                ),
                since_ns=now,
                at_ns=now,
            )
        )
    return out


def warnings_ahead(
    outlooks: dict[str, StationOutlook],
    registry: Registry,
    rules: RuleSet,
    observed: dict[str, RiskLevel],
    now: int,
) -> list[tuple[Observation, str | None]]:
    """Every warning ahead from the outlooks still current (analytics/week.py ``current``),
    with its zone: a river's goes where its risk alert goes (the zone holding its stations)."""
    fresh = current(outlooks, now)
    rivers = risk_warnings(fronts_ahead(registry, fresh, rules.saltfront), observed, now)
    return [(o, None) for o in station_warnings(fresh, registry, rules, now)] + [
        (o, river_zone(registry, o.fingerprint.subject)) for o in rivers
    ]
