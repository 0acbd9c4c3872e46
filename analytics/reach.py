"""How far inland a salinity line reached on a river, from its stations' values: between two
neighbouring stations the line is interpolated on a log scale of salinity (salinity falls
roughly exponentially upstream); beyond the last station the reach is a bound ("> 64 km"), and
below the first one too ("< 6 km"): never extrapolated. And the risk level of Decision
18/2021/QĐ-TTg that follows from the 4 ‰ and 1 ‰ reaches (analytics/risk.py). Shared by the
day's front (analytics/saltfront.py) and the front ahead (analytics/front_ahead.py)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from saltwatch.analytics.risk import RegionCriteria, RiskLevel, risk_level

LINES_PPT = (4.0, 1.0)
_FLOOR_PPT = 1e-3  # fresh water reads ~0: keep the logarithm finite


@dataclass(frozen=True, slots=True)
class Reach:
    """Where one line reached: ``km`` exact (bound ""), at least ``km`` (">": past the last
    station), or at most ``km`` ("<": not even at the first station)."""

    km: float
    bound: str = ""

    def text(self) -> str:
        value = f"{self.km:.1f}".rstrip("0").rstrip(".")
        return f"{self.bound} {value} km" if self.bound else f"{value} km"


def line_reach(stations: Iterable[tuple[float, float]], threshold_ppt: float) -> Reach | None:
    """The reach of the ``threshold_ppt`` line from ``(km, daily max ‰)`` pairs (any order);
    None without any station. Two stations at one km count as the saltier of the two."""
    by_km: dict[float, float] = {}
    for km, ppt in stations:
        by_km[km] = max(ppt, by_km.get(km, -math.inf))
    points = sorted(by_km.items())
    if not points:
        return None
    salty = [i for i, (_, ppt) in enumerate(points) if ppt >= threshold_ppt]
    if not salty:
        return Reach(points[0][0], "<")
    last = salty[-1]  # the furthest station the line passed; above it, fresher than the line
    if last == len(points) - 1:
        return Reach(points[-1][0], ">")
    (k1, s1), (k2, s2) = points[last], points[last + 1]
    if s1 == threshold_ppt:
        return Reach(k1)
    share = math.log(s1 / threshold_ppt) / math.log(s1 / max(s2, _FLOOR_PPT))
    return Reach(k1 + share * (k2 - k1))


def level_of(reaches: dict[float, Reach | None], region: RegionCriteria) -> RiskLevel:
    """The risk level from the 4 ‰ and 1 ‰ reaches."""
    return risk_level({"4ppt": reaches.get(4.0), "1ppt": reaches.get(1.0)}, region)


def furthest(reaches: Iterable[Reach | None]) -> Reach | None:
    """The furthest of ``reaches`` (None: none known)."""
    return max((r for r in reaches if r is not None), key=lambda r: r.km, default=None)
