"""Pure evaluation: rules × device windows × now → observations (what each rule sees now).

Everything here goes by measurement time: hold times are measured between readings' own times, so
a backfilled batch is judged at the times it describes. Readings flagged bad by QC never count
for salinity rules. Hysteresis needs the current severity of each fingerprint, passed in.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable, Mapping
from typing import NamedTuple

import numpy as np

from saltwatch.alerts.judgement import (
    CLEAR,
    EVERYTHING,
    Judgement,
    WindowSource,
    flag,
    judge_levels,
    observation,
    trailing_run_start,
)
from saltwatch.alerts.model import Fingerprint, Observation, Severity
from saltwatch.alerts.supply_rules import nodata, tap, well
from saltwatch.alerts.windows import DeviceWindow, FloatArray, IntArray
from saltwatch.core.qc import QcFlag
from saltwatch.core.registry import Device, Registry
from saltwatch.core.rules import SEVERITY_RANK, RuleSet, SalinityLevels
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_datetime

H = 3600 * NS_PER_S


def evaluate(
    rules: RuleSet,
    registry: Registry,
    windows: WindowSource,
    current: Mapping[Fingerprint, Severity],
    now_ns: int,
    devices: Iterable[str] | None = None,
    statuses: Mapping[str, tuple[bool, int]] | None = None,
    started_ns: int | None = None,
    instant_only: bool = False,
    open_fingerprints: Container[Fingerprint] | None = None,
    blind: bool = False,
    regained_ns: int | None = None,
) -> list[Observation]:
    """Observations for ``devices`` (all registry devices by default).

    ``instant_only`` limits evaluation to the rules judged as readings arrive (thresholds on the
    latest values); the scheduled tick evaluates everything, no-data included, unless SaltWatch
    is ``blind`` (it cannot see its devices: alerts/system.py). ``regained_ns``: when it last
    saw them again; no device counts as silent from before then.
    """
    open_fps: Container[Fingerprint] = (
        EVERYTHING if open_fingerprints is None else open_fingerprints
    )
    out: list[Observation | None] = []
    names = list(devices) if devices is not None else list(registry.devices)
    month = _month(now_ns // (3600 * NS_PER_S))
    for name in names:
        device = registry.device(name)
        window = windows.get(name)
        if device is None:
            continue
        if not instant_only and not blind:
            judged = nodata(
                rules,
                device,
                window,
                now_ns,
                (statuses or {}).get(name),
                started_ns if started_ns is not None else now_ns,
                open_fps,
                regained_ns,
            )
            out.append(judged)
        if window is None or window.ts.size == 0:
            continue
        if device.kind == "salinity":
            out.extend(
                _salinity(rules, registry, device, window, current, month, instant_only, open_fps)
            )
        elif device.kind == "well":
            out.extend(well(rules, device, window, open_fps))
        elif device.kind == "tap":
            out.extend(tap(rules, device, window, open_fps))
        # a gate sensor: its no-data above; its gate is judged with its structure
        # (alerts/structures.py)
    return [o for o in out if o is not None]


@functools.lru_cache(maxsize=64)
def _month(hour: int) -> int:
    """The month (Vietnam time) of an hour since the epoch."""
    return to_datetime(hour * 3600 * NS_PER_S, VN_TZ).month


class _SalinityStats(NamedTuple):
    """What the salinity rules read from a window: computed once per window version."""

    ts: IntArray  # good readings only
    values: FloatArray
    peak: float  # tidal-day maximum of the good readings
    slope: float | None  # least-squares rise (‰/h) over the rate window
    slope_from: int
    flat_count: int  # FLATLINE-flagged readings ending the window
    flat_since: int
    spikes: int  # SPIKE-flagged readings in the tidal day
    day_start: int


def _salinity_stats(w: DeviceWindow, rules: RuleSet) -> _SalinityStats:
    key = (rules.defaults.tidal_day, rules.defaults.rate_window)
    cached = w.derived.get("salinity")
    if cached is not None and cached[0] == key:
        stats: _SalinityStats = cached[1]
        return stats
    ts, values = w.good_salinity()
    peak, slope, slope_from = float("nan"), None, int(w.ts[-1])
    if ts.size:
        peak = float(values[ts >= ts[-1] - rules.defaults.tidal_day * NS_PER_S].max())
        window = ts >= ts[-1] - rules.defaults.rate_window * NS_PER_S
        if window.sum() >= 3 and ts[window][-1] > ts[window][0]:
            x = (ts[window] - ts[window][0]) / H
            x = x - x.mean()
            y = values[window]
            slope = float((x * (y - y.mean())).sum() / (x * x).sum())  # least-squares slope
            slope_from = int(ts[window][0])
    flat_since = trailing_run_start((w.qc & int(QcFlag.FLATLINE)) != 0, w.ts)
    flat_count = int(np.sum(w.ts >= flat_since)) if flat_since is not None else 0
    day = w.ts >= w.ts[-1] - rules.defaults.tidal_day * NS_PER_S
    spikes = int(np.count_nonzero(w.qc[day] & int(QcFlag.SPIKE)))
    stats = _SalinityStats(
        ts,
        values,
        peak,
        slope,
        slope_from,
        flat_count,
        flat_since or int(w.ts[-1]),
        spikes,
        int(w.ts[day][0]),
    )
    w.derived["salinity"] = (key, stats)
    return stats


def judge_peak(
    peak: float, levels: SalinityLevels, clear_fraction: float, current: Severity | None
) -> Severity | None:
    """The tidal-day regime: no hold times, hysteresis on the clear level."""
    for severity in ("critical", "warning"):
        level = levels.level(severity)
        if current is not None and SEVERITY_RANK[severity] <= SEVERITY_RANK[current]:
            if peak >= clear_fraction * level:
                return severity
        elif peak >= level:
            return severity
    return None


def _salinity(
    rules: RuleSet,
    registry: Registry,
    device: Device,
    w: DeviceWindow,
    current: Mapping[Fingerprint, Severity],
    month: int,
    instant_only: bool,
    open_fps: Container[Fingerprint],
) -> list[Observation | None]:
    levels = rules.levels_for(device, registry, month)
    profile = device.profile.value if device.profile else "river"
    ts, values = w.good_salinity()
    out: list[Observation | None] = []
    cf = rules.defaults.clear_fraction
    last = int(w.ts[-1])
    watch = not levels.alerts  # a watch station: its salinity rules only clear (see SalinityLevels)
    if ts.size:
        rule = f"salinity-{profile}"
        judged = (
            CLEAR
            if watch
            else judge_levels(ts, values, levels, cf, current.get(Fingerprint(rule, device.id)))
        )
        out.append(
            observation(
                open_fps, rule, "salinity", device.id, judged, float(values[-1]), "‰", int(ts[-1])
            )
        )
    if instant_only:
        return out
    st = _salinity_stats(w, rules)
    if ts.size:
        rule = f"salinity-{profile}-tidal-day"
        severity = (
            None
            if watch
            else judge_peak(st.peak, levels, cf, current.get(Fingerprint(rule, device.id)))
        )
        threshold = levels.level(severity) if severity else None
        out.append(
            observation(
                open_fps,
                rule,
                "salinity",
                device.id,
                Judgement(severity, None, int(ts[-1]), threshold),
                st.peak,
                "‰",
                int(ts[-1]),
            )
        )
    if st.slope is not None:
        limit = rules.defaults.rate_max_per_h
        rising = current.get(Fingerprint("salinity-rise", device.id)) is not None
        firing = not watch and st.slope > (limit * cf if rising else limit)
        out.append(
            observation(
                open_fps,
                "salinity-rise",
                "salinity",
                device.id,
                flag(firing, "warning", st.slope_from, limit),
                round(st.slope, 3),
                "‰/h",
                last,
            )
        )
    d = rules.defaults
    out.append(
        observation(
            open_fps,
            "quality-flatline",
            "salinity",
            device.id,
            flag(
                st.flat_count >= d.quality_flatline,
                "info",
                st.flat_since,
                float(d.quality_flatline),
            ),
            float(st.flat_count),
            "readings",
            last,
        )
    )
    out.append(
        observation(
            open_fps,
            "quality-spikes",
            "salinity",
            device.id,
            flag(st.spikes >= d.quality_spikes, "info", st.day_start, float(d.quality_spikes)),
            float(st.spikes),
            "readings",
            last,
        )
    )
    return out
