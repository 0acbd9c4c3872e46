"""Recent readings per device, in memory, as numpy arrays ordered by measurement time.

Fed by ingest (the same process) or by the alerts process's own subscription, warmed from the store
at start. Late (backfilled) readings are inserted at their measurement times.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from core.topics import TopicKind
from core.types import Reading

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Numeric fields kept per kind (booleans as 0/1); ``qc`` is always kept.
FIELDS: dict[TopicKind, tuple[str, ...]] = {
    TopicKind.SALINITY: ("salinity_ppt",),
    TopicKind.WELL: ("running", "flow_m3h", "level_m", "salinity_ppt"),
    TopicKind.TAP: ("open", "flow_lpm", "tank_pct"),
}


@dataclass(slots=True)
class DeviceWindow:
    kind: TopicKind
    ts: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    qc: IntArray = field(default_factory=lambda: np.empty(0, np.int64))
    values: dict[str, FloatArray] = field(default_factory=dict)
    fault: str | None = None  # the latest well fault code
    fault_ts: int = -1
    derived: dict[str, Any] = field(default_factory=dict)  # what rules computed from this data

    def add(self, readings: list[Reading], keep_ns: int) -> None:
        names = FIELDS[self.kind]
        ts = np.fromiter((r.ts_ns for r in readings), np.int64, len(readings))
        qc = np.fromiter((r.qc for r in readings), np.int64, len(readings))
        cols = {n: np.array([_num(r.fields.get(n)) for r in readings], np.float64) for n in names}
        for r in readings:
            if self.kind is TopicKind.WELL and r.ts_ns >= self.fault_ts:
                fault = r.fields.get("fault")
                self.fault, self.fault_ts = (fault if isinstance(fault, str) else None), r.ts_ns
        all_ts = np.concatenate([self.ts, ts])
        order = np.argsort(all_ts, kind="stable")
        all_ts = all_ts[order]
        keep = np.ones(all_ts.size, bool)
        keep[:-1] = all_ts[1:] != all_ts[:-1]  # a repeated time: the later delivery wins
        keep &= all_ts >= all_ts[-1] - keep_ns
        self.derived = {}  # new data: whatever was computed from the old is stale
        self.ts = all_ts[keep]
        self.qc = np.concatenate([self.qc, qc])[order][keep]
        self.values = {
            n: np.concatenate([self.values.get(n, np.empty(0)), cols[n]])[order][keep]
            for n in names
        }


def _num(value: object) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, int | float):
        return float(value)
    return float("nan")


class Windows:
    """Every device's window; thread-safe for one writer (ingest) and one reader (the tick)."""

    def __init__(self, keep_s: float = 26 * 3600.0) -> None:
        self.keep_ns = int(keep_s * 1e9)
        self._lock = threading.Lock()
        self._devices: dict[str, DeviceWindow] = {}

    def add(self, readings: Iterable[Reading]) -> set[str]:
        """Add readings; returns the devices that got new data."""
        grouped: dict[str, list[Reading]] = {}
        for reading in readings:
            grouped.setdefault(reading.device, []).append(reading)
        with self._lock:
            for device, items in grouped.items():
                window = self._devices.get(device)
                if window is None:
                    window = self._devices[device] = DeviceWindow(items[0].kind)
                window.add(items, self.keep_ns)
        return set(grouped)

    def get(self, device: str) -> DeviceWindow | None:
        with self._lock:
            return self._devices.get(device)

    def devices(self) -> list[str]:
        with self._lock:
            return list(self._devices)
