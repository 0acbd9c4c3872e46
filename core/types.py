"""Domain types shared by every component."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from saltwatch.core.schema import FieldValue
from saltwatch.core.topics import TopicKind


@dataclass(frozen=True, slots=True)
class Reading:
    """One validated item: a device's values at one measurement time.

    ``fields`` holds the schema fields present (never ``qc``, which has its own slot).
    ``zone`` and ``river`` are filled from the registry by ingest.
    """

    kind: TopicKind
    device: str
    ts_ns: int
    fields: dict[str, FieldValue]
    qc: int = 0
    zone: str = ""
    river: str = ""

    def value(self, name: str) -> FieldValue | None:
        return self.fields.get(name)

    def key(self) -> tuple[str, str, int]:
        """Identity in the store: a second write with the same key overwrites, never adds."""
        return (self.kind.value, self.device, self.ts_ns)


def encode_readings(readings: list[Reading]) -> bytes:
    """Readings as they were judged (fields, QC flags, zone), for SaltWatch's own files and
    tables (ingest's spool, the landed log): not a device payload."""
    return orjson.dumps(
        [[r.kind.value, r.device, r.ts_ns, r.fields, r.qc, r.zone, r.river] for r in readings]
    )


def decode_readings(data: bytes) -> list[Reading]:
    """``encode_readings`` undone."""
    return [
        Reading(TopicKind(kind), device, ts, fields, qc, zone, river)
        for kind, device, ts, fields, qc, zone, river in orjson.loads(data)
    ]


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why one item (or a whole message) was refused; ``index`` is the item's place, or None."""

    reason: str
    detail: str
    index: int | None = None


@dataclass(slots=True)
class Series:
    """Recent values of one device, oldest first, for warming the alert engine."""

    device: str
    ts_ns: list[int] = field(default_factory=list)
    values: dict[str, list[Any]] = field(default_factory=dict)
