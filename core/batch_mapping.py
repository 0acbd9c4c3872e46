"""A chunk of a file's records mapped at once (docs/sources.md, "importing fast").

``RecordMapper.map`` decides one record at a time; an archive of a million rows needs the same
decisions a hundred times faster. ``BatchMapper`` takes each column of a chunk whole — the device
ids, the times, each quantity's numbers — and accepts the rows it can prove the record mapper
would accept unchanged: a known device of a kind whose codec takes the mapped fields as they
are, a time the record mapper parses (each distinct text parsed once, by the record mapper
itself), within the allowed skew, and every mapped cell a finite number whose value in the stored
unit lies within the codec's bounds. Every other row — a blank cell, a word where a number
belongs, an unknown station, a value out of range — goes through ``RecordMapper.map``, which
refuses it with its reason or accepts what it can. So both ways give the same readings and the
same refusals; the fast way only has to be right about the rows that are entirely plain.

Sources whose mapping needs more than columns can say (``when`` filters, units per row, a
separate date column, quantities that are not plain numbers) go row by row throughout.
"""

from __future__ import annotations

import itertools
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from saltwatch.core.codec import BOUNDS, reading_from_values
from saltwatch.core.columns import ColumnsBuilder, DeviceColumns, Floats, Ints
from saltwatch.core.mapping import RecordMapper
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection

Place = tuple[str, TopicKind, str, str]


@dataclass(slots=True)
class Cells:
    """A chunk of a table: its rows' numbers and its cells column by column, each column as long
    as the chunk (None where a row is short: it lacks its last cells)."""

    numbers: list[int]
    columns: list[Sequence[Any]]

    @classmethod
    def of_rows(cls, numbers: list[int], rows: Sequence[Sequence[Any]]) -> Cells:
        return cls(numbers, list(itertools.zip_longest(*rows)))

    def __len__(self) -> int:
        return len(self.numbers)

    def after(self, number: int) -> Cells:
        """The rows numbered after ``number``."""
        skip = bisect_right(self.numbers, number)
        return Cells(self.numbers[skip:], [column[skip:] for column in self.columns])

    def row(self, i: int) -> list[Any]:
        """Row ``i`` as its cells (a short row without the missing ones)."""
        cells = [column[i] for column in self.columns]
        while cells and cells[-1] is None:
            cells.pop()
        return cells


class BatchMapper:
    def __init__(self, mapper: RecordMapper) -> None:
        self._mapper = mapper
        source = mapper.source
        targets = [q.to for q in source.values]
        self._plain = (
            source.time.date_field is None
            and len(set(targets)) == len(targets)
            and all(not q.when and q.unit_field is None and q.to in BOUNDS for q in source.values)
        )
        self._factors = [1.0 if f is None else f for f in mapper.factors]  # plain: no unit_field
        self._kinds: dict[TopicKind, bool] = {}
        self._text = {"source": source.name}
        self._numeric_missing = frozenset(m for m in source.missing if np.isfinite(_number(m)))

    def map(
        self, header: Sequence[str], cells: Cells, now_ns: int
    ) -> tuple[list[DeviceColumns], list[tuple[int, Rejection]]]:
        """A chunk of a table (its columns in the order of ``header``): the accepted rows as
        columns per device (each in record order), and the refused ones numbered, with their
        reasons."""
        if not len(cells):
            return [], []
        builders: dict[tuple[TopicKind, str], ColumnsBuilder] = {}
        slow: Sequence[int] = range(len(cells))
        if self._plain:
            columns = dict(zip(header, cells.columns, strict=False))
            slow = self._fast(cells.numbers, columns, now_ns, builders)
        refused: list[tuple[int, Rejection]] = []
        accepted: dict[tuple[TopicKind, str], list[tuple[int, Reading]]] = {}
        for i in slow:
            number = cells.numbers[i]
            mapped = self._mapper.map(dict(zip(header, cells.row(i), strict=False)), now_ns)
            if isinstance(mapped, Rejection):
                refused.append((number, mapped))
            else:
                accepted.setdefault((mapped.kind, mapped.device), []).append((number, mapped))
        for key, numbered in accepted.items():
            first = numbered[0][1]
            builder = builders.get(key)
            if builder is None:
                builder = ColumnsBuilder(
                    first.kind, first.device, first.zone, first.river, self._text
                )
                builders[key] = builder
            builder.add_readings(numbered)
        return [b.build() for b in builders.values()], refused

    def _fast(
        self,
        numbered: Sequence[int],
        columns: Mapping[str, Sequence[Any]],
        now_ns: int,
        builders: dict[tuple[TopicKind, str], ColumnsBuilder],
    ) -> list[int]:
        """Add the plain rows to ``builders``; return the places of the others."""
        n = len(numbered)
        absent = (None,) * n
        numbers: Ints = np.array(numbered, np.int64)
        places, device = self._places(columns, n)
        plain = device >= 0
        ts, timed = self._times(columns.get(self._mapper.source.time.field, absent), now_ns)
        plain &= timed
        values: dict[str, Floats] = {}
        for quantity, factor in zip(self._mapper.source.values, self._factors, strict=True):
            column = self._numbers(columns.get(quantity.field, absent)) * factor
            low, high = BOUNDS[quantity.to]
            plain &= (column >= low) & (column <= high)  # NaN: not plain
            values[quantity.to] = column
        for index, place in enumerate(places):
            mine = plain & (device == index)
            if not mine.any():
                continue
            key = (place[1], place[0])
            builder = builders.get(key)
            if builder is None:
                builder = ColumnsBuilder(place[1], place[0], place[2], place[3], self._text)
                builders[key] = builder
            builder.add_columns(numbers[mine], ts[mine], {k: v[mine] for k, v in values.items()})
        slow: list[int] = np.flatnonzero(~plain).tolist()
        return slow

    def _places(self, columns: Mapping[str, Sequence[Any]], n: int) -> tuple[list[Place], Ints]:
        """The distinct devices of plain kinds, and each row's index into them (-1: not plain)."""
        spec = self._mapper.source.device
        name = spec.field or ""
        cells = columns.get(name, (None,) * n) if spec.fixed is None else (None,) * n
        places: list[Place] = []
        index_of: dict[Any, int] = {}
        for cell in dict.fromkeys(cells):
            place = self._mapper.place({name: cell})
            if isinstance(place, Rejection) or not self._plain_kind(place[1]):
                index_of[cell] = -1
            else:
                index_of[cell] = len(places)
                places.append(place)
        return places, np.fromiter(map(index_of.__getitem__, cells), np.int64, len(cells))

    def _plain_kind(self, kind: TopicKind) -> bool:
        """Whether the codec takes exactly the mapped numbers for a device of ``kind``: no
        field missing that the kind requires, none derived, none it would not take."""
        known = self._kinds.get(kind)
        if known is None:
            sample = {to: sum(BOUNDS[to]) / 2 for to in (q.to for q in self._mapper.source.values)}
            judged = reading_from_values(kind, "sample", sample, 0, source="sample")
            known = (
                isinstance(judged, Reading)
                and judged.qc == 0
                and set(judged.fields) == {*sample, "source"}
            )
            self._kinds[kind] = known
        return known

    def _times(self, cells: Sequence[Any], now_ns: int) -> tuple[Ints, Any]:
        """Each row's time (0 where it has none) and whether it is one the mapper accepts."""
        known: dict[Any, int] = {}
        time_of = self._mapper.time_of
        for cell in dict.fromkeys(cells):
            try:
                known[cell] = time_of(cell)
            except ValueError:
                known[cell] = _NO_TIME
        ts: Ints = np.fromiter(map(known.__getitem__, cells), np.int64, len(cells))
        timed = ts != _NO_TIME
        timed &= ts <= now_ns + self._mapper.max_future_ns
        if self._mapper.max_age_ns is not None:
            timed &= ts >= now_ns - self._mapper.max_age_ns
        return ts, timed

    def _numbers(self, cells: Sequence[Any]) -> Floats:
        """Each cell as the record mapper reads a number; NaN where it would not (a blank, a word,
        a missing-value marker, a flag) or where it is not finite."""
        if self._mapper.source.decimal == ",":
            cells = [c.replace(".", "").replace(",", ".") if type(c) is str else c for c in cells]
        types = set(map(type, cells))
        if types <= {str, float, int}:
            try:
                out: Floats = np.fromiter(map(float, cells), np.float64, len(cells))
            except ValueError:
                out = np.fromiter(map(_number, cells), np.float64, len(cells))
        else:
            out = np.fromiter(map(_number, cells), np.float64, len(cells))
        if self._numeric_missing and str in types:
            marked = [type(c) is str and c.strip() in self._numeric_missing for c in cells]
            out[np.array(marked, bool)] = np.nan
        out[~np.isfinite(out)] = np.nan
        return out


_NO_TIME = np.iinfo(np.int64).min


def _number(cell: Any) -> float:
    """A cell as a number, NaN when it is not one (a flag is not a number)."""
    if type(cell) is bool or cell is None:
        return float("nan")
    try:
        return float(cell)
    except (TypeError, ValueError):
        return float("nan")
