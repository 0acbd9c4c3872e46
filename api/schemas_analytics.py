"""API bodies of the salt front and the forecasts (GET /api/v1/saltfront, /forecast/{station})."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class FrontStationOut(BaseModel):
    id: str
    name: str
    km: float
    max_ppt: float = Field(description="the station's maximum of the day, good readings only")


class FrontDayOut(BaseModel):
    day: str = Field(description="YYYY-MM-DD, Vietnam time")
    km_4ppt: float | None = Field(description="km from the mouth reached by the 4 ‰ line")
    km_1ppt: float | None = Field(description="km from the mouth reached by the 1 ‰ line")
    risk_level: int = Field(
        description="0–4, observed: QĐ 18/2021/QĐ-TTg Điều 49 from the day's 4 ‰ and 1 ‰ reaches "
        "(indicative: the authorities declare the level)"
    )
    bound: str = Field(
        description="lines that passed the last station (km_4ppt>) or not even the first "
        "(km_4ppt<): their km is then a bound, not a position; empty when interpolated"
    )


class RiskOut(BaseModel):
    """One indicative risk level of a river (docs/interface.md)."""

    level: int = Field(description="0–4 (QĐ 18/2021/QĐ-TTg Điều 49); 0: below level 1")
    by: Literal["4ppt", "1ppt"] | None = Field(description="the line that gave the level")
    km: float | None = Field(description="how far that line reached from the mouth")
    basis: Literal["observed", "forecast"] = Field(
        description="observed: today's maxima (the last day and a half); forecast: the stations' "
        "48 h forecasts (the law's criteria are about the forecast line)"
    )
    region: str = Field(description="whose criteria: nam-bo (Mekong Delta), trung-bo, bac-bo")


class RiskOverrideOut(BaseModel):
    level: int
    reason: str
    by: str


class FrontOut(BaseModel):
    river: str
    name: str
    zone: str = Field(description="the zone its alerts go to: the smallest holding its stations")
    today: FrontDayOut | None = Field(description="the current day so far")
    text_4ppt: str | None = Field(description='the 4 ‰ reach as text, e.g. "> 64 km"')
    text_1ppt: str | None
    stations: list[FrontStationOut] = Field(description="today's station maxima, from the mouth")
    history: list[FrontDayOut] = Field(description="earlier days, oldest first")
    risk: list[RiskOut] = Field(
        description="the indicative level from the observed line, then (once forecasts exist) "
        "from the forecast line"
    )
    risk_declared: RiskOverrideOut | None = Field(
        description="a level declared by the authorities and recorded by an admin (rules "
        "[saltfront.override]); it is what the river's alert carries"
    )


class ForecastPoint(BaseModel):
    ts: str
    mean: float = Field(description="forecast salinity, ‰")
    lower: float = Field(description="the band's lower edge, ‰")
    upper: float = Field(description="the band's upper edge, ‰")


class WindowOut(BaseModel):
    start: str
    end: str
    hours: float
    precision: float | None = Field(
        description="the share of the time inside the windows the station's past forecasts "
        "announced from the same band edge that was truly below the intake threshold (null: "
        "not scored yet; the windows are then read from the upper edge)"
    )


class SkillOut(BaseModel):
    """The live score of a station's kept forecasts (docs/interface.md)."""

    days: float = Field(description="scored over this many days back")
    forecasts: int = Field(description="forecasts with at least one reading after them")
    mae_24h: float | None = Field(description="mean absolute error over their first 24 h, ‰")
    mae_24h_persistence: float | None = Field(
        description="the same for tidal-day persistence (the value 24 h 50 min earlier), ‰"
    )
    skill: float | None = Field(description="1 − mae_24h / mae_24h_persistence; > 0 is better")
    band_coverage: float | None = Field(description="share of readings inside the band")
    window_precision: float | None = Field(
        description="share of the time inside safe windows found that was truly below the "
        "intake threshold"
    )
    window_recall: float | None = Field(
        description="share of the truly safe time (within the windows' horizon) that was found"
    )


class ForecastOut(BaseModel):
    station: str
    name: str
    fitted_at: str
    readings_used: int
    method: str = Field(
        description='"learned" (tidal-day persistence with a correction learned from the '
        'station\'s recent errors) or "persistence" where that correction did not beat it'
    )
    sigma_log: float = Field(description="half the band's width at 24 h, log salinity")
    skill: SkillOut | None = Field(description="the live score of past forecasts")
    reliable: bool = Field(
        description="the live score earns intake window notices (skill ≥ 0, window precision "
        "≥ 90 %, enough forecasts scored); false: draw as not yet reliable"
    )
    unreliable_because: str | None = Field(description="why not reliable")
    level: float = Field(description="the level a forecast alert is about, ‰")
    reaches_level_at: str | None = Field(description="when the forecast mean first reaches it")
    intake_threshold: float | None = Field(description="intake stations: safe below this, ‰")
    windows: list[WindowOut] = Field(
        description="safe intake windows found (intake stations); notices are sent only when "
        "reliable"
    )
    window_edge: float = Field(
        description="the band edge the windows are read from: 1 the upper edge, 0 the mean, "
        "−1 the lower edge; the lowest edge whose windows were right at the asked precision "
        "(rules forecast.window_precision) on the station's own past forecasts"
    )
    points: list[ForecastPoint]
