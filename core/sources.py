"""What a source of readings is (docs/sources.md): its settings and its declarative mapping —
which registry device a record belongs to (by a field such as a station code, a DevEUI or a
serial, or one fixed device), which field is its time in which format and time zone, and which
fields are which quantities in which units. core/mapping.py applies it to records.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from saltwatch.core.timeutil import duration_seconds

#: Per quantity, the units a source may give it in, each with its factor to the stored unit
#: (lower case, spaces removed). Conductivity is stored in µS/cm: 1 mS/m = 10 µS/cm.
UNITS: Mapping[str, Mapping[str, float]] = {
    "salinity_ppt": {"ppt": 1, "‰": 1, "g/l": 1, "g/kg": 1, "psu": 1, "mg/l": 0.001},
    "chloride_mg_l": {"mg/l": 1, "ppm": 1, "g/l": 1000, "mgcl/l": 1, "mgcl-/l": 1},
    **{
        field: {
            "µs/cm": 1,
            "μs/cm": 1,
            "us/cm": 1,
            "ms/cm": 1000,
            "ms/m": 10,
            "s/m": 10_000,
            "ds/m": 1000,
        }
        for field in ("ec_us_cm", "ec25_us_cm")
    },
    "temp_c": {"°c": 1, "c": 1, "degc": 1, "oc": 1},
    **{
        field: {"m": 1, "cm": 0.01, "mm": 0.001}
        for field in ("level_m", "depth_m", "level_inside_m", "level_outside_m")
    },
    "discharge_m3s": {"m3/s": 1, "m³/s": 1, "cumecs": 1, "l/s": 0.001},
    "battery_v": {"v": 1, "mv": 0.001},
}
_SOURCE_NAME = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_OFFSET = re.compile(r"^(?:UTC)?([+-])(\d{2}):?(\d{2})$")


def unit_factor(quantity: str, unit: str) -> float | None:
    """The factor from ``unit`` to ``quantity``'s stored unit (case and spaces ignored), or
    None when the quantity is not given in it."""
    return UNITS.get(quantity, {}).get(unit.replace(" ", "").lower())


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class DeviceMap(_Part):
    """Which registry device a record belongs to: the value of ``field`` (through ``ids`` when
    the source names its devices otherwise), or every record to ``fixed``."""

    field: str | None = None
    fixed: str | None = None
    ids: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_way(self) -> DeviceMap:
        if (self.field is None) == (self.fixed is None):
            raise ValueError("give exactly one of device.field and device.fixed")
        return self


class TimeMap(_Part):
    """Which field is the record's time: ``iso`` (ISO 8601, also ``2024-03-01 07:15``),
    ``epoch_s``, ``epoch_ms`` or a strptime pattern such as ``%d/%m/%Y %H:%M``; ``zone`` is
    the UTC offset (``+07:00``) or IANA name of times written without one; ``zone_in_value =
    "ignore"`` also applies it to times that carry a mark of their own that is known to be
    wrong. ``date_field`` joins a separate date column before the time."""

    field: str = "time"
    format: str = "iso"
    zone: str = "+07:00"
    zone_in_value: Literal["use", "ignore"] = "use"
    date_field: str | None = None

    @field_validator("zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        zone_of(value)
        return value


class QuantityMap(_Part):
    """One value of a record: ``field`` is where it is in the record, ``to`` the stored quantity
    it becomes; its unit is ``unit``, or the text of the record's ``unit_field``; it applies to
    records whose fields equal ``when`` (say ``{Parameter = "Conductivity"}``)."""

    field: str
    to: str
    unit: str | None = None
    unit_field: str | None = None
    when: dict[str, str] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_unit(self) -> QuantityMap:
        known = UNITS.get(self.to)
        if self.unit is not None and known is not None and unit_factor(self.to, self.unit) is None:
            units = ", ".join(known)
            raise ValueError(f"unit {self.unit!r} is not one of {self.to}'s: {units}")
        return self


class SourceSettings(_Part):
    """One source of readings (docs/sources.md): its kind, how to reach it, and its mapping."""

    name: str = Field(pattern=_SOURCE_NAME)
    kind: Literal["file", "chirpstack", "tts", "http"]
    device: DeviceMap
    time: TimeMap = TimeMap()
    values: list[QuantityMap] = Field(min_length=1)
    decimal: Literal[".", ","] = "."
    missing: list[str] = Field(default_factory=lambda: ["", "NA", "N/A", "-", "null", "NaN"])
    # files
    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: str = "utf-8-sig"
    skip_lines: int = Field(0, ge=0, description="lines before the header row")
    sheet: str | None = None
    # LoRaWAN network servers: the topics they publish uplinks on (their own defaults when empty)
    topics: list[str] = Field(default_factory=list)
    # vendor clouds polled over HTTP (kind http): the API's base URL, the names of the environment
    # variables that hold its credentials, and how to poll it (docs/sources.md §5)
    url: str | None = Field(None, pattern=r"^https?://[^\s]+$")
    user_env: str | None = None
    password_env: str | None = None
    api_key_env: str | None = None
    every_s: float = Field(300.0, gt=0, le=86_400, alias="every")
    overlap_s: float = Field(86_400.0, ge=0, le=30 * 86_400, alias="overlap")
    lookback_s: float = Field(7 * 86_400.0, gt=0, alias="lookback")
    page_limit: int = Field(1000, ge=1, le=100_000)
    requests_per_minute: int = Field(30, ge=1, le=6000)
    timeout_s: float = Field(10.0, gt=0, le=300, alias="timeout")
    stale_after_s: float = Field(3600.0, gt=0, alias="stale_after")

    @field_validator("every_s", "overlap_s", "lookback_s", "stale_after_s", mode="before")
    @classmethod
    def _durations(cls, value: Any) -> Any:
        return duration_seconds(value)

    @model_validator(mode="after")
    def _reachable(self) -> SourceSettings:
        if self.kind == "http" and (self.url is None or self.device.field is None):
            raise ValueError("an http source needs url and device.field (the serials in ids)")
        return self

    @field_validator("name")
    @classmethod
    def _not_reserved(cls, value: str) -> str:
        if value in ("manual", "mqtt"):
            raise ValueError(f"{value!r} is the name of a built-in path")
        return value


def zone_of(text: str) -> tzinfo:
    """``+07:00`` / ``UTC+7``-style offsets, ``UTC`` / ``Z``, or an IANA zone name."""
    if text.upper() in ("UTC", "Z"):
        return UTC
    match = _OFFSET.match(text.replace("UTC+", "+").replace("UTC-", "-"))
    if match:
        sign = -1 if match.group(1) == "-" else 1
        offset = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(sign * offset)
    short = re.fullmatch(r"(?:UTC)?([+-])(\d{1,2})", text)
    if short:
        hours = int(short.group(2)) * (-1 if short.group(1) == "-" else 1)
        return timezone(timedelta(hours=hours))
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        hint = "give +07:00 or a name such as Asia/Ho_Chi_Minh"
        raise ValueError(f"unknown time zone {text!r}: {hint}") from None
