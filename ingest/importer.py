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

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from saltwatch.core.clock import Clock
from saltwatch.core.mapping import RecordMapper, SourceSettings
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.store import ReadingStore
from saltwatch.core.types import Reading, Rejection
from saltwatch.ingest.landing import Landing, Tally, save_json
from saltwatch.ingest.tables import Table

log = logging.getLogger("saltwatch.import")

#: rows judged, looked up and written together
CHUNK_ROWS = 20_000

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
        self._landing = Landing(store, qc, patience_s)
        self._clock = clock
        self._cursors = cursors

    def run(
        self, path: Path, dry_run: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        """Import one file; raises RetryableError when the store stays away longer than the
        patience (the cursor keeps what was done: run again to resume)."""
        started = time.monotonic()
        report = ImportReport(file=str(path), source=self._source.name, dry_run=dry_run)
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
                self._landing.settle(chunk, report, dry_run)
                chunk = []
                if not dry_run:
                    cursor.save(number, path.name)
                if progress is not None:
                    progress(table.position, table.size, report.rows)
        self._landing.settle(chunk, report, dry_run)
        if not dry_run:
            cursor.finish()
        if progress is not None:
            progress(table.size, table.size, report.rows)
        report.seconds = time.monotonic() - started
        log.info("import of %s (%d rows) ended at row %d", path.name, report.rows, last)
        return report
