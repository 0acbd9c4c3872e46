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

import math
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntFlag

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from saltwatch.core.columns import DeviceColumns, Floats, Ints
from saltwatch.core.schema import measurement_for
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


def good_value(reading: Reading, name: str) -> float | None:
    """The reading's number ``name`` where QC let the reading through (None: flagged bad, or
    no such number): what a chart, a front or a forecast may use."""
    value = reading.fields.get(name)
    if reading.qc & BAD_FLAGS or not isinstance(value, float | int) or isinstance(value, bool):
        return None
    return float(value)


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
            qc |= self._judge((reading.kind.value, reading.device), reading.ts_ns, value)
        if qc == reading.qc:
            return reading
        # the constructor: dataclasses.replace costs several times as much, on every flagged reading
        r = reading
        return Reading(r.kind, r.device, r.ts_ns, r.fields, qc, r.zone, r.river)

    def _judge(self, key: tuple[str, str], ts: int, value: float) -> int:
        """The value flags of one main value, which is then remembered."""
        history = self._history.get(key)
        if history is None:
            history = self._history[key] = []
        if not history or history[-1][0] < ts:  # the usual case: newer than all before
            flags = flags_for_value(value, ts, history, self._cfg)
            history.append((ts, value))
            if len(history) > 2 * self._depth:
                del history[: -self._depth]
            return flags
        at = bisect_left(history, (ts, float("-inf")))
        # the checks look at most ``depth`` values back: a long backlog copies no more
        flags = flags_for_value(value, ts, history[max(0, at - self._depth) : at], self._cfg)
        if at == len(history) or history[at][0] != ts:  # not a duplicate delivery
            history.insert(at, (ts, value))
        return flags

    def apply_columns(self, columns: DeviceColumns) -> None:
        """``apply`` to each row of ``columns`` in their order, adding the flags to
        ``columns.qc``: the same flags and the same memory, found with numpy when the rows are
        in time order after everything remembered (a file's usual case), one by one otherwise."""
        cfg = self._cfg
        battery = columns.values.get("battery_v")
        if battery is not None:
            columns.qc |= np.where(battery < cfg.low_battery_v, int(QcFlag.LOW_BATTERY), 0)
        primary = measurement_for(columns.kind).primary
        values = columns.values.get(primary) if primary else None
        if values is None or not len(values):
            return
        key = (columns.kind.value, columns.device)
        history = self._history.setdefault(key, [])
        ts = columns.ts_ns
        in_order = (
            bool(np.isfinite(values).all())
            and bool((np.diff(ts) > 0).all())
            and (not history or history[-1][0] < int(ts[0]))
            and cfg.flatline_count >= 2
            and cfg.spike_window >= 3
        )
        if not in_order:
            for i, value in enumerate(values.tolist()):
                if not math.isnan(value):
                    columns.qc[i] |= self._judge(key, int(ts[i]), value)
            return
        columns.qc |= flags_in_order(history, ts, values, cfg)
        keep = _kept(len(history), len(values), self._depth)
        tail = list(zip(ts[-keep:].tolist(), values[-keep:].tolist(), strict=True))
        history[:] = [*history[len(history) + len(tail) - keep :], *tail]


def _kept(before: int, added: int, depth: int) -> int:
    """How long a history of ``before`` values is after ``added`` appends, each append trimming
    it to ``depth`` once it passes ``2 * depth`` (as ``_judge`` does)."""
    if before + added <= 2 * depth:
        return before + added
    return depth + (added - (2 * depth + 1 - before)) % (depth + 1)


def flags_in_order(
    history: Sequence[tuple[int, float]], ts: Ints, values: Floats, cfg: QcConfig
) -> Ints:
    """``flags_for_value`` for each of ``values`` (finite, times increasing, all after
    ``history``), each judged against ``history`` and the values before it."""
    t = np.concatenate([np.array([h[0] for h in history], np.int64), ts])
    x = np.concatenate([np.array([h[1] for h in history], np.float64), values])
    start = len(history)
    p = np.arange(start, len(x))  # each new value's place
    flags = np.where((values < cfg.plausible_min) | (values > cfg.plausible_max), _RANGE, 0)
    w = cfg.spike_window
    median = np.full(len(values), np.nan)
    whole = p >= w
    if whole.any():
        windows = sliding_window_view(x[:-1], w)  # windows[k] = x[k : k + w]
        median[whole] = np.median(windows[p[whole] - w], axis=1)
    for j in np.flatnonzero((p >= 3) & ~whole).tolist():  # fewer than a window before it
        median[j] = float(np.median(x[: p[j]]))
    deviation = np.abs(values - median)
    spike = (deviation > cfg.spike_abs) & (deviation > cfg.spike_rel * np.abs(median))
    flags |= np.where(spike, _SPIKE, 0)
    run = cfg.flatline_count - 1
    long = p >= run
    if long.any():
        windows = sliding_window_view(x[:-1], run)
        same = (windows[p[long] - run] == values[long, None]).all(axis=1)
        flat = np.zeros(len(values), bool)
        flat[long] = same
        flags |= np.where(flat, _FLATLINE, 0)
    after = p >= 1
    hours = (t[p[after]] - t[p[after] - 1]) / (3600 * NS_PER_S)
    fast = np.zeros(len(values), bool)
    fast[after] = np.abs(values[after] - x[p[after] - 1]) / hours > cfg.max_rate_per_h
    flags |= np.where(fast, _RATE, 0)
    result: Ints = flags.astype(np.int64)
    return result
