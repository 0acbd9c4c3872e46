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
from typing import Any

import orjson

from saltwatch.core.errors import BadInputError
from saltwatch.core.qc import QcFlag
from saltwatch.core.reasons import Reason
from saltwatch.core.schema import FieldType, FieldValue, measurement_for
from saltwatch.core.senml import is_senml, senml_items
from saltwatch.core.timeutil import NS_PER_S, ts_from_epoch_number, ts_from_rfc3339
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection
from saltwatch.core.units import (
    CHLORIDE_EXACT_FROM_PPT,
    salinity_from_chloride_mg_l,
    salinity_from_ec,
    salinity_from_ec25,
)

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
    "chloride_mg_l": (0.0, 40_000.0),
    "discharge_m3s": (-200_000.0, 200_000.0),  # negative: the tide reverses the flow
}
MAX_SEQ = 2**63 - 1
MAX_FAULT_LEN = 64
#: fields a device cannot set: QC is judged here, the source is said by the path it came by, and
#: who entered a handheld reading by the API
_NOT_FROM_DEVICES = frozenset({"qc", "source", "by", "note"})
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
        if is_senml(parsed):
            senml = senml_items(parsed, now_ns)
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
    qc = 0
    ts_ns = _timestamp(item.get("ts"), now_ns, limits)
    if ts_ns is None or item.get("_relative"):
        qc |= QcFlag.SERVER_TIME
    if ts_ns is None:
        ts_ns = now_ns + index * 1000  # distinct times for a batch without timestamps
    values = _values(kind, item)
    if "salinity_ppt" not in values:
        qc |= _derive_salinity(kind, values)
    return Reading(kind, device, ts_ns, values, qc, zone, river)


def reading_from_values(
    kind: TopicKind,
    device: str,
    values: Mapping[str, Any],
    ts_ns: int,
    zone: str = "",
    river: str = "",
    source: str = "",
) -> Reading | Rejection:
    """One item whose time is already known (a source other than a device's own topic: a file's
    row, a network server's uplink, a handheld reading), judged by the same rules as a payload's
    item; ``source`` is kept with it (docs/sources.md)."""
    try:
        checked = _values(kind, values)
        qc = 0 if "salinity_ppt" in checked else _derive_salinity(kind, checked)
    except _ItemError as exc:
        return Rejection(exc.reason.value, exc.detail)
    if source:
        checked["source"] = source
    return Reading(kind, device, ts_ns, checked, qc, zone, river)


def _values(kind: TopicKind, item: Mapping[str, Any]) -> dict[str, FieldValue]:
    """The item's schema fields, each checked; raises _ItemError."""
    values: dict[str, FieldValue] = {}
    fields = measurement_for(kind).fields
    for name, raw in item.items():
        ftype = fields.get(name)
        if ftype is None or raw is None or name in _NOT_FROM_DEVICES:
            continue  # not a field of this kind (ts, extras), or none given, or not theirs
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
    if kind is TopicKind.HYDRO and "level_m" not in values and "discharge_m3s" not in values:
        raise _ItemError(Reason.MISSING_FIELD, "needs level_m or discharge_m3s")
    return values


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


def _derive_salinity(kind: TopicKind, values: dict[str, FieldValue]) -> int:
    """Fill ``salinity_ppt`` from conductivity, or else from chloride (the sea-salt ratio,
    approximate in fresh water: flagged ``APPROXIMATE`` below ``CHLORIDE_EXACT_FROM_PPT``); a
    salinity reading must end up with one. Returns the QC flags the derivation sets."""
    ec, temp, ec25 = values.get("ec_us_cm"), values.get("temp_c"), values.get("ec25_us_cm")
    chloride = values.get("chloride_mg_l")
    flags = 0
    try:
        if isinstance(ec, float) and isinstance(temp, float):
            salinity = salinity_from_ec(ec, temp)
        elif isinstance(ec25, float):
            salinity = salinity_from_ec25(ec25)
        elif isinstance(chloride, float):
            salinity = salinity_from_chloride_mg_l(chloride)
            if salinity < CHLORIDE_EXACT_FROM_PPT:
                flags = QcFlag.APPROXIMATE
        elif kind is TopicKind.SALINITY:
            detail = "needs salinity_ppt, ec_us_cm with temp_c, ec25_us_cm or chloride_mg_l"
            raise _ItemError(Reason.MISSING_FIELD, detail)
        else:
            return 0
    except ValueError:
        raise _ItemError(Reason.OUT_OF_RANGE, "conductivity outside the PSS-78 range") from None
    low, high = BOUNDS["salinity_ppt"]
    if not low <= salinity <= high:
        raise _ItemError(Reason.OUT_OF_RANGE, f"derived salinity {salinity:.2f} outside 0…70")
    values["salinity_ppt"] = round(salinity, 4)
    return flags
