"""The salt front for the days ahead: each river's 4 ‰ and 1 ‰ lines placed from its stations'
week-ahead peaks (analytics/outlook_job.py) as the observed front is placed from the day's
maxima (analytics/saltfront.py ``line_reach``), with a range from the bands' edges, and the
risk level of QĐ 18/2021 Điều 49 for each day from the forecast lines — the law's criteria are
about forecast lines; the level stays indicative, the authorities declare it.

When a river's stations have no outlook the day says so (``missing``) instead of giving a level
that would read as "below level 1".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from saltwatch.analytics.outlook_kept import StationOutlook
from saltwatch.analytics.reach import LINES_PPT, Reach, level_of, line_reach
from saltwatch.analytics.risk import RiskLevel
from saltwatch.core.registry import Registry
from saltwatch.core.risk_rules import SaltFrontRules


@dataclass(frozen=True)
class FrontAhead:
    """One river on one day ahead. ``reaches`` from the forecast peaks, ``low`` and ``high``
    from the lower and upper edges of their bands (the line's range); ``risk`` the law's level
    from ``reaches``, ``risk_high`` and ``risk_low`` the levels if the upper or the lower edges
    came true."""

    river: str
    day: date
    lead: int
    reaches: dict[float, Reach | None]
    low: dict[float, Reach | None]
    high: dict[float, Reach | None]
    risk: RiskLevel
    risk_high: RiskLevel
    risk_low: RiskLevel  # the level if the lower edges came true
    stations: tuple[str, ...]  # whose outlooks placed the lines
    missing: tuple[str, ...]  # the river's stations without an outlook


@dataclass(frozen=True)
class RiverAhead:
    river: str
    region: str
    days: tuple[FrontAhead, ...]  # empty: none of the river's stations has an outlook
    missing: tuple[str, ...]


def fronts_ahead(
    registry: Registry, found: dict[str, StationOutlook], rules: SaltFrontRules
) -> dict[str, RiverAhead]:
    """Every river with stations: its front for each day ahead that its stations' outlooks
    share (outlooks made from different origins are not mixed: the newest origin's count)."""
    out: dict[str, RiverAhead] = {}
    for river in sorted(registry.rivers):
        stations = [d for d in registry.stations_on(river) if d.km is not None]
        if not stations:
            continue
        name, region = rules.region_of(river)
        have = [found[d.id] for d in stations if d.id in found]
        newest = max((o.origin for o in have), default=None)
        used = [o for o in have if o.origin == newest]
        missing = tuple(d.id for d in stations if d.id not in {o.station for o in used})
        km = {d.id: float(d.km) for d in stations if d.km is not None}
        days: list[FrontAhead] = []
        leads = min((len(o.days) for o in used), default=0)
        for i in range(leads):
            parts = {
                edge: [(km[o.station], getattr(o.days[i], edge)) for o in used]
                for edge in ("peak", "peak_lower", "peak_upper")
            }
            lines = {
                edge: {line: line_reach(_finite(pairs), line) for line in LINES_PPT}
                for edge, pairs in parts.items()
            }
            days.append(
                FrontAhead(
                    river,
                    used[0].days[i].day,
                    used[0].days[i].lead,
                    lines["peak"],
                    lines["peak_lower"],
                    lines["peak_upper"],
                    level_of(lines["peak"], region),
                    level_of(lines["peak_upper"], region),
                    level_of(lines["peak_lower"], region),
                    tuple(o.station for o in used),
                    missing,
                )
            )
        out[river] = RiverAhead(river, name, tuple(days), missing)
    return out


def _finite(pairs: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(k, v) for k, v in pairs if math.isfinite(v)]  # a band not known yet places nothing
