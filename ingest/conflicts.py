"""One value per device and time: a second, different value for a time already stored is refused.

A device (or someone with its password) could once rewrite any of its last 30 days: the store
keeps one point per device and time and merged the second message's fields into the first. Now
the first value stays and the second is refused with reason ``conflict``; an identical copy (a
QoS 1 redelivery, a device that sends twice) is accepted as before, since writing it changes
nothing.

Each device's recent times are remembered with a digest of their values (the newest ``keep``):
a new reading at a remembered time is compared at once, one newer than all is new. One older
than what is remembered (a late backlog, or the first ones after a restart, which remembers only
each device's newest stored reading) is *unverified*: its value is claimed at once (so a second
value for that time, in the same batch or a later one, is a conflict here and now), and the
writer asks the store for exactly those times (``ReadingStore.at_times``: no row cap, however
much history lies between them) before writing. A stored value that differs wins and replaces
the claim. While the store is away an unverified reading cannot be checked and is spooled as it
is (docs/operations.md, guarantees).
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

import orjson

from saltwatch.core.schema import FieldValue
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

#: a resend may carry a new sequence number for the same measurement, and the same value may come
#: by two paths (a device's topic, then its logger's file): neither makes it another value
IGNORED = frozenset({"seq", "source"})


def digest(fields: Mapping[str, FieldValue]) -> int:
    """The values of a reading, in any order, without those a resend may change. Within this
    process only: Python salts the hash of a string per process."""
    return hash(frozenset([kv for kv in fields.items() if kv[0] not in IGNORED]))


def shared_digest(fields: Mapping[str, FieldValue]) -> int:
    """``digest`` that every process computes alike (the members' claims, ingest/claims.py):
    BLAKE2b of the values in name order. The codec and the stores give each field its schema's
    type, so equal values are equal bytes."""
    kept = dict(fields)
    for name in IGNORED:
        kept.pop(name, None)
    packed = orjson.dumps(kept, option=orjson.OPT_SORT_KEYS)
    return int.from_bytes(hashlib.blake2b(packed, digest_size=8).digest(), "big", signed=True)


def differs(first: Mapping[str, FieldValue], second: Mapping[str, FieldValue]) -> str | None:
    """The first field whose value two readings of one time disagree on, or None."""
    for name in sorted(set(first) | set(second)):
        if name not in IGNORED and first.get(name) != second.get(name):
            return name
    return None


class Settler(Protocol):
    def settle(self, reading: Reading, stored: Mapping[str, FieldValue]) -> None:
        """The store already holds ``stored`` at ``reading``'s time: remember that value."""
        ...


@dataclass(slots=True)
class _Device:
    times: dict[int, int]  # ts → digest
    oldest: int  # below this nothing is remembered


class Conflicts:
    """Remembers each device's recent times (use from one thread: ingest's worker)."""

    def __init__(self, keep: int = 48, claims: int = 200_000) -> None:
        self.keep = keep
        self._devices: dict[str, _Device] = {}
        # old times (below a device's ``oldest``) claimed or settled here, newest claims last
        self._claims: OrderedDict[tuple[str, int], int] = OrderedDict()
        self._max_claims = claims

    def seed(self, newest: Iterable[Reading]) -> None:
        """Each device's newest stored reading (at start): later ones are new without asking."""
        for reading in newest:
            self._devices[reading.device] = _Device(
                {reading.ts_ns: digest(reading.fields)}, reading.ts_ns
            )

    def check(self, reading: Reading) -> bool | None:
        """True: new or an identical copy (remembered now); False: a conflict; None: older than
        what is remembered, for the writer to verify against the store."""
        known = self._devices.get(reading.device)
        ts = reading.ts_ns
        if known is None:
            self._devices[reading.device] = _Device({ts: digest(reading.fields)}, ts)
            return True
        value = digest(reading.fields)
        if ts < known.oldest:
            key = (reading.device, ts)
            claimed = self._claims.get(key)
            if claimed is not None:
                return claimed == value
            self._claims[key] = value
            if len(self._claims) > self._max_claims:
                self._claims.popitem(last=False)
            return None
        seen = known.times.get(ts)
        if seen is not None:
            return seen == value
        known.times[ts] = value
        if len(known.times) > 2 * self.keep:
            kept = sorted(known.times)[-self.keep :]
            known.times = {t: known.times[t] for t in kept}
            known.oldest = kept[0]
        return True

    def settle(self, reading: Reading, stored: Mapping[str, FieldValue]) -> None:
        """The store already holds ``stored`` at ``reading``'s old time: that value is the one."""
        key = (reading.device, reading.ts_ns)
        if key in self._claims:
            self._claims[key] = digest(stored)


def stored_at(
    store: ReadingStore, readings: list[Reading]
) -> Iterator[tuple[Reading, Reading | None]]:
    """Each of ``readings`` with what ``store`` holds at its device and time (None: nothing),
    the store asked once per device for exactly those times. Raises the store's RetryableError
    when it is away."""
    by_device: dict[tuple[TopicKind, str], list[Reading]] = {}
    for reading in readings:
        by_device.setdefault((reading.kind, reading.device), []).append(reading)
    for (kind, device), mine in by_device.items():
        stored = store.at_times(kind, device, [r.ts_ns for r in mine])
        for reading in mine:
            yield reading, stored.get(reading.ts_ns)


def without_stored_conflicts(
    readings: list[Reading],
    unverified: list[Reading],
    store: ReadingStore,
    refuse: Callable[[Reading, str], None],
    conflicts: Settler | None = None,
) -> list[Reading]:
    """``readings`` without those of ``unverified`` whose time ``store`` already holds with
    other values (each told to ``refuse`` with the field that differs, and the stored value
    settled in ``conflicts``; ``stored_at``). Raises the store's RetryableError when it is
    away."""
    refused: set[tuple[str, int]] = set()
    for reading, old in stored_at(store, unverified):
        changed = differs(old.fields, reading.fields) if old is not None else None
        key = (reading.device, reading.ts_ns)
        if changed is not None and old is not None and key not in refused:
            refused.add(key)
            refuse(reading, changed)
            if conflicts is not None:
                conflicts.settle(reading, old.fields)
    if not refused:
        return readings
    return [r for r in readings if (r.device, r.ts_ns) not in refused]
