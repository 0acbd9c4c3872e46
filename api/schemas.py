"""Request and response bodies of the HTTP API (CONTRACT §5), separate from domain types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "critical"]


class Health(BaseModel):
    status: Literal["ok", "degraded"]
    store: bool
    broker: bool | None = Field(None, description="null when this process has no MQTT client")
    now: str = Field(description="the server's time, RFC 3339 (the demo's runs accelerated)")
    clock_rate: float = Field(1.0, description="server seconds per real second (1 but in a demo)")
    quarantined: list[str] = Field(
        default_factory=list,
        description="spool files that could not be read back, moved to spool/quarantine/",
    )
    alert_state_saved: bool = Field(
        True, description="false while alert changes cannot be saved (they wait, none is lost)"
    )


class ZoneOut(BaseModel):
    id: str
    name: str
    name_en: str | None
    kind: str
    parent: str | None
    legacy: bool
    worst_severity: Severity | None = Field(description="worst active alert here or below")
    active_alerts: int


class LatestReading(BaseModel):
    ts: str
    values: dict[str, float | int | bool | str]
    qc: int


class StationOut(BaseModel):
    id: str
    name: str
    zone: str
    also_zones: list[str]
    river: str | None
    km: float | None
    lat: float | None
    lon: float | None
    approx_location: bool
    profile: str | None
    reports: str
    latest: LatestReading | None


class DeviceLatestOut(BaseModel):
    id: str
    name: str
    zone: str
    lat: float | None
    lon: float | None
    latest: LatestReading | None


class ReadingPoint(BaseModel):
    ts: str
    values: dict[str, float | int | bool | str]
    qc: int


class AggregatePoint(BaseModel):
    ts: str = Field(description="start of the bucket")
    min: float
    mean: float
    max: float
    count: int


class ReadingsOut(BaseModel):
    station: str
    start: str
    end: str
    every: str | None
    readings: list[ReadingPoint] | None = None
    aggregates: list[AggregatePoint] | None = None


class AlertOut(BaseModel):
    id: str
    fingerprint: str
    rule: str
    kind: str
    severity: Severity
    state: Literal["pending", "firing", "acknowledged", "resolved"]
    zone: str
    zone_name: str
    device: str | None
    value: float | None
    threshold: float | None
    unit: str
    started_at: str
    updated_at: str
    resolved_at: str | None
    acked_by: str | None
    acked_note: str | None
    late: bool
    message_vi: str = Field(description="what it is about, in plain Vietnamese")
    message_en: str = Field(description="the same in English")
    group: str = Field(
        description="the alerts that share its cause carry the same group (CONTRACT §7): "
        "`nodata:<zone>`, `salinity:<station>`, `ingest:broker`, …; otherwise its fingerprint"
    )


class AlertPage(BaseModel):
    items: list[AlertOut]
    total: int
    offset: int
    limit: int


class AckIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    by: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="kept as a note: who acknowledged is the token's name",
    )
    note: str | None = Field(None, max_length=1000)


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zone: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    device: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    rule: str | None = Field(None, pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    minutes: int | None = Field(
        None, gt=0, le=60 * 24 * 30, description="how long it lasts from its start (or ends_at)"
    )
    starts_at: str | None = Field(
        None,
        description="RFC 3339; a maintenance window scheduled ahead starts then (default: now; "
        "a time already past starts it now)",
    )
    ends_at: str | None = Field(None, description="RFC 3339: when it ends (or minutes)")
    author: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        description="kept in the audit log only: the silence's author is the token's name",
    )
    reason: str = Field(min_length=1, max_length=1000)


class SilenceOut(BaseModel):
    id: str
    zone: str | None
    device: str | None
    rule: str | None
    starts_at: str
    ends_at: str
    author: str
    reason: str
    active: bool


class RejectionOut(BaseModel):
    at: str
    topic: str
    reason: str
    detail: str
    payload_head: str


class DeviceStatusOut(BaseModel):
    device: str
    online: bool | None
    status_at: str | None
    last_seen: str | None
    last_measured: str | None
    seq_lost: int
    restarts: int


class Problem(BaseModel):
    detail: Any


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
    """One indicative risk level of a river (CONTRACT §7)."""

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
    upper: float = Field(description="the band's upper edge, ‰ (windows are judged on it)")


class WindowOut(BaseModel):
    start: str
    end: str
    hours: float


class SkillOut(BaseModel):
    """The live score of a station's kept forecasts (CONTRACT §7)."""

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
    points: list[ForecastPoint]
