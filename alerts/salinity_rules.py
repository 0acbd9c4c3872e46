"""The salinity rules of a station: its levels with hold times and hysteresis
(``salinity-<profile>``), the tidal day's peak, a fast rise, and the sensor's own trouble (a flat
line, repeated spikes). Readings QC flagged bad never count. Pure, by measurement time."""

from __future__ import annotations

from collections.abc import Container, Mapping
from typing import NamedTuple

import numpy as np

from saltwatch.alerts.judgement import CLEAR, Judgement, flag, observation, trailing_run_start
from saltwatch.alerts.model import Fingerprint, Observation, Severity
from saltwatch.alerts.windows import DeviceWindow, FloatArray, IntArray
from saltwatch.core.qc import QcFlag
from saltwatch.core.registry import Device, Registry
from saltwatch.core.rules import SEVERITY_RANK, RuleSet, SalinityLevels
from saltwatch.core.timeutil import NS_PER_S

H = 3600 * NS_PER_S


def judge_levels(
    ts: IntArray,
    values: FloatArray,
    levels: SalinityLevels,
    clear_fraction: float,
    current: Severity | None,
) -> Judgement:
    """Thresholds with hold times and hysteresis over good readings (oldest first)."""
    last = int(ts[-1])
    pending: tuple[Severity, int, float] | None = None
    for severity in ("critical", "warning"):
        level = levels.level(severity)
        if current is not None and SEVERITY_RANK[severity] <= SEVERITY_RANK[current]:
            below_since = trailing_run_start(values < clear_fraction * level, ts)
            if below_since is None or last - below_since < levels.hold_clear * NS_PER_S:
                return Judgement(severity, None, below_since or last, level)
            continue  # cleared at this severity: look at the next one down
        above_since = trailing_run_start(values >= level, ts)
        if above_since is None:
            continue
        if last - above_since >= levels.hold(severity) * NS_PER_S:
            return Judgement(severity, None, above_since, level)
        if pending is None:
            pending = (severity, above_since, level)
    if pending is not None:
        return Judgement(None, pending[0], pending[1], pending[2])
    return Judgement(None, None, last, None)


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


def salinity(
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
