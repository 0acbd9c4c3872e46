"""QC's memory of each device's recent values, kept on local disk.

After a restart QC must judge the first readings as the process before it would have: a spike
is still a spike. The store holds that history, but a restart while the store is away (the chaos
soak's SIGKILL one second after influxd went down) left QC without any, and spikes passed as
good readings and raised critical alerts. So the memory is also written to a local file (beside
the spool, or the alert state for the ``alerts`` process) every ``every_s`` and at a clean stop,
and read back at start before the store is asked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path

import orjson

from saltwatch.core.qc import QualityControl

log = logging.getLogger("saltwatch.ingest")


class QcMemory:
    def __init__(
        self,
        qc: QualityControl,
        path: Path,
        every_s: float = 10.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.qc = qc
        self.path = path
        self.every_s = every_s
        self._monotonic = monotonic
        self._next = monotonic() + every_s
        self._failing = False

    def load(self) -> int:
        """Seed QC from the file; how many devices it held (0: none, or unreadable: said)."""
        try:
            data = orjson.loads(self.path.read_bytes())
            devices = data["devices"]
            for key, points in devices.items():
                kind, _, device = key.partition("/")
                self.qc.seed(kind, device, [(int(ts), float(value)) for ts, value in points])
        except FileNotFoundError:
            return 0
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            log.warning("QC memory %s not read (%s): QC starts from the store", self.path, exc)
            return 0
        log.info("QC history of %d devices read from %s", len(devices), self.path)
        return len(devices)

    def maybe_save(self) -> None:
        """Save when due (call it from the thread that applies QC)."""
        if self._monotonic() >= self._next:
            self.save()

    def save(self) -> None:
        """Write the memory whole, then rename: a crash leaves the previous file intact. A disk
        that refuses is said once and tried again later; ingest goes on."""
        self._next = self._monotonic() + self.every_s
        body = orjson.dumps({"version": 1, "devices": self.qc.export()})
        temporary = self.path.with_name(f".{self.path.name}.tmp")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with temporary.open("wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except OSError as exc:
            if not self._failing:
                log.warning("QC memory not saved to %s: %s", self.path, exc)
            self._failing = True
            with contextlib.suppress(OSError):
                temporary.unlink(missing_ok=True)
            return
        self._failing = False
