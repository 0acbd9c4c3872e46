"""Importing a file of readings (``saltwatch import``, docs/sources.md): a logger's export, a staff
spreadsheet, another agency's archive.

Every row goes the way a device's message goes: mapped by its source (core/mapping.py), judged by
the codec, flagged by QC; then, a chunk at a time, each reading's device and time are looked up
in the store (exactly those times, however much history lies around them): a time the store does
not hold is written, one it holds with the same values is left alone, one it holds with other
values is a conflict — reported with its row, never overwritten. So importing a file twice adds
nothing. A cursor on disk, advanced only after a chunk is durable, lets an interrupted import
resume where it stopped; a dry run reports the same counts and writes nothing.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from saltwatch.core.backoff import Backoff
from saltwatch.core.clock import Clock
from saltwatch.core.errors import RetryableError
from saltwatch.core.mapping import RecordMapper, SourceSettings
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.schema import measurement_for
from saltwatch.core.store import ReadingStore
from saltwatch.core.types import Reading, Rejection
from saltwatch.ingest.conflicts import differs, stored_at
from saltwatch.ingest.tables import Table

log = logging.getLogger("saltwatch.import")

#: rows judged, looked up and written together
CHUNK_ROWS = 20_000
#: how many refused or conflicting rows the report names (all are counted)
EXAMPLES = 20

_T = TypeVar("_T")
Progress = Callable[[int, int, int], None]  # bytes read, bytes in all, rows read


@dataclass(slots=True)
class ImportReport:
    file: str
    source: str
    dry_run: bool
    rows: int = 0
    stored: int = 0  # new readings written (or, in a dry run, that would be)
    already: int = 0  # the store held the same values at that time
    repeated: int = 0  # the same device and time again further down the file, same values
    conflicts: int = 0  # the store (or an earlier row) holds other values at that time
    refused: Counter[str] = field(default_factory=Counter)
    examples: list[tuple[int, str, str]] = field(default_factory=list)  # row, reason, detail
    resumed_from: int = 0  # rows skipped: imported before an interruption
    seconds: float = 0.0

    def note(self, row: int, reason: str, detail: str) -> None:
        if len(self.examples) < EXAMPLES:
            self.examples.append((row, reason, detail))

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "source": self.source,
            "dry_run": self.dry_run,
            "rows": self.rows,
            "stored": self.stored,
            "already_stored": self.already,
            "repeated_in_file": self.repeated,
            "conflicts": self.conflicts,
            "refused": dict(self.refused),
            "examples": [{"row": r, "reason": why, "detail": d} for r, why, d in self.examples],
            "resumed_from_row": self.resumed_from,
            "seconds": round(self.seconds, 2),
        }


class Cursor:
    """How many rows of one file (by content) a source has made durable: a small JSON file,
    replaced atomically after each chunk, removed when the import finishes."""

    def __init__(self, folder: Path, source: str, digest: str) -> None:
        self.path = folder / f"{source}-{digest[:32]}.json"

    def load(self) -> int:
        try:
            return int(json.loads(self.path.read_text())["rows_done"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def save(self, rows_done: int, file: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_suffix(".tmp")
        temporary.write_text(json.dumps({"rows_done": rows_done, "file": file}))
        os.replace(temporary, self.path)

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


class Importer:
    def __init__(
        self,
        source: SourceSettings,
        registry: Registry,
        store: ReadingStore,
        qc: QualityControl,
        clock: Clock,
        cursors: Path,
        max_future_s: float,
        patience_s: float = 60.0,
    ) -> None:
        self._mapper = RecordMapper(source, registry, max_future_s=max_future_s)
        self._source = source
        self._store = store
        self._qc = qc
        self._clock = clock
        self._cursors = cursors
        self._patience_s = patience_s

    def run(
        self, path: Path, dry_run: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        """Import one file; raises RetryableError when the store stays away longer than the
        patience (the cursor keeps what was done: run again to resume)."""
        started = time.monotonic()
        report = ImportReport(str(path), self._source.name, dry_run)
        table = Table(path, self._source)
        cursor = Cursor(self._cursors, self._source.name, file_digest(path))
        done = 0 if dry_run else cursor.load()
        report.resumed_from = done
        chunk: list[tuple[int, Reading]] = []
        last = 0
        for number, record in table.rows():
            last = number
            report.rows += 1
            if number <= done:
                continue
            mapped = self._mapper.map(record, self._clock.now_ns())
            if isinstance(mapped, Rejection):
                report.refused[mapped.reason] += 1
                report.note(number, mapped.reason, mapped.detail)
            else:
                chunk.append((number, mapped))
            if report.rows % CHUNK_ROWS == 0:
                self._settle(chunk, report, dry_run)
                chunk = []
                if not dry_run:
                    cursor.save(number, path.name)
                if progress is not None:
                    progress(table.position, table.size, report.rows)
        self._settle(chunk, report, dry_run)
        if not dry_run:
            cursor.finish()
        if progress is not None:
            progress(table.size, table.size, report.rows)
        report.seconds = time.monotonic() - started
        log.info("import of %s (%d rows) ended at row %d", path.name, report.rows, last)
        return report

    def _settle(
        self, chunk: list[tuple[int, Reading]], report: ImportReport, dry_run: bool
    ) -> None:
        """Decide each reading of ``chunk`` (new, already stored, repeated, conflict), then
        write the new ones."""
        if not chunk:
            return
        first: dict[tuple[str, str, int], Reading] = {}
        unique: list[tuple[int, Reading]] = []
        for number, reading in chunk:
            key = reading.key()
            earlier = first.get(key)
            if earlier is None:
                first[key] = reading
                unique.append((number, reading))
            elif differs(earlier.fields, reading.fields) is None:
                report.repeated += 1
            else:
                report.conflicts += 1
                report.note(number, "conflict", "an earlier row has other values at this time")
        readings = [r for _, r in unique]
        stored = self._patiently(
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
                report.already += 1
            else:
                report.conflicts += 1
                detail = f"the store holds another {changed} at this time; kept"
                report.note(number, "conflict", detail)
        if fresh and not dry_run:
            self._patiently(lambda: self._store.write(fresh))
        report.stored += len(fresh)

    def _patiently(self, call: Callable[[], _T]) -> _T:
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
