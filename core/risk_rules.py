"""The salt front's rules (the [saltfront] table of the alert rules, core/rules.py): the risk
level's criteria of QĐ 18/2021/QĐ-TTg, Điều 49, per region (docs/domain.md §1.3), a level
declared by people, and the advance alert."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RiskCriterion(_Model):
    """Level ``level`` when a line reaches beyond ``beyond_km`` from the mouth (or to it, when
    ``inclusive``: the decree's "15 to 25 km" counts 15, its "> 25 to 50 km" does not count 25)."""

    level: int = Field(ge=1, le=5)
    beyond_km: float = Field(ge=0)
    inclusive: bool = False


def _criteria(*rows: tuple[int, float, bool]) -> tuple[RiskCriterion, ...]:
    return tuple(RiskCriterion(level=lv, beyond_km=km, inclusive=inc) for lv, km, inc in rows)


class RiskRegion(_Model):
    """One region's criteria for the 4 ‰ and 1 ‰ lines (QĐ 18/2021/QĐ-TTg, Điều 49)."""

    line_4ppt: tuple[RiskCriterion, ...]
    line_1ppt: tuple[RiskCriterion, ...]


_ONE_PPT = _criteria((1, 25.0, False), (2, 50.0, False), (3, 90.0, False))
#: Điều 49 (docs/domain.md §1.3): the 1 ‰ line alike everywhere; the 4 ‰ line by region
RISK_REGIONS: dict[str, RiskRegion] = {
    "nam-bo": RiskRegion(
        line_4ppt=_criteria((2, 25.0, False), (3, 50.0, False), (4, 90.0, False)),
        line_1ppt=_ONE_PPT,
    ),
    "trung-bo": RiskRegion(  # Trung Trung Bộ and Nam Trung Bộ
        line_4ppt=_criteria((1, 15.0, True), (2, 25.0, False), (3, 50.0, False), (4, 90.0, False)),
        line_1ppt=_ONE_PPT,
    ),
    "bac-bo": RiskRegion(  # Bắc Bộ and Bắc Trung Bộ
        line_4ppt=_criteria((2, 15.0, True), (3, 25.0, False), (4, 50.0, False)),
        line_1ppt=_ONE_PPT,
    ),
}


class RiskOverride(_Model):
    """A level set by people, not computed (khoản 5 of Điều 49; Điều 4 khoản 4): shown and
    alerted as such, with who set it and why."""

    level: int = Field(ge=0, le=5)
    reason: str = Field(min_length=1, max_length=500)
    by: str = Field(min_length=1, max_length=100)


class SaltFrontRules(_Model):
    """The salt front's risk level and advance alert (analytics/saltfront.py, analytics/risk.py)."""

    #: the region whose criteria apply to a river not named in ``river_region``
    region: str
    river_region: dict[str, str] = {}
    regions: dict[str, RiskRegion] = RISK_REGIONS
    #: per river: a level declared by people (admin), which the computed one does not replace
    override: dict[str, RiskOverride] = {}
    #: no longer used: the level comes from ``regions`` (both lines)
    risk_bounds_km: tuple[float, ...] | None = None
    #: a zone-level alert when the 4 ‰ line moves inland faster than this between two days
    advance_km_per_day: float = Field(gt=0)

    @model_validator(mode="after")
    def _known_regions(self) -> SaltFrontRules:
        for name in (self.region, *self.river_region.values()):
            if name not in self.regions:
                raise ValueError(f"unknown region {name!r}: one of {', '.join(self.regions)}")
        return self

    def region_of(self, river: str) -> tuple[str, RiskRegion]:
        name = self.river_region.get(river, self.region)
        return name, self.regions[name]
