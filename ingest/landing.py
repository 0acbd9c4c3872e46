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
import os
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from saltwatch.core.backoff import Backoff
from saltwatch.core.errors import RetryableError
from saltwatch.core.qc import QualityControl
from saltwatch.core.schema import measurement_for
from saltwatch.core.store import ReadingStore
from saltwatch.core.types import Reading
from saltwatch.ingest.conflicts import differs, stored_at

log = logging.getLogger("saltwatch.sources")

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
