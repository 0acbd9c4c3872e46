"""Sources other than a device's own topic (docs/sources.md): how one record of a source — a
file's row, a network server's uplink, a vendor cloud's item, a handheld reading — becomes a
reading of a registry device.

``RecordMapper`` applies a source's mapping (core/sources.py: which device, which time, which
quantities in which units); the payload codec (``reading_from_values``) then judges the values
exactly as it judges a device's own, so every path refuses the same things for the same reasons.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from saltwatch.core.codec import reading_from_values
from saltwatch.core.reasons import Reason
from saltwatch.core.registry import Registry
from saltwatch.core.schema import FieldType, measurement_for
from saltwatch.core.sources import QuantityMap, SourceSettings, unit_factor, zone_of
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection

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
        self.max_future_ns = int(max_future_s * NS_PER_S)
        self.max_age_ns = None if max_age_s is None else int(max_age_s * NS_PER_S)
        self._missing = frozenset(source.missing)
        self._places: dict[str, tuple[str, TopicKind, str, str] | Rejection] = {}
        # each quantity's unit factor; None: no unit given, or read row by row (unit_field)
        self.factors = [
            None if q.unit is None else unit_factor(q.to, q.unit) for q in source.values
        ]

    def map(self, record: Mapping[str, Any], now_ns: int) -> Reading | Rejection:
        place = self.place(record)
        if isinstance(place, Rejection):
            return place
        device, kind, zone, river = place
        try:
            ts_ns = self.time(record)
        except ValueError as exc:
            return Rejection(Reason.BAD_TIMESTAMP.value, str(exc))
        if ts_ns > now_ns + self.max_future_ns:
            return Rejection(Reason.TS_IN_FUTURE.value, "time more than the allowed skew ahead")
        if self.max_age_ns is not None and ts_ns < now_ns - self.max_age_ns:
            return Rejection(Reason.TS_TOO_OLD.value, "time older than the source's max age")
        values = self._values(record, kind)
        if isinstance(values, Rejection):
            return values
        return reading_from_values(kind, device, values, ts_ns, zone, river, self.source.name)

    def place(self, record: Mapping[str, Any]) -> tuple[str, TopicKind, str, str] | Rejection:
        """The registry device a record belongs to: (id, kind, zone, river), or why none."""
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

    def time(self, record: Mapping[str, Any]) -> int:
        """The record's time (ns since the epoch); ValueError says why it has none."""
        spec = self.source.time
        raw = lookup(record, spec.field)
        if raw is _MISSING or raw is None:
            raise ValueError(f"no time in {spec.field!r}")
        joined = spec.date_field is not None and spec.format not in _EPOCHS
        if joined and not isinstance(raw, datetime):
            date = lookup(record, spec.date_field or "")
            day = date.date().isoformat() if isinstance(date, datetime) else str(date).strip()
            return self._parsed(f"{day} {str(raw).strip()}")
        return self.time_of(raw)

    def time_of(self, raw: Any) -> int:
        """A time field's value as ns since the epoch (a date of its own aside: ``time``);
        ValueError says why it is none."""
        spec = self.source.time
        if raw is None:
            raise ValueError(f"no time in {spec.field!r}")
        if isinstance(raw, datetime):  # a spreadsheet's cell
            return self._ns(raw)
        if spec.format in _EPOCHS:
            number = float(str(raw).strip()) if not isinstance(raw, int | float) else float(raw)
            if not math.isfinite(number):
                raise ValueError("time is not a finite number")
            scale = NS_PER_S if spec.format == "epoch_s" else NS_PER_S // 1000
            return round(number * scale)
        return self._parsed(str(raw).strip())

    def _parsed(self, text: str) -> int:
        spec = self.source.time
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
                naive = when.replace(tzinfo=None) if when.tzinfo is not None else when
                return (naive - _NAIVE_EPOCH) // _MICROSECOND * 1000 - self._offset_ns
            when = when.replace(tzinfo=self._zone)
        return (when - _EPOCH) // _MICROSECOND * 1000

    def _values(self, record: Mapping[str, Any], kind: TopicKind) -> dict[str, Any] | Rejection:
        fields = measurement_for(kind).fields
        values: dict[str, Any] = {}
        matched = False
        for quantity, fixed in zip(self.source.values, self.factors, strict=True):
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
_MICROSECOND = timedelta(microseconds=1)
_EPOCHS = ("epoch_s", "epoch_ms")
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
