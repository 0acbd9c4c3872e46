"""Readings of one device as columns: how a file's chunk travels from its mapping to the store
without one object per row (docs/sources.md, "importing fast").

A ``DeviceColumns`` holds what a list of ``Reading`` of one device would hold: per row its time,
the record it came from, its QC flags so far, and per field a float column in which NaN means
"this row has no such field" (a value the codec accepted is always finite). String fields that
are alike for every row (the source's name) are kept once. Only numeric fields travel this way;
a source that maps anything else goes row by row (core/batch_mapping.py decides).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from saltwatch.core.schema import FieldValue
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(slots=True)
class DeviceColumns:
    kind: TopicKind
    device: str
    zone: str
    river: str
    where: Ints  # the record (a file's row number) each row came from
    ts_ns: Ints
    values: dict[str, Floats]  # NaN: the row has no such field
    qc: Ints  # flags set before quality control (a derivation's)
    text: dict[str, str] = field(default_factory=dict)  # string fields alike for every row

    def __len__(self) -> int:
        return len(self.ts_ns)

    def take(self, index: Ints) -> DeviceColumns:
        """The rows at ``index``, in that order."""
        return DeviceColumns(
            self.kind,
            self.device,
            self.zone,
            self.river,
            self.where[index],
            self.ts_ns[index],
            {name: column[index] for name, column in self.values.items()},
            self.qc[index],
            self.text,
        )

    def fields(self, i: int) -> dict[str, FieldValue]:
        """Row ``i``'s fields as a reading holds them."""
        out: dict[str, FieldValue] = {}
        for name, column in self.values.items():
            value = float(column[i])
            if not math.isnan(value):
                out[name] = value
        out.update(self.text)
        return out

    def reading(self, i: int) -> Reading:
        return Reading(
            self.kind,
            self.device,
            int(self.ts_ns[i]),
            self.fields(i),
            int(self.qc[i]),
            self.zone,
            self.river,
        )

    def readings(self) -> list[Reading]:
        return [self.reading(i) for i in range(len(self))]


class ColumnsBuilder:
    """Collects one device's rows — whole columns from the fast path, single readings from the
    row-by-row one — and hands them over in the order their records came."""

    def __init__(self, kind: TopicKind, device: str, zone: str, river: str, text: dict[str, str]):
        self._head = (kind, device, zone, river)
        self._text = text
        self._parts: list[tuple[Ints, Ints, dict[str, Floats], Ints]] = []

    def add_columns(self, where: Ints, ts_ns: Ints, values: dict[str, Floats]) -> None:
        self._parts.append((where, ts_ns, values, np.zeros(len(ts_ns), np.int64)))

    def add_readings(self, numbered: Iterable[tuple[int, Reading]]) -> None:
        rows = list(numbered)
        names = {n for _, r in rows for n, v in r.fields.items() if n not in self._text}
        if any(not isinstance(r.fields[n], float) for _, r in rows for n in names if n in r.fields):
            raise ValueError("only numeric fields travel as columns")
        values = {
            name: np.array([_float(r.fields.get(name)) for _, r in rows], np.float64)
            for name in names
        }
        where = np.array([n for n, _ in rows], np.int64)
        ts = np.array([r.ts_ns for _, r in rows], np.int64)
        self._parts.append((where, ts, values, np.array([r.qc for _, r in rows], np.int64)))

    def build(self) -> DeviceColumns:
        names = list(dict.fromkeys(n for part in self._parts for n in part[2]))
        where = np.concatenate([p[0] for p in self._parts])
        order = np.argsort(where, kind="stable")
        values = {
            name: np.concatenate([p[2].get(name, np.full(len(p[0]), np.nan)) for p in self._parts])[
                order
            ]
            for name in names
        }
        return DeviceColumns(
            *self._head,
            where[order],
            np.concatenate([p[1] for p in self._parts])[order],
            values,
            np.concatenate([p[3] for p in self._parts])[order],
            self._text,
        )


def _float(value: FieldValue | None) -> float:
    return float(value) if isinstance(value, float) else float("nan")
