"""Where readings of a source that is not a live device stream become durable: a file's chunk,
a vendor cloud's page (docs/sources.md).

Each reading's device and time are looked up in the store (exactly those times, however much
history lies around them): a time the store does not hold is written, one it holds with the same
values is *already stored*, one it holds with other values is a *conflict* — counted and named,
the stored value kept. Two readings of one batch with the same device and time: the second is
*repeated* when equal, a conflict when not. The caller advances its own cursor only after
``settle`` returned: what it settled is durable.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from saltwatch.core.backoff import Backoff
from saltwatch.core.columns import DeviceColumns, Floats, Ints
from saltwatch.core.errors import RetryableError
from saltwatch.core.qc import QualityControl
from saltwatch.core.schema import FieldType, measurement_for
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series
from saltwatch.ingest.conflicts import IGNORED, differs, stored_at

log = logging.getLogger("saltwatch.sources")

#: chunks whose writes may go on at once
WRITES_AT_ONCE = 2
#: how many refused or conflicting records a tally names (all are counted)
EXAMPLES = 20
_T = TypeVar("_T")


@dataclass(slots=True)
class Tally:
    stored: int = 0  # new readings written (or, in a dry run, that would be)
    already: int = 0  # the store held the same values at that time
    repeated: int = 0  # the same device and time again in the batch, same values
    conflicts: int = 0  # the store (or an earlier record) holds other values at that time
    refused: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int, str, str]] = field(default_factory=list)  # where, reason, detail

    def note(self, where: int, reason: str, detail: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append((where, reason, detail))


@dataclass(slots=True)
class Asked:
    """A chunk whose lookups are under way (``Landing.ask``)."""

    batches: list[DeviceColumns]
    kept: list[Ints]  # per device, its rows that are the first at their time
    stored: list[Future[Series]]  # per device, what the store holds at those times


def save_json(path: Path, value: object) -> None:
    """``value`` as ``path``, written whole then renamed: a crash leaves the previous file. For
    the sources' cursors, which only ever move forward over readings already durable."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(value))
    os.replace(temporary, path)


class Landing:
    def __init__(self, store: ReadingStore, qc: QualityControl, patience_s: float = 60.0) -> None:
        self._store = store
        self._qc = qc
        self._patience_s = patience_s
        self._pool: ThreadPoolExecutor | None = None
        # chunks decided and not known durable yet: their write (None: nothing to write), tag
        self._writes: deque[tuple[Future[None] | None, int]] = deque()
        self.durable = 0  # the tag of the newest chunk written, with every one before it
        self.failed = False  # a write failed (``wait_quietly``): nothing after it is durable
        # the new readings of the last chunks decided (WRITES_AT_ONCE + 1): the store may not
        # show them yet
        self._in_flight: list[dict[tuple[TopicKind, str], DeviceColumns]] = []

    def settle(
        self, batch: list[tuple[int, Reading]], tally: Tally, dry_run: bool = False
    ) -> list[Reading]:
        """Decide each reading of ``batch`` (numbered: a row, a record), write the new ones and
        return them. Raises RetryableError when the store stays away past the patience."""
        if not batch:
            return []
        first: dict[tuple[str, str, int], Reading] = {}
        unique: list[tuple[int, Reading]] = []
        for number, reading in batch:
            key = reading.key()
            earlier = first.get(key)
            if earlier is None:
                first[key] = reading
                unique.append((number, reading))
            elif differs(earlier.fields, reading.fields) is None:
                tally.repeated += 1
            else:
                tally.conflicts += 1
                tally.note(number, "conflict", "an earlier record has other values at this time")
        readings = [r for _, r in unique]
        stored = self.patiently(
            lambda: {r.key(): old for r, old in stored_at(self._store, readings)}
        )
        fresh: list[Reading] = []
        qc = self._qc
        for number, reading in unique:
            old = stored.get(reading.key())
            if old is None:
                fresh.append(qc.apply(reading, measurement_for(reading.kind).primary))
                continue
            changed = differs(old.fields, reading.fields)
            if changed is None:
                tally.already += 1
            else:
                tally.conflicts += 1
                tally.note(number, "conflict", f"the store holds another {changed}; kept")
        if fresh and not dry_run:
            self.patiently(lambda: self._store.write(fresh))
        tally.stored += len(fresh)
        return fresh

    def ask(self, batches: list[DeviceColumns], tally: Tally) -> Asked:
        """``settle`` for a chunk held as columns (core/columns.py, each device's rows in record
        order), in two halves: this one counts the chunk's own repeats and asks the store (two
        devices at a time) what it holds at the chunk's times; the caller maps its next chunk
        while the store answers, then calls ``decide``. The same decisions, counts and writes
        as ``settle``, without an object per row."""
        pool = self._threads()
        kept = [self._first_of_each_time(batch, tally) for batch in batches]
        stored = [
            pool.submit(
                self.patiently,
                partial(self._store.values_at, b.kind, b.device, b.ts_ns[k].tolist()),
            )
            for b, k in zip(batches, kept, strict=True)
        ]
        return Asked(batches, kept, stored)

    def decide(self, asked: Asked, tally: Tally, dry_run: bool = False, tag: int = 0) -> int:
        """The second half of ``ask``: each row new, already stored or a conflict; the new ones
        judged by QC and written. The write goes on after this returns, up to
        ``WRITES_AT_ONCE`` chunks' writes at once (influxd parses one while it syncs another);
        ``durable`` names the newest chunk (by its ``tag``) written with all before it. When the
        store was asked, it may not have shown the last ``WRITES_AT_ONCE + 1`` chunks decided
        (written, being written, or decided just after it was asked): their new readings count
        as stored too."""
        fresh: list[DeviceColumns] = []
        for batch, mine, stored in zip(asked.batches, asked.kept, asked.stored, strict=True):
            held = stored.result()
            key = (batch.kind, batch.device)
            writes = [written[key] for written in self._in_flight if key in written]
            if writes:
                times = np.sort(batch.ts_ns[mine])
                for columns in writes:
                    held = _with(held, columns, times)
            new = self._against_stored(batch, mine, held, tally)
            if len(new):
                self._qc.apply_columns(new)
                fresh.append(new)
        count = sum(len(batch) for batch in fresh)
        writing: Future[None] | None = None
        if fresh and not dry_run:
            while sum(f is not None for f, _ in self._writes) >= WRITES_AT_ONCE:
                self._settled(block=True)
            write = partial(self._store.write_columns, fresh)
            writing = self._threads().submit(self.patiently, write)
            written = {(b.kind, b.device): b for b in fresh}
            self._in_flight = [written, *self._in_flight[:WRITES_AT_ONCE]]
        self._writes.append((writing, tag))
        self._settled(block=False)
        tally.stored += count
        return count

    def _settled(self, block: bool) -> None:
        """Move ``durable`` past the oldest writes that ended (the oldest one, waiting for it,
        when ``block``); raises what a write raised."""
        while self._writes:
            writing, tag = self._writes[0]
            if writing is not None:
                if not block and not writing.done():
                    return
                writing.result()
                block = False
            self._writes.popleft()
            self.durable = tag

    def wait(self) -> None:
        """Until every chunk decided is durable: ``decide`` returns while it is written, so that
        the next chunk is mapped meanwhile. Raises what a write raised."""
        while self._writes:
            self._settled(block=True)

    def wait_quietly(self) -> None:
        """``wait``, for a caller already stopping: ``durable`` says how far the writes went;
        what a write raised is logged, not raised."""
        try:
            self.wait()
        except Exception as exc:  # the caller raises its own reason
            log.warning("a chunk's write did not end: %s", exc)
            self.failed = True
            for writing, _ in self._writes:
                if writing is not None:
                    writing.exception()  # let the rest end; nothing after a failure is durable
            self._writes.clear()

    def close(self) -> None:
        self._in_flight = []
        self.durable, self.failed = 0, False
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def _threads(self) -> ThreadPoolExecutor:
        """Threads to write chunks while the caller maps the next, and two to look a chunk's
        devices up (influxd answers on the machine's other core)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(2 + WRITES_AT_ONCE, thread_name_prefix="landing")
        return self._pool

    @staticmethod
    def _first_of_each_time(batch: DeviceColumns, tally: Tally) -> Ints:
        """The rows whose time is the first of its kind in the chunk, in record order; each later
        one is counted a repeat when its values are the same, a conflict when not."""
        times, first = np.unique(batch.ts_ns, return_index=True)  # by time, not by record
        if len(first) == len(batch):
            return np.arange(len(batch))
        later = np.setdiff1d(np.arange(len(batch)), first)
        earlier = first[np.searchsorted(times, batch.ts_ns[later])]
        same = np.ones(len(later), bool)
        for column in batch.values.values():
            a, b = column[later], column[earlier]
            same &= (a == b) | (np.isnan(a) & np.isnan(b))
        tally.repeated += int(same.sum())
        tally.conflicts += int((~same).sum())
        for where in batch.where[later[~same]].tolist():
            tally.note(where, "conflict", "an earlier record has other values at this time")
        kept: Ints = np.sort(first)
        return kept

    @staticmethod
    def _against_stored(
        batch: DeviceColumns, kept: Ints, stored: Series, tally: Tally
    ) -> DeviceColumns:
        """The rows at ``kept`` the store does not hold; those it holds are counted already
        stored (the same values) or conflicts (other values: the stored ones are kept)."""
        if not stored.ts_ns:
            return batch.take(kept)
        times = batch.ts_ns[kept]
        order = np.argsort(times)
        found = np.array(stored.ts_ns, np.int64)
        held = order[np.searchsorted(times[order], found)]  # each stored time's place in kept
        fields = measurement_for(batch.kind).fields
        names = sorted(
            ({n for n in stored.values if n in fields} | set(batch.values)) - IGNORED - {"qc"}
        )
        diff: dict[str, Any] = {}
        for name in names:
            mine = batch.values.get(name)
            new = np.full(len(held), np.nan) if mine is None else mine[kept[held]]
            old = _floats(stored.values.get(name), len(held), fields.get(name))
            if old is None:  # a stored value that is not a number: no file row has it
                diff[name] = np.array([v is not None for v in stored.values[name]], bool)
            else:
                diff[name] = ~((new == old) | (np.isnan(new) & np.isnan(old)))
        differing = np.zeros(len(held), bool)
        for mask in diff.values():
            differing |= mask
        tally.already += int((~differing).sum())
        tally.conflicts += int(differing.sum())
        for i in np.flatnonzero(differing).tolist():
            changed = next(name for name in names if diff[name][i])
            where = int(batch.where[kept[held[i]]])
            tally.note(where, "conflict", f"the store holds another {changed}; kept")
        new_rows = np.ones(len(kept), bool)
        new_rows[held] = False
        return batch.take(kept[new_rows])

    def patiently(self, call: Callable[[], _T]) -> _T:
        """``call()``, again while the store is away, for up to the patience."""
        deadline = time.monotonic() + self._patience_s
        backoff = Backoff(initial=0.5, cap=10.0)
        while True:
            try:
                return call()
            except RetryableError as exc:
                wait = backoff.next()
                if time.monotonic() + wait > deadline:
                    raise
                log.warning("the store is away (%s): trying again in %.1f s", exc, wait)
                time.sleep(wait)


def _floats(values: list[Any] | None, n: int, ftype: FieldType | None) -> Floats | None:
    """A stored float column with NaN for None; None when the field is not a number."""
    if values is None:
        return np.full(n, np.nan)
    if ftype is not FieldType.FLOAT:
        return None
    if None in values:
        return np.array([np.nan if v is None else v for v in values], np.float64)
    return np.array(values, np.float64)


def _with(stored: Series, writing: DeviceColumns, asked: Ints) -> Series:
    """``stored`` (the store's answer for the times ``asked``, sorted) and the rows of
    ``writing`` (a write that may not have ended) at asked times the store did not name: what
    the store holds there once that write ends. Its rows had no stored value (else they would
    not be written), so the two never disagree."""
    times = writing.ts_ns
    if not len(times) or times.max() < asked[0] or times.min() > asked[-1]:
        return stored  # chunks follow each other in time: the usual case
    mine = np.isin(times, asked) & ~np.isin(times, np.array(stored.ts_ns, np.int64))
    rows = np.flatnonzero(mine)
    if not len(rows):
        return stored
    out = Series(stored.device, list(stored.ts_ns), {k: list(v) for k, v in stored.values.items()})
    before = len(out.ts_ns)
    out.ts_ns.extend(times[rows].tolist())
    for name, column in writing.values.items():
        values = [None if math.isnan(v) else v for v in column[rows].tolist()]
        out.values.setdefault(name, [None] * before).extend(values)
    for name, value in writing.text.items():
        out.values.setdefault(name, [None] * before).extend([value] * len(rows))
    for values in out.values.values():
        values.extend([None] * (len(out.ts_ns) - len(values)))
    return out
