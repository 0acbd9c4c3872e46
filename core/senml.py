"""SenML packs (RFC 8428 JSON) as payload items: one item per measurement time, names → fields.

Part of the payload codec (core/codec.py), which judges the items this makes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from saltwatch.core.reasons import Reason
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Rejection

#: SenML: absolute times below 2**28 are relative to "now" (RFC 8428 §4.5.3).
SENML_RELATIVE_LIMIT = 2**28


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def is_senml(items: list[Any]) -> bool:
    return any(isinstance(rec, dict) and ("n" in rec or "bn" in rec) for rec in items)


def senml_items(records: list[Any], now_ns: int) -> list[Any] | Rejection:
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
