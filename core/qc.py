"""Quality control: pure functions that give a reading its ``qc`` bit mask.

The value is always kept; a flag tells alerts to discount it. Bits (docs/operations.md):

====  ===========  =====================================================================
bit   name         set when
====  ===========  =====================================================================
1     RANGE        the main value is valid but implausible for the device (settings)
2     SPIKE        it departs from the median of the recent values by more than allowed
4     FLATLINE     the last ``flatline_count`` values are all identical (stuck sensor)
8     RATE         it changed faster than physics allows since the previous value
16    LOW_BATTERY  the device reported a battery voltage below ``low_battery_v``
32    SERVER_TIME  the device sent no timestamp; the receive time was used
64    APPROXIMATE  salinity derived from chloride below 0.5 ‰, where the ratio is rough
====  ===========  =====================================================================
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import IntFlag

from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Reading


class QcFlag(IntFlag):
    RANGE = 1
    SPIKE = 2
    FLATLINE = 4
    RATE = 8
    LOW_BATTERY = 16
    SERVER_TIME = 32
    APPROXIMATE = 64  # derived by a rough rule (chloride in fresh water): shown, not doubted


#: Flags that make a value untrustworthy on its own (alerts never fire on these alone).
BAD_FLAGS = QcFlag.RANGE | QcFlag.SPIKE | QcFlag.FLATLINE | QcFlag.RATE


@dataclass(frozen=True, slots=True)
class QcConfig:
    """Thresholds for salinity-like main values (‰). Defaults are placeholders to tune per site."""

    plausible_min: float = 0.0
    plausible_max: float = 40.0
    spike_abs: float = 3.0
    spike_rel: float = 1.0
    spike_window: int = 5
    flatline_count: int = 12
    max_rate_per_h: float = 10.0
    low_battery_v: float = 3.3


_RANGE, _SPIKE = int(QcFlag.RANGE), int(QcFlag.SPIKE)  # plain ints: IntFlag arithmetic is slow
_FLATLINE, _RATE = int(QcFlag.FLATLINE), int(QcFlag.RATE)


def flags_for_value(
    value: float, ts_ns: int, history: Sequence[tuple[int, float]], cfg: QcConfig
) -> int:
    """RANGE, SPIKE, FLATLINE and RATE for ``value`` given earlier ``(ts_ns, value)`` pairs.

    ``history`` is sorted by time and holds only values measured before ``ts_ns``.
    """
    flags = 0
    if not cfg.plausible_min <= value <= cfg.plausible_max:
        flags |= _RANGE
    if len(history) >= 3:
        recent = sorted([v for _, v in history[-cfg.spike_window :]])
        half = len(recent) // 2
        median = recent[half] if len(recent) % 2 else (recent[half - 1] + recent[half]) / 2
        deviation = abs(value - median)
        if deviation > cfg.spike_abs and deviation > cfg.spike_rel * abs(median):
            flags |= _SPIKE
    run = cfg.flatline_count - 1
    if (
        len(history) >= run
        and history[-1][1] == value  # cheap test first: most values differ from the last
        and all(v == value for _, v in history[-run:])
    ):
        flags |= _FLATLINE
    if history:
        prev_ts, prev_value = history[-1]
        hours = (ts_ns - prev_ts) / (3600 * NS_PER_S)
        if hours > 0 and abs(value - prev_value) / hours > cfg.max_rate_per_h:
            flags |= _RATE
    return flags


def battery_flags(battery_v: float | None, cfg: QcConfig) -> int:
    return int(QcFlag.LOW_BATTERY) if battery_v is not None and battery_v < cfg.low_battery_v else 0


def describe(qc: int) -> list[str]:
    """Names of the bits set in ``qc``, e.g. ``["SPIKE", "LOW_BATTERY"]``."""
    return [flag.name for flag in QcFlag if qc & flag and flag.name]


class QualityControl:
    """Keeps each device's recent main values and applies the pure checks to new readings.

    Backfilled (older) readings are judged against the values measured before them.
    """

    def __init__(self, cfg: QcConfig, depth: int = 32) -> None:
        self._cfg = cfg
        self._depth = max(depth, cfg.flatline_count, cfg.spike_window)
        self._history: dict[tuple[str, str], list[tuple[int, float]]] = {}

    def seed(self, kind: str, device: str, points: Iterable[tuple[int, float]]) -> None:
        """Earlier main values of a device (from the store, at start): a restarted process
        judges its first readings against them, as the process before it would have."""
        key = (kind, device)
        merged = dict(self._history.get(key, []))
        merged.update(points)
        self._history[key] = sorted(merged.items())[-self._depth :]

    def export(self) -> dict[str, list[tuple[int, float]]]:
        """Each device's recent main values, ``"<kind>/<device>"`` → [(ts, value)], for keeping
        on disk (ingest/qc_memory.py); call it from the thread that applies QC."""
        depth = self._depth
        return {f"{kind}/{device}": h[-depth:] for (kind, device), h in self._history.items()}

    def apply(self, reading: Reading, primary: str | None) -> Reading:
        battery = reading.fields.get("battery_v")
        qc = reading.qc | battery_flags(battery if isinstance(battery, float) else None, self._cfg)
        value = reading.fields.get(primary) if primary else None
        if isinstance(value, float):
            key = (reading.kind.value, reading.device)
            history = self._history.get(key)
            if history is None:
                history = self._history[key] = []
            ts = reading.ts_ns
            if not history or history[-1][0] < ts:  # the usual case: newer than all before
                qc |= flags_for_value(value, ts, history, self._cfg)
                history.append((ts, value))
                if len(history) > 2 * self._depth:
                    del history[: -self._depth]
            else:
                at = bisect_left(history, (ts, float("-inf")))
                qc |= flags_for_value(value, ts, history[:at], self._cfg)
                if at == len(history) or history[at][0] != ts:  # not a duplicate delivery
                    history.insert(at, (ts, value))
        return reading if qc == reading.qc else replace(reading, qc=qc)
