"""InfluxQL text and answers for the InfluxDB adapter (storage/influx.py): every value that did
not come from our own schema constants is quoted here, so no device id, tag or caller input can
change a query; and an answer's rows become columns without an object per row."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from saltwatch.core.schema import Measurement
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series
from saltwatch.storage.influx_lines import typed


def quote_literal(value: str) -> str:
    """An InfluxQL string literal that means exactly ``value``."""
    escaped = value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n")
    return f"'{escaped}'"


def quote_ident(name: str) -> str:
    """An InfluxQL double-quoted identifier."""
    escaped = name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def where(
    m: Measurement,
    devices: Sequence[str] | None = None,
    start_ns: int | None = None,
    end_ns: int | None = None,
) -> str:
    clauses: list[str] = []
    if devices:
        tag = quote_ident(m.device_tag)
        clauses.append("(" + " OR ".join(f"{tag} = {quote_literal(d)}" for d in devices) + ")")
    if start_ns is not None:
        clauses.append(f"time >= {int(start_ns)}")
    if end_ns is not None:
        clauses.append(f"time < {int(end_ns)}")
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""


def extend(out: Series, columns: list[str], rows: list[list[Any]], m: Measurement) -> None:
    """``rows`` (time first, then ``columns``) appended to ``out``'s columns as influxd gave them
    (a float that is whole comes as an integer: ``typed`` makes it a float again); a field a row
    lacks is None, and so is every earlier row's value of a field first seen here."""
    before = len(out.ts_ns)
    out.ts_ns.extend([row[0] for row in rows])
    for i, name in enumerate(columns):
        if name == m.device_tag or (name not in m.fields and name not in m.tags):
            continue  # the time, the device
        column = out.values.setdefault(name, [None] * before)
        column.extend([row[i] for row in rows])
    for column in out.values.values():
        column.extend([None] * (len(out.ts_ns) - len(column)))


def rows_of(series: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """An answer's series as rows: its tags and its columns by name."""
    columns: list[str] = series["columns"]
    tags: dict[str, str] = series.get("tags") or {}
    for values in series.get("values") or []:
        row = dict(tags)
        row.update(zip(columns, values, strict=True))
        yield row


def reading_of(kind: TopicKind, m: Measurement, row: dict[str, Any]) -> Reading:
    """A row of an answer as a reading (each field typed by the schema)."""
    fields = {
        name: typed(ftype, row[name])
        for name, ftype in m.fields.items()
        if name != "qc" and row.get(name) is not None
    }
    return Reading(
        kind,
        str(row[m.device_tag]),
        int(row["time"]),
        fields,
        int(row.get("qc") or 0),
        str(row.get("zone") or ""),
        str(row.get("river") or ""),
    )
