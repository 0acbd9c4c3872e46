"""Payload codec (docs/interface.md §2): bytes from a device topic to typed readings and rejections.

A payload is one JSON object, a batch (array of objects) or a SenML pack (RFC 8428 JSON). Every item
is judged on its own: one bad item never drops its neighbours. Each rejection carries a reason code
from ``Reason``; those codes are what ``/metrics`` counts and the API lists.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import orjson

from saltwatch.core.errors import BadInputError
from saltwatch.core.qc import QcFlag
from saltwatch.core.schema import FieldType, FieldValue, measurement_for
from saltwatch.core.timeutil import NS_PER_S, ts_from_epoch_number, ts_from_rfc3339
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection
from saltwatch.core.units import salinity_from_ec, salinity_from_ec25


class Reason(StrEnum):
    PAYLOAD_TOO_LARGE = "payload_too_large"
    NOT_UTF8 = "not_utf8"
    NOT_JSON = "not_json"
    TOO_DEEP = "too_deep"
    NOT_FINITE = "not_finite"
    BAD_SHAPE = "bad_shape"
    TOO_MANY_ITEMS = "too_many_items"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    OUT_OF_RANGE = "out_of_range"
    BAD_TIMESTAMP = "bad_timestamp"
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"
    # judged outside the codec, listed here so every reason has one home
    BAD_TOPIC = "bad_topic"
    UNKNOWN_DEVICE = "unknown_device"
    CONFLICT = "conflict"  # another value for a time the device already has (ingest/conflicts.py)
    RETAINED = "retained"  # a reading the broker kept and gives again at every subscription


#: Hard bounds (inclusive) per payload field; outside them an item is rejected (docs/interface.md
#: §2).
BOUNDS: Mapping[str, tuple[float, float]] = {
    "salinity_ppt": (0.0, 70.0),
    "ec_us_cm": (0.0, 200_000.0),
    "ec25_us_cm": (0.0, 200_000.0),
    "temp_c": (-5.0, 50.0),
    "level_m": (-100.0, 500.0),
    "depth_m": (0.0, 200.0),
    "battery_v": (0.0, 60.0),
    "flow_m3h": (0.0, 100_000.0),
    "pressure_bar": (-1.0, 100.0),
    "runtime_h": (0.0, 1_000_000.0),
    "flow_lpm": (0.0, 1_000_000.0),
    "volume_m3": (0.0, 1e12),
    "tank_pct": (0.0, 100.0),
    "opening_pct": (0.0, 100.0),
    "level_inside_m": (-100.0, 500.0),
    "level_outside_m": (-100.0, 500.0),
}
MAX_SEQ = 2**63 - 1
MAX_FAULT_LEN = 64
#: SenML: absolute times below 2**28 are relative to "now" (RFC 8428 §4.5.3).
SENML_RELATIVE_LIMIT = 2**28
#: the field each kind must carry
_REQUIRED = {TopicKind.WELL: "running", TopicKind.TAP: "open", TopicKind.GATE: "state"}
#: string fields that take one of a few words
CHOICES: Mapping[str, tuple[str, ...]] = {"state": ("open", "closed", "partial")}


@dataclass(frozen=True, slots=True)
class CodecLimits:
    max_payload_bytes: int = 65_536
    max_items: int = 10_000
    max_future_s: float = 300.0
    max_backfill_s: float = 30 * 86_400.0


DEFAULT_LIMITS = CodecLimits()


@dataclass(slots=True)
class DecodeResult:
    readings: list[Reading] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)

    @property
    def item_count(self) -> int:
        return len(self.readings) + sum(1 for r in self.rejections if r.index is not None)


class _ItemError(Exception):
    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def _whole(reason: Reason, detail: str) -> DecodeResult:
    return DecodeResult(rejections=[Rejection(reason.value, detail)])


def _parse_json(payload: bytes) -> Any | Rejection:
    try:
        return orjson.loads(payload)  # it refuses text that is not UTF-8 too
    except orjson.JSONDecodeError as exc:
        message = str(exc)
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection(Reason.NOT_UTF8.value, "payload is not UTF-8")
    if "depth limit" in message:
        return Rejection(Reason.TOO_DEEP.value, "JSON nested too deeply")
    if "infinity" in message or _has_non_finite_constant(payload):
        return Rejection(Reason.NOT_FINITE.value, "NaN or Infinity in payload")
    return Rejection(Reason.NOT_JSON.value, message[:120])


class _NonFiniteError(Exception):
    pass


def _has_non_finite_constant(payload: bytes) -> bool:
    """True when the payload is JSON but for NaN/Infinity literals (stdlib accepts those)."""

    def refuse(_: str) -> float:
        raise _NonFiniteError

    try:
        json.loads(payload, parse_constant=refuse)
    except _NonFiniteError:
        return True
    except (ValueError, RecursionError):
        return False
    return False


def decode_payload(
    kind: TopicKind,
    device: str,
    payload: bytes,
    now_ns: int,
    limits: CodecLimits = DEFAULT_LIMITS,
    zone: str = "",
    river: str = "",
) -> DecodeResult:
    """Validate every item of one message from ``device`` on topic kind ``kind``.

    Valid readings carry ``zone`` and ``river`` (the device's place in the registry).
    """
    if len(payload) > limits.max_payload_bytes:
        return _whole(Reason.PAYLOAD_TOO_LARGE, f"{len(payload)} bytes")
    parsed = _parse_json(payload)
    if isinstance(parsed, Rejection):
        return DecodeResult(rejections=[parsed])
    if isinstance(parsed, dict):
        items: list[Any] = [parsed]
    elif isinstance(parsed, list):
        if not parsed:
            return _whole(Reason.BAD_SHAPE, "empty array")
        if _is_senml(parsed):
            senml = _senml_items(parsed, now_ns)
            if isinstance(senml, Rejection):
                return DecodeResult(rejections=[senml])
            items = senml
        else:
            items = parsed
    else:
        return _whole(Reason.BAD_SHAPE, "payload must be an object or an array of objects")
    if len(items) > limits.max_items:
        return _whole(Reason.TOO_MANY_ITEMS, f"{len(items)} items, limit {limits.max_items}")
    result = DecodeResult()
    for index, item in enumerate(items):
        try:
            reading = _decode_item(kind, device, item, index, now_ns, limits, zone, river)
            result.readings.append(reading)
        except _ItemError as exc:
            result.rejections.append(Rejection(exc.reason.value, exc.detail, index))
    return result


def _is_senml(items: list[Any]) -> bool:
    return any(isinstance(rec, dict) and ("n" in rec or "bn" in rec) for rec in items)


def _senml_items(records: list[Any], now_ns: int) -> list[Any] | Rejection:
    """Resolve a SenML pack into items: one per distinct measurement time, names → fields."""
    base_name, base_time = "", 0.0
    grouped: dict[float, dict[str, Any]] = {}
    for rec in records:
        if not isinstance(rec, dict):
            return Rejection(Reason.BAD_SHAPE.value, "SenML record is not an object")
        base_name = rec.get("bn", base_name)
        base_time = rec.get("bt", base_time)
        name, rel_time = rec.get("n", ""), rec.get("t", 0)
        if not isinstance(base_name, str) or not isinstance(name, str):
            return Rejection(Reason.WRONG_TYPE.value, "SenML names must be strings")
        if not _is_number(base_time) or not _is_number(rel_time):
            return Rejection(Reason.WRONG_TYPE.value, "SenML times must be numbers")
        full = base_name + name
        field_name = full.rsplit("/", 1)[-1].rsplit(":", 1)[-1]
        when = float(base_time) + float(rel_time)
        value = _senml_value(rec)
        if field_name and value is not _MISSING:
            grouped.setdefault(when, {})[field_name] = value
    items: list[Any] = []
    for when, values in grouped.items():
        if when == 0:
            pass  # no time at all: receive time, flagged like any item without ts
        elif abs(when) < SENML_RELATIVE_LIMIT:
            values["ts"] = now_ns / NS_PER_S + when
            values["_relative"] = True
        else:
            values["ts"] = when
        items.append(values)
    if not items:
        return Rejection(Reason.BAD_SHAPE.value, "SenML pack without any value")
    return items


_MISSING = object()


def _senml_value(rec: Mapping[str, Any]) -> Any:
    for key in ("v", "vb", "vs"):
        if key in rec:
            return rec[key]
    return _MISSING


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _decode_item(
    kind: TopicKind,
    device: str,
    item: Any,
    index: int,
    now_ns: int,
    limits: CodecLimits,
    zone: str,
    river: str,
) -> Reading:
    if not isinstance(item, dict):
        raise _ItemError(Reason.BAD_SHAPE, "item is not an object")
    measurement = measurement_for(kind)
    qc = 0
    ts_ns = _timestamp(item.get("ts"), now_ns, limits)
    if ts_ns is None or item.get("_relative"):
        qc |= QcFlag.SERVER_TIME
    if ts_ns is None:
        ts_ns = now_ns + index * 1000  # distinct times for a batch without timestamps
    values: dict[str, FieldValue] = {}
    fields = measurement.fields
    for name, raw in item.items():
        ftype = fields.get(name)
        if ftype is None or raw is None or name == "qc":
            continue  # not a field of this kind (ts, extras), or none given
        if ftype is FieldType.FLOAT and type(raw) is float:  # the usual case, checked inline
            low, high = BOUNDS[name]
            if not low <= raw <= high:  # orjson gives finite floats only
                raise _ItemError(Reason.OUT_OF_RANGE, f"{name!r}={raw:g} outside {low:g}…{high:g}")
            values[name] = raw
        elif ftype is FieldType.INT and type(raw) is int and 0 <= raw <= MAX_SEQ:
            values[name] = raw
        else:
            values[name] = _check_field(name, ftype, raw)
    required = _REQUIRED.get(kind)
    if required is not None and required not in values:
        raise _ItemError(Reason.MISSING_FIELD, f"{required!r} is required")
    if "salinity_ppt" not in values:
        _derive_salinity(kind, values)
    return Reading(kind, device, ts_ns, values, qc, zone, river)


def _timestamp(raw: Any, now_ns: int, limits: CodecLimits) -> int | None:
    if raw is None:
        return None
    try:
        if type(raw) is float or type(raw) is int:  # the usual case first
            ts_ns = ts_from_epoch_number(float(raw))
        elif isinstance(raw, str):
            ts_ns = ts_from_rfc3339(raw)
        elif _is_number(raw):
            ts_ns = ts_from_epoch_number(float(raw))
        else:
            raise _ItemError(Reason.BAD_TIMESTAMP, "ts must be RFC 3339 text or an epoch number")
    except BadInputError as exc:
        raise _ItemError(Reason.BAD_TIMESTAMP, str(exc)) from None
    if ts_ns > now_ns + limits.max_future_s * NS_PER_S:
        raise _ItemError(Reason.TS_IN_FUTURE, "timestamp more than the allowed skew ahead")
    if ts_ns < now_ns - limits.max_backfill_s * NS_PER_S:
        raise _ItemError(Reason.TS_TOO_OLD, "timestamp older than ingest.max_backfill")
    return ts_ns


def _check_field(name: str, ftype: FieldType, raw: Any) -> FieldValue:
    if ftype is FieldType.BOOL:
        if not isinstance(raw, bool):
            raise _ItemError(Reason.WRONG_TYPE, f"{name!r} must be true or false")
        return raw
    if ftype is FieldType.STRING:
        if not isinstance(raw, str):
            raise _ItemError(Reason.WRONG_TYPE, f"{name!r} must be a string or null")
        if len(raw) > MAX_FAULT_LEN:
            raise _ItemError(Reason.OUT_OF_RANGE, f"{name!r} longer than {MAX_FAULT_LEN}")
        if name in CHOICES and raw not in CHOICES[name]:
            raise _ItemError(Reason.OUT_OF_RANGE, f"{name!r} must be one of {CHOICES[name]}")
        return raw
    if not _is_number(raw):
        raise _ItemError(Reason.WRONG_TYPE, f"{name!r} must be a number")
    if ftype is FieldType.INT:
        if not isinstance(raw, int):
            raise _ItemError(Reason.WRONG_TYPE, f"{name!r} must be an integer")
        if not 0 <= raw <= MAX_SEQ:
            raise _ItemError(Reason.OUT_OF_RANGE, f"{name!r} outside 0…2^63-1")
        return raw
    value = float(raw)
    if not math.isfinite(value):
        raise _ItemError(Reason.NOT_FINITE, f"{name!r} is not finite")
    low, high = BOUNDS[name]
    if not low <= value <= high:
        raise _ItemError(Reason.OUT_OF_RANGE, f"{name!r}={value:g} outside {low:g}…{high:g}")
    return value


def _derive_salinity(kind: TopicKind, values: dict[str, FieldValue]) -> None:
    """Fill ``salinity_ppt`` from conductivity; a salinity reading must end up with one."""
    ec, temp, ec25 = values.get("ec_us_cm"), values.get("temp_c"), values.get("ec25_us_cm")
    try:
        if isinstance(ec, float) and isinstance(temp, float):
            salinity = salinity_from_ec(ec, temp)
        elif isinstance(ec25, float):
            salinity = salinity_from_ec25(ec25)
        elif kind is TopicKind.SALINITY:
            detail = "needs salinity_ppt, ec_us_cm with temp_c, or ec25_us_cm"
            raise _ItemError(Reason.MISSING_FIELD, detail)
        else:
            return
    except ValueError:
        raise _ItemError(Reason.OUT_OF_RANGE, "conductivity outside the PSS-78 range") from None
    low, high = BOUNDS["salinity_ppt"]
    if not low <= salinity <= high:
        raise _ItemError(Reason.OUT_OF_RANGE, f"derived salinity {salinity:.2f} outside 0…70")
    values["salinity_ppt"] = round(salinity, 4)
