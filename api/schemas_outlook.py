"""API bodies of the week ahead (GET /api/v1/outlook): the stations' daily peaks ahead, each
river's salt front and risk level per day, the spring tides and the upstream flow."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class DayAheadOut(BaseModel):
    day: str = Field(description="YYYY-MM-DD, Vietnam time")
    lead: int = Field(description="days after the origin (the last whole day known)")
    peak: float | None = Field(description="forecast daily maximum, ‰")
    peak_lower: float | None = Field(description="the band's lower edge (nominal `band`, 90 %)")
    peak_upper: float | None
    low: float | None = Field(description="forecast daily minimum, ‰ (the freshest hours)")
    low_lower: float | None
    low_upper: float | None
    above: Literal["warning", "critical"] | None = Field(
        description="the highest of the station's levels the forecast peak reaches"
    )


class OutlookSkillOut(BaseModel):
    lead: int
    mae: float = Field(description="mean absolute error of the kept outlooks' peaks, ‰")
    mae_persistence: float = Field(description="the same for 'the origin's peak, again'")
    skill: float | None = Field(description="1 − mae / mae_persistence")
    scored: int = Field(description="outlooks scored at this lead")


class StationOutlookOut(BaseModel):
    station: str
    name: str
    river: str | None
    km: float | None
    origin: str = Field(description="the last whole day the outlook knew (YYYY-MM-DD)")
    made_at: str = Field(description="when it was made (RFC 3339)")
    observed_peak: float = Field(description="the origin day's maximum, good readings only")
    observed_low: float
    method: str = Field(
        description="persistence, damped (toward the recent mean), damped+climate (also "
        "toward the date's climatology from earlier seasons), damped+tide (spring–neap, fitted "
        "on the last weeks), damped+springs (with a year of record: the recent mean, the "
        "climatology and the 14.77- and 13.66-day tidal cycles as earlier seasons saw them), "
        "damped+flow (upstream discharge): the one the station's "
        "own recent record chose; never one that erred more than persistence there"
    )
    basis: Literal["climatology", "recent"] = Field(
        description="what it leans toward: earlier seasons' values for the date, or the last "
        "weeks' mean (no earlier season stored)"
    )
    history_days: int = Field(description="whole days with a peak behind it")
    days: list[DayAheadOut]
    skill: list[OutlookSkillOut] = Field(
        description="its kept outlooks of the last `score_days` scored against the days that "
        "followed, per lead"
    )
    coverage: float | None = Field(description="share of scored days inside the band")


class ReachOut(BaseModel):
    km: float | None = Field(description="km from the mouth; null: no station placed the line")
    bound: Literal["", ">", "<"] = Field(
        description='">": past the last station (at least km); "<": short of the first one'
    )


class FrontAheadOut(BaseModel):
    day: str
    lead: int
    line_4ppt: ReachOut = Field(description="the 4 ‰ line from the forecast peaks")
    line_4ppt_range: list[ReachOut] = Field(description="from the bands' lower and upper edges")
    line_1ppt: ReachOut
    line_1ppt_range: list[ReachOut]
    risk_level: int = Field(
        description="QĐ 18/2021 Điều 49 from the forecast lines (indicative: the authorities "
        "declare the level)"
    )
    risk_by: Literal["4ppt", "1ppt"] | None
    risk_level_upper: int = Field(description="the level if the bands' upper edges came true")
    basis: list[str] = Field(
        description="what the day's lines and level rest on: the stations whose outlooks placed "
        "them (the river's others are in `missing`)"
    )


class RiverAheadOut(BaseModel):
    river: str
    name: str
    region: str
    observed_level: int | None = Field(
        description="today's level from the measurements (null: no station reported today)"
    )
    observed_by: Literal["4ppt", "1ppt"] | None
    days: list[FrontAheadOut] = Field(
        description="empty when none of the river's stations has an outlook: then no level ahead "
        "is stated (`unavailable` says why)"
    )
    missing: list[str] = Field(description="the river's stations without an outlook")
    unavailable: str | None


class SpringTideOut(BaseModel):
    day: str
    height_m: float | None = Field(description="the day's highest water (water-level basis only)")


class TidesOut(BaseModel):
    basis: Literal["level", "salinity", "moon"] = Field(
        description="the fitted tide of the water-level station nearest the mouth (heights), "
        "else of the salinity station nearest the mouth (days only), else the Moon (days only)"
    )
    device: str | None
    spring_tides: list[SpringTideOut]


class FlowOut(BaseModel):
    device: str
    name: str
    days: list[tuple[str, float]] = Field(description="daily mean discharge, m³/s, last week")


class OutlookOut(BaseModel):
    made_at: str
    origin: str | None = Field(description="the newest whole day the outlooks knew")
    stations: list[StationOutlookOut]
    rivers: list[RiverAheadOut]
    tides: TidesOut
    flows: list[FlowOut]
