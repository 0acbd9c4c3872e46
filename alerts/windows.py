"""Recent readings per device, in memory, as numpy arrays ordered by measurement time.

Fed by ingest (the same process) or by the alerts process's own subscription, warmed from the store
at start. Late (backfilled) readings are inserted at their measurement times.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

import numpy as np
import numpy.typing as npt

from saltwatch.core.qc import BAD_FLAGS
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Numeric fields kept per kind (booleans as 0/1); ``qc`` is always kept.
FIELDS: dict[TopicKind, tuple[str, ...]] = {
    TopicKind.SALINITY: ("salinity_ppt",),
    TopicKind.WELL: ("running", "flow_m3h", "level_m", "salinity_ppt"),
    TopicKind.TAP: ("open", "flow_lpm", "tank_pct"),
    TopicKind.GATE: ("opening_pct",),
    TopicKind.HYDRO: ("level_m", "discharge_m3s"),  # no rule of its own: no-data only
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

    def good_salinity(self) -> tuple[IntArray, FloatArray]:
        """The salinity readings QC passed, times and values: what every salinity rule reads."""
        cached: tuple[IntArray, FloatArray] | None = self.derived.get("good")
        if cached is None:
            values = self.values["salinity_ppt"]
            good = ((self.qc & int(BAD_FLAGS)) == 0) & ~np.isnan(values)
            cached = self.derived["good"] = (self.ts[good], values[good])
        return cached

    def as_of(self, ts_ns: int) -> DeviceWindow:
        """The window as it stood at ``ts_ns`` (its readings up to then), for judging the past."""
        if self.ts.size == 0 or ts_ns >= self.ts[-1]:
            return self
        k = int(self.ts.searchsorted(ts_ns, "right"))
        past = DeviceWindow(
            self.kind,
            self.ts[:k],
            self.qc[:k],
            {n: v[:k] for n, v in self.values.items()},
            self.fault,
            self.fault_ts,
        )
        good: tuple[IntArray, FloatArray] | None = self.derived.get("good")
        if good is not None:  # a prefix of the good readings: no need to look again
            j = int(good[0].searchsorted(ts_ns, "right"))
            past.derived["good"] = (good[0][:j], good[1][:j])
        return past

    def with_readings(self, readings: list[Reading], keep_ns: int) -> DeviceWindow:
        """A new window: this one's data and ``readings``, in time order, trimmed to ``keep_ns``
        before the newest. A window is never changed in place, so a reader holding one sees
        consistent arrays while ingest adds the next readings."""
        names = FIELDS[self.kind]
        ts = np.array(list(map(_TS, readings)), np.int64)
        qc = np.array(list(map(_QC, readings)), np.int64)
        fields = list(map(_FIELDS, readings))
        cols = {m: _column([f.get(m) for f in fields]) for m in names}
        fault, fault_ts = self.fault, self.fault_ts
        if self.kind is TopicKind.WELL:
            for r in readings:
                if r.ts_ns >= fault_ts:
                    value = r.fields.get("fault")
                    fault, fault_ts = (value if isinstance(value, str) else None), r.ts_ns
        in_order = bool(np.all(ts[1:] > ts[:-1])) and (self.ts.size == 0 or ts[0] > self.ts[-1])
        all_ts = np.concatenate([self.ts, ts])
        all_qc = np.concatenate([self.qc, qc])
        values = {m: np.concatenate([self.values.get(m, np.empty(0)), cols[m]]) for m in names}
        if in_order:  # the usual case: appended after the newest, nothing to sort
            first = int(all_ts.searchsorted(all_ts[-1] - keep_ns, "left"))
            return DeviceWindow(
                self.kind,
                all_ts[first:],
                all_qc[first:],
                {m: v[first:] for m, v in values.items()},
                fault,
                fault_ts,
            )
        order = np.argsort(all_ts, kind="stable")
        all_ts = all_ts[order]
        keep = np.ones(all_ts.size, bool)
        keep[:-1] = all_ts[1:] != all_ts[:-1]  # a repeated time: the later delivery wins
        keep &= all_ts >= all_ts[-1] - keep_ns
        return DeviceWindow(
            self.kind,
            all_ts[keep],
            all_qc[order][keep],
            {m: v[order][keep] for m, v in values.items()},
            fault,
            fault_ts,
        )


_TS, _QC, _FIELDS = attrgetter("ts_ns"), attrgetter("qc"), attrgetter("fields")


def _column(values: list[Any]) -> FloatArray:
    """Numbers as floats (booleans 0/1), an absent value NaN. The fields kept are numbers or
    booleans (the codec checked their types), so one conversion in C usually does."""
    try:
        return np.array(values, np.float64)
    except TypeError:  # a None among them
        return np.array([_num(v) for v in values], np.float64)


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

    def add(self, readings: Iterable[Reading]) -> dict[str, int]:
        """Add readings; returns each device that got new data with the oldest measurement time
        of what it got."""
        grouped: dict[str, list[Reading]] = {}
        for reading in readings:
            grouped.setdefault(reading.device, []).append(reading)
        spans: dict[str, int] = {}
        for device, items in grouped.items():
            with self._lock:
                window = self._devices.get(device) or DeviceWindow(items[0].kind)
            updated = window.with_readings(items, self.keep_ns)  # outside the lock: readers go on
            with self._lock:
                self._devices[device] = updated
            spans[device] = min(r.ts_ns for r in items)
        return spans

    def get(self, device: str) -> DeviceWindow | None:
        with self._lock:
            return self._devices.get(device)

    def devices(self) -> list[str]:
        with self._lock:
            return list(self._devices)
