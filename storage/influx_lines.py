"""InfluxDB line protocol for readings: ``to_line`` through the client library's ``Point`` (which
escapes everything), and ``LineFormatter``, the same lines at ingest speed."""

from __future__ import annotations

from collections.abc import Callable
from itertools import repeat
from math import isfinite, isnan
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from saltwatch.core.columns import DeviceColumns
from saltwatch.core.schema import FieldType, FieldValue, Measurement, check_tags
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Reading

if TYPE_CHECKING:
    from influxdb_client.client.write.point import Point


def typed(ftype: FieldType, value: Any) -> FieldValue:
    if ftype is FieldType.FLOAT:
        return float(value)
    if ftype is FieldType.INT:
        return int(value)
    if ftype is FieldType.BOOL:
        return bool(value)
    return str(value)


def _tagged_point(reading: Reading, measurement: Measurement) -> Point:
    """A Point with the reading's measurement and tags (Point escapes them). The client library
    is imported at the first point (it takes a third of a second): a process that never writes
    does not pay for it, and a writer only once."""
    from influxdb_client.client.write.point import Point  # noqa: PLC0415

    check_tags(reading.device, reading.zone, reading.river)
    point: Point = Point(measurement.name)
    point.tag(measurement.device_tag, reading.device)
    if reading.zone:
        point.tag("zone", reading.zone)
    if reading.river and "river" in measurement.tags:
        point.tag("river", reading.river)
    return point


def to_line(reading: Reading, measurement: Measurement) -> str:
    point = _tagged_point(reading, measurement)
    for name, value in reading.fields.items():
        ftype = measurement.fields.get(name)
        if ftype is not None and name != "qc":
            point.field(name, typed(ftype, value))
    point.field("qc", int(reading.qc))
    point.time(reading.ts_ns, "ns")
    line: str = point.to_line_protocol()
    return line


_PREFIX_CACHE_LIMIT = 100_000
_MARK_FIELD = "__end"
_MARK = f" {_MARK_FIELD}=true"


class LineFormatter:
    """``to_line`` at ingest speed, with Point's escaping.

    The escaped ``measurement,tags`` prefix of each series is made once by ``Point`` and kept.
    Field names come only from the schema (plain identifiers), and numbers and booleans need no
    escaping, so they are formatted here exactly as ``Point`` formats them, and so are strings
    without a quote, a backslash or a newline; a reading with any other string, or a number that
    is not finite (Point leaves it out), goes through ``Point`` whole.
    """

    def __init__(self) -> None:
        self._prefixes: dict[tuple[str, str, str, str], str] = {}

    def _prefix_of(self, reading: Reading, measurement: Measurement) -> str:
        key = (measurement.name, reading.device, reading.zone, reading.river)
        prefix = self._prefixes.get(key)
        if prefix is None:
            prefix = self._prefix(reading, measurement)
            if len(self._prefixes) >= _PREFIX_CACHE_LIMIT:
                self._prefixes.clear()
            self._prefixes[key] = prefix
        return prefix

    def line(self, reading: Reading, measurement: Measurement) -> str:
        prefix = self._prefix_of(reading, measurement)
        parts: list[str] = []
        types = measurement.fields
        for name, value in reading.fields.items():
            ftype = types.get(name)
            if ftype is FieldType.FLOAT:
                number = float(value)
                if not isfinite(number):
                    return to_line(reading, measurement)  # Point leaves NaN and ∞ out
                parts.append(f"{name}={_number(number)}")
            elif ftype is FieldType.INT:
                parts.append(f"{name}={int(value)}i")
            elif ftype is FieldType.BOOL:
                parts.append(f"{name}={'true' if value else 'false'}")
            elif ftype is FieldType.STRING:
                text = str(value)
                if _needs_escape(text):
                    return to_line(reading, measurement)  # Point escapes it
                parts.append(f'{name}="{text}"')
        parts.append(f"qc={int(reading.qc)}i")
        return f"{prefix} {','.join(parts)} {reading.ts_ns}"

    def column_lines(
        self, columns: DeviceColumns, measurement: Measurement, seconds: bool = False
    ) -> list[str]:
        """The lines of a device's columns: the points ``line`` writes for each of their
        readings (a whole float as ``2.0`` where Point writes ``2``: the same float); with
        ``seconds``, times in whole seconds (to be written with precision ``s``)."""
        head = Reading(columns.kind, columns.device, 0, {}, 0, columns.zone, columns.river)
        if any(_needs_escape(v) for v in columns.text.values()) or any(
            measurement.fields.get(n) is not FieldType.FLOAT for n in columns.values
        ):
            return [self.line(r, measurement) for r in columns.readings()]
        prefix = self._prefix_of(head, measurement)
        tail = "".join(f',{name}="{value}"' for name, value in columns.text.items()) + ",qc="
        stamps = columns.ts_ns // NS_PER_S if seconds else columns.ts_ns
        qcs, times = _texts(columns.qc, str), map(str, stamps.tolist())
        if len(columns.values) == 1:  # one quantity: the usual file
            ((name, column),) = columns.values.items()
            if not np.isnan(column).any():
                numbers = _texts(column, repr)
                parts = (repeat(f"{prefix} {name}="), numbers, repeat(tail), qcs, repeat("i "))
                return list(map("".join, zip(*parts, times, strict=False)))
        fields = [
            [None if isnan(v) else f"{name}={v!r}" for v in column.tolist()]
            for name, column in columns.values.items()
        ]
        return [
            f"{prefix} {','.join(p for p in present if p is not None)}{tail}{q}i {t}"
            for present, q, t in zip(zip(*fields, strict=True), qcs, times, strict=True)
        ]

    @staticmethod
    def _prefix(reading: Reading, measurement: Measurement) -> str:
        point = _tagged_point(reading, measurement)
        point.field(_MARK_FIELD, True)
        line: str = point.to_line_protocol()
        if not line.endswith(_MARK):
            raise AssertionError("unexpected line protocol from Point")
        return line[: -len(_MARK)]


def _number(value: float) -> str:
    """A finite float as ``Point`` writes it."""
    text = repr(value)
    return text[:-2] if text.endswith(".0") else text


def _texts(values: npt.NDArray[Any], text: Callable[[Any], str]) -> list[str]:
    """``text`` of each value, made once per distinct value when values repeat (a salinity
    written to two decimals, a QC mask that is mostly 0)."""
    distinct, where = np.unique(values, return_inverse=True)
    if 4 * len(distinct) > len(values):
        return list(map(text, values.tolist()))
    made: list[str] = np.array(list(map(text, distinct.tolist())), dtype=object)[where].tolist()
    return made


def _needs_escape(text: str) -> bool:
    return '"' in text or "\\" in text or "\n" in text
