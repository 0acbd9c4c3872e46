"""One value per device and time: a second, different value for a time already stored is refused.

A device (or someone with its password) could once rewrite any of its last 30 days: the store
keeps one point per device and time and merged the second message's fields into the first. Now
the first value stays and the second is refused with reason ``conflict``; an identical copy (a
QoS 1 redelivery, a device that sends twice) is accepted as before, since writing it changes
nothing.

Each device's recent times are remembered with a digest of their values (the newest ``keep``):
a new reading at a remembered time is compared at once, one newer than all is new. One older
than what is remembered (a late backlog, or the first ones after a restart, which remembers only
each device's newest stored reading) is *unverified*: the writer asks the store for that
device's readings over those times, once per device and batch, before writing. While the store
is away an unverified reading cannot be checked and is spooled as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from saltwatch.core.schema import FieldValue
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

IGNORED = frozenset({"seq"})  # a resend may carry a new sequence number for the same measurement


def digest(fields: Mapping[str, FieldValue]) -> int:
    """The values of a reading, in any order, without those a resend may change."""
    return hash(frozenset([kv for kv in fields.items() if kv[0] not in IGNORED]))


def differs(first: Mapping[str, FieldValue], second: Mapping[str, FieldValue]) -> str | None:
    """The first field whose value two readings of one time disagree on, or None."""
    for name in sorted(set(first) | set(second)):
        if name not in IGNORED and first.get(name) != second.get(name):
            return name
    return None


@dataclass(slots=True)
class _Device:
    times: dict[int, int]  # ts → digest
    oldest: int  # below this nothing is remembered


class Conflicts:
    """Remembers each device's recent times (use from one thread: ingest's worker)."""

    def __init__(self, keep: int = 48) -> None:
        self.keep = keep
        self._devices: dict[str, _Device] = {}

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
        if ts < known.oldest:
            return None
        value = digest(reading.fields)
        seen = known.times.get(ts)
        if seen is not None:
            return seen == value
        known.times[ts] = value
        if len(known.times) > 2 * self.keep:
            kept = sorted(known.times)[-self.keep :]
            known.times = {t: known.times[t] for t in kept}
            known.oldest = kept[0]
        return True


def without_stored_conflicts(
    readings: list[Reading],
    unverified: list[Reading],
    store: ReadingStore,
    refuse: Callable[[Reading, str], None],
) -> list[Reading]:
    """``readings`` without those of ``unverified`` whose time ``store`` already holds with
    other values (each told to ``refuse`` with the field that differs); one query per device.
    Raises the store's RetryableError when it is away."""
    by_device: dict[tuple[TopicKind, str], list[Reading]] = {}
    for reading in unverified:
        by_device.setdefault((reading.kind, reading.device), []).append(reading)
    refused: set[tuple[str, int]] = set()
    for (kind, device), mine in by_device.items():
        start, end = min(r.ts_ns for r in mine), max(r.ts_ns for r in mine) + 1
        stored = {r.ts_ns: r.fields for r in store.query(kind, device, start, end)}
        for reading in mine:
            old = stored.get(reading.ts_ns)
            changed = differs(old, reading.fields) if old is not None else None
            if changed is not None and (device, reading.ts_ns) not in refused:
                refused.add((device, reading.ts_ns))
                refuse(reading, changed)
    if not refused:
        return readings
    return [r for r in readings if (r.device, r.ts_ns) not in refused]
