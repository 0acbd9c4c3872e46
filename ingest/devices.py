"""Per-device liveness: online/offline (status topic, last will), last seen, and ``seq`` gaps.

A gap is a run of ``seq`` numbers that never arrived: messages the device sent (or meant to send)
that were lost before they reached the broker. A late arrival that fills a gap (a store-and-forward
upload) takes it back; a jump backwards to a number never missed is a device restart.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

MAX_TRACKED_MISSING = 10_000


@dataclass(slots=True)
class DeviceState:
    online: bool | None = None
    status_at_ns: int | None = None
    last_seen_ns: int | None = None
    last_measured_ns: int | None = None
    highest_seq: int | None = None
    missing: set[int] = field(default_factory=set)
    lost: int = 0
    restarts: int = 0


@dataclass(frozen=True, slots=True)
class DeviceSnapshot:
    device: str
    online: bool | None
    status_at_ns: int | None
    last_seen_ns: int | None
    last_measured_ns: int | None
    seq_lost: int
    restarts: int


class DeviceTracker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._devices: dict[str, DeviceState] = {}

    def status(self, device: str, online: bool, now_ns: int) -> None:
        with self._lock:
            state = self._devices.setdefault(device, DeviceState())
            state.online = online
            state.status_at_ns = now_ns

    def seen(self, device: str, now_ns: int, measured_ns: int, seq: int | None) -> None:
        with self._lock:
            state = self._devices.setdefault(device, DeviceState())
            state.last_seen_ns = now_ns
            if state.last_measured_ns is None or measured_ns > state.last_measured_ns:
                state.last_measured_ns = measured_ns
            if seq is not None:
                _count_seq(state, seq)

    def snapshot(self) -> list[DeviceSnapshot]:
        with self._lock:
            return [
                DeviceSnapshot(
                    d,
                    s.online,
                    s.status_at_ns,
                    s.last_seen_ns,
                    s.last_measured_ns,
                    s.lost,
                    s.restarts,
                )
                for d, s in sorted(self._devices.items())
            ]

    def lost_total(self) -> int:
        with self._lock:
            return sum(s.lost for s in self._devices.values())


def _count_seq(state: DeviceState, seq: int) -> None:
    high = state.highest_seq
    if high is None:
        state.highest_seq = seq
    elif seq > high:
        gap = seq - high - 1
        if gap:
            state.lost += gap
            if len(state.missing) + gap <= MAX_TRACKED_MISSING:
                state.missing.update(range(high + 1, seq))
        state.highest_seq = seq
    elif seq in state.missing:
        state.missing.discard(seq)
        state.lost -= 1
    elif seq < high - 1 and seq <= 1:
        state.restarts += 1  # counting started again: a restarted device
        state.highest_seq = seq
        state.missing.clear()
    # else: a duplicate (QoS 1 redelivery, device resend): nothing changes
