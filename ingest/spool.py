"""The ingester's local spool: an on-disk FIFO of batches that the store could not take.

Each batch is one file, written to a temporary name, fsynced, then renamed into place (so a crash
leaves either the whole batch or nothing), and removed only after the store took it. Draining is
idempotent: a batch written to the store just before a crash is written again after it, which
overwrites the same points. The total size is bounded; a full spool refuses new batches, which the
caller turns into backpressure on the broker.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from pathlib import Path

from saltwatch.core.types import Reading, decode_readings, encode_readings

_SUFFIX = ".batch"
#: A disk that cannot take a batch now but may later (full, over quota, turned read-only, its
#: permissions changed): ingest holds its acknowledgements until it can, rather than stopping.
_WAIT_FOR_DISK = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM})
log = logging.getLogger("saltwatch.ingest")


class Spool:
    def __init__(self, folder: Path, max_bytes: int) -> None:
        self.folder = folder
        self.max_bytes = max_bytes
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for leftover in folder.glob("*.tmp"):
            leftover.unlink()  # a crash during a put: that batch was never acknowledged
        files = self._files()
        self._bytes = sum(f.stat().st_size for f in files)
        self._count = len(files)
        self._next = int(files[-1].stem) + 1 if files else 0
        self.quarantined: list[str] = sorted(str(p) for p in (folder / "quarantine").glob("*"))
        # the last write found no space left, or a read-only disk: backpressure until it can
        self.disk_full = False

    def _files(self) -> list[Path]:
        return sorted(self.folder.glob("*" + _SUFFIX))

    @property
    def depth(self) -> int:
        """Batches waiting."""
        return self._count

    @property
    def size_bytes(self) -> int:
        return self._bytes

    def put(self, readings: list[Reading]) -> bool:
        """Store a batch durably; False when it would exceed ``max_bytes`` or the disk has no
        space left (the caller then holds its acknowledgements and tries again: the process
        goes on, and nothing half-written is left behind); a read-only disk is treated alike."""
        data = encode_readings(readings)
        with self._lock:
            if self._bytes + len(data) > self.max_bytes:
                return False
            name = f"{self._next:016d}{_SUFFIX}"
            self._next += 1
        tmp = self.folder / (name + ".tmp")
        try:
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            tmp.rename(self.folder / name)
            self._fsync_folder()
        except OSError as exc:
            if exc.errno not in _WAIT_FOR_DISK:
                raise
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            if not self.disk_full:
                log.warning("the spool in %s cannot be written now (%s)", self.folder, exc)
            self.disk_full = True
            return False
        if self.disk_full:
            log.info("the spool's disk has space again")
        self.disk_full = False
        with self._lock:
            self._bytes += len(data)
            self._count += 1
        return True

    def oldest(self) -> tuple[Path, list[Reading]] | None:
        """The oldest batch and its file, or None when empty. A file that cannot be read back
        (a damaged disk, a hand edit) is moved to ``quarantine/``, named in the log and in
        ``quarantined``, and the batches behind it drain."""
        for path in self._files():
            try:
                return path, decode_readings(path.read_bytes())
            except (ValueError, TypeError, KeyError) as exc:  # orjson's errors are ValueErrors
                self._quarantine(path, exc)
        return None

    def _quarantine(self, path: Path, exc: Exception) -> None:
        into = self.folder / "quarantine"
        into.mkdir(exist_ok=True)
        size = path.stat().st_size
        path.rename(into / path.name)
        self._fsync_folder()
        with self._lock:
            self._bytes -= size
            self._count -= 1
            self.quarantined.append(str(into / path.name))
        log.error(
            "spool batch %s cannot be read (%s): moved to %s; the batches behind it go on",
            path.name,
            exc,
            into / path.name,
        )

    def remove(self, path: Path) -> None:
        size = path.stat().st_size
        path.unlink()
        self._fsync_folder()
        with self._lock:
            self._bytes -= size
            self._count -= 1

    def _fsync_folder(self) -> None:
        fd = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def adopt(into: Path, orphans: list[Path]) -> int:
    """Move the batches waiting in ``orphans`` (spool folders that no process drains any more:
    the fleet was resized, or switched between one process and ``--workers``) into the spool
    folder ``into``, behind its own batches; returns how many moved. Call it before a ``Spool``
    opens ``into``. Each move is one rename, so a crash half-way leaves every batch in exactly
    one folder, and the next start moves the rest."""
    into.mkdir(parents=True, exist_ok=True)
    mine = sorted(into.glob("*" + _SUFFIX))
    after = int(mine[-1].stem) + 1 if mine else 0
    moved = 0
    for folder in orphans:
        for batch in sorted(folder.glob("*" + _SUFFIX)):
            batch.rename(into / f"{after:016d}{_SUFFIX}")
            after += 1
            moved += 1
    if moved:
        fd = os.open(into, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
        log.warning("moved %d spooled batches from %s into %s", moved, orphans, into)
    return moved
