"""Importing a file of readings (``saltwatch import``, docs/sources.md): a logger's export, a staff
spreadsheet, another agency's archive.

Every row goes the way a device's message goes: mapped by its source (core/mapping.py), judged by
the codec, flagged by QC; then, a chunk at a time, it lands (ingest/landing.py): a time the store
does not hold is written, one it holds with the same values is left alone, one it holds with
other values is a conflict — reported with its row, never overwritten. So importing a file twice
adds nothing. A cursor on disk, advanced only after a chunk is durable, lets an interrupted import
resume where it stopped; a dry run reports the same counts and writes nothing.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from saltwatch.core.batch_mapping import BatchMapper, Cells
from saltwatch.core.clock import Clock
from saltwatch.core.mapping import RecordMapper
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.sources import SourceSettings
from saltwatch.core.store import ReadingStore
from saltwatch.ingest.landing import Asked, Landing, Tally, save_json
from saltwatch.ingest.tables import Table

log = logging.getLogger("saltwatch.import")

#: the cycle collector's thresholds during an import (Python's: 700, 10, 10)
SPARSE_COLLECTION = (50_000, 50, 1000)
#: rows judged, looked up and written together
CHUNK_ROWS = 50_000

Progress = Callable[[int, int, int], None]  # bytes read, bytes in all, rows read


@dataclass(slots=True, kw_only=True)
class ImportReport(Tally):
    file: str
    source: str
    dry_run: bool
    rows: int = 0
    resumed_from: int = 0  # rows skipped: imported before an interruption
    seconds: float = 0.0

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
        save_json(self.path, {"rows_done": rows_done, "file": file})

    def finish(self) -> None:
        self.path.unlink(missing_ok=True)


@contextmanager
def _sparse_cycle_collection() -> Iterator[None]:
    """Python's cycle collector at sparse thresholds while a file is imported: a chunk makes a
    hundred thousand small lists and tuples, which at the usual thresholds it scans again and
    again (a third of an import's time). It still runs (the HTTP client leaves cycles that hold
    request bodies); the usual thresholds come back when the import ends. The thresholds are the
    process's: an API process importing two files at once restores them when the first ends."""
    thresholds = gc.get_threshold()
    gc.set_threshold(*SPARSE_COLLECTION)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


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
        self._mapper = BatchMapper(RecordMapper(source, registry, max_future_s=max_future_s))
        self._source = source
        self._landing = Landing(store, qc, patience_s)
        self._clock = clock
        self._cursors = cursors

    def run(
        self, path: Path, dry_run: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        """Import one file; raises RetryableError when the store stays away longer than the
        patience (the cursor keeps what was done: run again to resume)."""
        with _sparse_cycle_collection():
            return self._run(path, dry_run, progress)

    def _run(self, path: Path, dry_run: bool, progress: Progress | None) -> ImportReport:
        started = time.monotonic()
        report = ImportReport(file=str(path), source=self._source.name, dry_run=dry_run)
        table = Table(path, self._source)
        cursor = Cursor(self._cursors, self._source.name, table.scan())
        done = 0 if dry_run else cursor.load()
        report.resumed_from = done
        # A chunk is mapped and its lookups started, then the chunk before it is decided and
        # its write started: the store answers and writes while the next chunk is mapped.
        pending: tuple[Asked, int] | None = None  # asked, not decided; its last row
        landing = self._landing
        try:
            for chunk in table.chunks(CHUNK_ROWS):
                report.rows += len(chunk)
                numbers = chunk.numbers
                if numbers and numbers[-1] > done:
                    # rows made durable before a stop are left out
                    cells = chunk.after(done) if numbers[0] <= done else chunk
                    asked = self._ask(table.header, cells, report)
                    previous, pending = pending, None
                    if previous is not None:
                        landing.decide(previous[0], report, dry_run, tag=previous[1])
                        if not dry_run and landing.durable > done:
                            cursor.save(landing.durable, path.name)
                    pending = (asked, numbers[-1])
                if progress is not None:
                    progress(table.position, table.size, report.rows)
            previous, pending = pending, None
            if previous is not None:
                landing.decide(previous[0], report, dry_run, tag=previous[1])
            landing.wait()
        except BaseException:  # stopped (Ctrl-C, the store away): keep what was written
            landing.wait_quietly()
            if pending is not None and not dry_run and not landing.failed:
                self._finish(pending[0], report, tag=pending[1])
            if not dry_run and landing.durable > done:
                cursor.save(landing.durable, path.name)
            raise
        finally:
            self._landing.close()  # its threads: a server imports many files
        if not dry_run:
            cursor.finish()
        if progress is not None:
            progress(table.size, table.size, report.rows)
        report.examples.sort()
        report.seconds = time.monotonic() - started
        log.info("import of %s ended: %d rows", path.name, report.rows)
        return report

    def _ask(self, header: Sequence[str], cells: Cells, report: ImportReport) -> Asked:
        """Map a chunk's rows as columns, count the refused, ask the store about the rest."""
        batches, refused = self._mapper.map(header, cells, self._clock.now_ns())
        for number, rejection in refused:
            report.refused[rejection.reason] += 1
            report.note(number, rejection.reason, rejection.detail)
        return self._landing.ask(batches, report)

    def _finish(self, asked: Asked, report: ImportReport, tag: int) -> None:
        """On a stop: land the chunk in hand, if the store lets it."""
        try:
            self._landing.decide(asked, report, tag=tag)
            self._landing.wait()
        except Exception as exc:  # the caller raises its own reason
            log.warning("the chunk in hand was not landed: %s", exc)
