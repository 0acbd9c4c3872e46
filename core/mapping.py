"""Sources other than a device's own topic (docs/sources.md): how one record of a source — a
file's row, a network server's uplink, a vendor cloud's item, a handheld reading — becomes a
reading of a registry device.

A source's mapping says, declaratively, which registry device a record belongs to (by a field
such as a station code, a DevEUI or a serial, or one fixed device), which field is its time in
which format and time zone, and which fields are which quantities in which units. ``RecordMapper``
applies it; the payload codec (``reading_from_values``) then judges the values exactly as it
judges a device's own, so every path refuses the same things for the same reasons.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from saltwatch.core.codec import reading_from_values
from saltwatch.core.reasons import Reason
from saltwatch.core.registry import Registry
from saltwatch.core.schema import FieldType, measurement_for
from saltwatch.core.timeutil import NS_PER_S, duration_seconds
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection

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


_MISSING = object()


def lookup(record: Mapping[str, Any], path: str) -> Any:
    """``record[path]``, or for a dotted path (``object.salinity``) the nested value; the
    sentinel when absent."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return _MISSING
        value = value[part]
    return value


class RecordMapper:
    """Applies one source's mapping: ``map(record)`` gives a judged reading or the reason it is
    refused. ``max_age_s`` None accepts any age (an archive); ``max_future_s`` bounds clocks
    that run ahead."""

    def __init__(
        self,
        source: SourceSettings,
        registry: Registry,
        max_future_s: float,
        max_age_s: float | None = None,
    ) -> None:
        self.source = source
        self._registry = registry
        self._zone = zone_of(source.time.zone)
        offset = self._zone.utcoffset(None) if isinstance(self._zone, timezone) else None
        self._offset_ns = None if offset is None else int(offset.total_seconds()) * NS_PER_S
        self._ignore_marks = source.time.zone_in_value == "ignore"
        self._max_future_ns = int(max_future_s * NS_PER_S)
        self._max_age_ns = None if max_age_s is None else int(max_age_s * NS_PER_S)
        self._missing = frozenset(source.missing)
        self._places: dict[str, tuple[str, TopicKind, str, str] | Rejection] = {}
        self._factors = [
            None if q.unit is None else unit_factor(q.to, q.unit) for q in source.values
        ]

    def map(self, record: Mapping[str, Any], now_ns: int) -> Reading | Rejection:
        place = self._place(record)
        if isinstance(place, Rejection):
            return place
        device, kind, zone, river = place
        try:
            ts_ns = self._time(record)
        except ValueError as exc:
            return Rejection(Reason.BAD_TIMESTAMP.value, str(exc))
        if ts_ns > now_ns + self._max_future_ns:
            return Rejection(Reason.TS_IN_FUTURE.value, "time more than the allowed skew ahead")
        if self._max_age_ns is not None and ts_ns < now_ns - self._max_age_ns:
            return Rejection(Reason.TS_TOO_OLD.value, "time older than the source's max age")
        values = self._values(record, kind)
        if isinstance(values, Rejection):
            return values
        return reading_from_values(kind, device, values, ts_ns, zone, river, self.source.name)

    def _place(self, record: Mapping[str, Any]) -> tuple[str, TopicKind, str, str] | Rejection:
        spec = self.source.device
        if spec.fixed is not None:
            ident = spec.fixed
        else:
            raw = lookup(record, spec.field or "")
            if raw is _MISSING or raw is None or str(raw).strip() == "":
                return Rejection(Reason.UNMAPPED.value, f"no device id in {spec.field!r}")
            ident = str(raw).strip()
        place = self._places.get(ident)
        if place is None:
            place = self._find(spec.ids.get(ident, ident), ident)
            if len(self._places) < 100_000:
                self._places[ident] = place
        return place

    def _find(self, device_id: str, ident: str) -> tuple[str, TopicKind, str, str] | Rejection:
        device = self._registry.device(device_id)
        if device is None:
            said = ident[:64]
            return Rejection(Reason.UNKNOWN_DEVICE.value, f"{said!r} is not mapped to a device")
        return device.id, device.topic_kind, device.zone, device.river or ""

    def _time(self, record: Mapping[str, Any]) -> int:
        spec = self.source.time
        raw = lookup(record, spec.field)
        if raw is _MISSING or raw is None:
            raise ValueError(f"no time in {spec.field!r}")
        if isinstance(raw, datetime):  # a spreadsheet's cell
            return self._ns(raw)
        if spec.format in ("epoch_s", "epoch_ms"):
            number = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
            if not math.isfinite(number):
                raise ValueError("time is not a finite number")
            scale = NS_PER_S if spec.format == "epoch_s" else NS_PER_S // 1000
            return round(number * scale)
        text = str(raw).strip()
        if spec.date_field is not None:
            date = lookup(record, spec.date_field)
            day = date.date().isoformat() if isinstance(date, datetime) else str(date).strip()
            text = f"{day} {text}"
        if len(text) > 64:
            raise ValueError("time text too long")
        try:
            if spec.format == "iso":
                parsed = datetime.fromisoformat(text)
            else:
                parsed = datetime.strptime(text, spec.format)
        except ValueError:
            raise ValueError(f"time {text[:40]!r} is not in the format {spec.format!r}") from None
        return self._ns(parsed)

    def _ns(self, when: datetime) -> int:
        if when.tzinfo is None or self._ignore_marks:
            if self._offset_ns is not None:  # a fixed offset: naive arithmetic, then the offset
                delta = when.replace(tzinfo=None) - _NAIVE_EPOCH
                seconds = delta.days * 86_400 + delta.seconds
                return seconds * NS_PER_S + delta.microseconds * 1000 - self._offset_ns
            when = when.replace(tzinfo=self._zone)
        delta = when - _EPOCH
        return (delta.days * 86_400 + delta.seconds) * NS_PER_S + delta.microseconds * 1000

    def _values(self, record: Mapping[str, Any], kind: TopicKind) -> dict[str, Any] | Rejection:
        fields = measurement_for(kind).fields
        values: dict[str, Any] = {}
        matched = False
        for quantity, fixed in zip(self.source.values, self._factors, strict=True):
            if quantity.when and any(
                str(lookup(record, k)).strip() != v for k, v in quantity.when.items()
            ):
                continue
            matched = True
            raw = lookup(record, quantity.field)
            if (
                raw is _MISSING
                or raw is None
                or (isinstance(raw, str) and raw.strip() in self._missing)
            ):
                continue
            ftype = fields.get(quantity.to)
            if ftype is None:
                detail = f"a {kind.value} device has no {quantity.to!r}"
                return Rejection(Reason.UNMAPPED.value, detail)
            if ftype is not FieldType.FLOAT:
                values[quantity.to] = _plain(raw, ftype)
                continue
            factor = self._unit_factor(record, quantity) if fixed is None else fixed
            if isinstance(factor, Rejection):
                return factor
            number = self._number(raw)
            if number is None:
                return Rejection(Reason.WRONG_TYPE.value, f"{quantity.field!r} is not a number")
            values[quantity.to] = number * factor
        if not matched:
            return Rejection(Reason.UNMAPPED.value, "no value of the mapping applies to it")
        return values

    def _unit_factor(self, record: Mapping[str, Any], quantity: QuantityMap) -> float | Rejection:
        if quantity.unit_field is None:
            return 1.0
        unit = lookup(record, quantity.unit_field)
        factor = unit_factor(quantity.to, str(unit))
        if factor is None:
            detail = f"unit {str(unit)[:20]!r} cannot become {quantity.to}"
            return Rejection(Reason.BAD_UNIT.value, detail)
        return factor

    def _number(self, raw: Any) -> float | None:
        if isinstance(raw, bool):
            return None
        if isinstance(raw, int | float):
            return float(raw)
        text = str(raw).strip()
        if self.source.decimal == ",":
            text = text.replace(".", "").replace(",", ".")
        try:
            return float(text)
        except ValueError:
            return None


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_TRUE = {"true", "1", "yes", "on"}


def _plain(raw: Any, ftype: FieldType) -> Any:
    """A value for a field that is not a measured number: text as it is, a flag from its usual
    spellings, a count as an integer; the codec judges it."""
    if ftype is FieldType.BOOL and isinstance(raw, str):
        return raw.strip().lower() in _TRUE
    if ftype is FieldType.INT and isinstance(raw, str) and raw.strip().isdigit():
        return int(raw.strip())
    if ftype is FieldType.STRING and not isinstance(raw, str):
        return str(raw)
    return raw.strip() if isinstance(raw, str) else raw
