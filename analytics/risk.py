"""The disaster risk level of saltwater intrusion as Decision 18/2021/QĐ-TTg, Điều 49, writes it
(docs/domain.md §1.3): from how far the 1 ‰ and the 4 ‰ lines reach inland, measured from the river
mouth, with criteria that differ by region. The level is the highest that either line reaches.

The law's criteria are about the *forecast* line; computed from measurements the level is
indicative only ("cấp độ rủi ro tham khảo"): the authorities declare the level, and may set it
otherwise (khoản 5: salt most of the year or on more than 2/3 of the area; Điều 4 khoản 4:
compound hazards may raise it by one or two). SaltWatch computes, it never declares.

The table is data (``RegionCriteria``), configurable per river in ``[saltfront]`` of the rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from saltwatch.core.risk_rules import RiskCriterion, RiskRegion

Line = Literal["4ppt", "1ppt"]
LINE_PPT: dict[Line, float] = {"4ppt": 4.0, "1ppt": 1.0}
LINE_TEXT: dict[str, str] = {"4ppt": "4‰", "1ppt": "1‰"}


class ReachLike(Protocol):
    @property
    def km(self) -> float: ...

    @property
    def bound(self) -> str:
        """ "": exact; ">": beyond ``km`` (past the last station); "<": short of it."""
        ...


Criterion = RiskCriterion
RegionCriteria = RiskRegion


@dataclass(frozen=True, slots=True)
class RiskLevel:
    level: int  # 0: below every criterion
    by: Line | None  # the line that gave it (the 4 ‰ line when both give the same level)
    km: float | None  # how far that line reached


def meets(reach: ReachLike | None, criterion: Criterion) -> bool:
    """Whether a line that reached ``reach`` meets ``criterion``. A reach past the last station
    (">") is known to lie beyond its km; one short of the first station ("<") meets nothing."""
    if reach is None or reach.bound == "<":
        return False
    if reach.bound == ">":
        return reach.km >= criterion.beyond_km
    if criterion.inclusive:
        return reach.km >= criterion.beyond_km
    return reach.km > criterion.beyond_km


def line_level(reach: ReachLike | None, criteria: tuple[Criterion, ...]) -> int:
    return max((c.level for c in criteria if meets(reach, c)), default=0)


def risk_level(reaches: dict[Line, ReachLike | None], region: RegionCriteria) -> RiskLevel:
    """The level from both lines: the highest either reaches."""
    best = RiskLevel(0, None, None)
    lines: list[tuple[Line, tuple[Criterion, ...]]] = [
        ("4ppt", region.line_4ppt),
        ("1ppt", region.line_1ppt),
    ]
    for line, criteria in lines:
        reach = reaches.get(line)
        level = line_level(reach, criteria)
        if level > best.level and reach is not None:
            best = RiskLevel(level, line, reach.km)
    return best
