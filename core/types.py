"""Domain types shared by every component."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

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
