"""Request and response bodies of the HTTP API (docs/interface.md §5), separate from domain
types."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["info", "warning", "critical"]


class SourceHealth(BaseModel):
    name: str
    lag_s: float | None = Field(description="seconds since its newest reading landed")
    stale: bool = Field(description="nothing landed for longer than its stale_after")
    failing: bool = Field(description="its last poll failed")


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
    alert_changes_waiting: int = Field(
        0,
        description="sets of alert changes judged while the state could not be saved, waiting "
        "in memory to be saved and told in order",
    )
    spool_disk_full: bool = Field(
        False,
        description="true while the spool's disk is full or read-only and the store away: "
        "ingest holds acknowledgements (the broker keeps the messages) until it can write",
    )
    sources: list[SourceHealth] = Field(
        default_factory=list,
        description="each polled source (docs/sources.md): degraded while one is stale",
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


class LevelsOut(BaseModel):
    """A station's salinity levels in force now: its use profile's, with the device, zone and
    season overrides applied, as the alert rules judge it."""

    warning: float = Field(description="‰; at or above it a warning alert is raised")
    critical: float = Field(description="‰; at or above it a critical alert is raised")


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
    levels: LevelsOut | None = Field(
        description="the levels in force now (None: a station without a use profile)"
    )


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
        description="the alerts that share its cause carry the same group (docs/interface.md): "
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
