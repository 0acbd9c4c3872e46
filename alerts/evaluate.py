"""Pure evaluation: rules × device windows × now → observations (what each rule sees now).

Everything here goes by measurement time: hold times are measured between readings' own times, so
a backfilled batch is judged at the times it describes. Readings flagged bad by QC never count
for salinity rules. Hysteresis needs the current severity of each fingerprint, passed in.
"""

from __future__ import annotations

from collections.abc import Container, Iterable, Mapping
from typing import NamedTuple, Protocol

import numpy as np

from alerts.model import Fingerprint, Observation, Severity
from alerts.windows import DeviceWindow, FloatArray, IntArray
from core.qc import BAD_FLAGS, QcFlag
from core.registry import Device, Registry
from core.rules import SEVERITY_RANK, RuleSet, SalinityLevels
from core.timeutil import NS_PER_S, VN_TZ, in_hours, to_datetime

H = 3600 * NS_PER_S


class WindowSource(Protocol):
    def get(self, device: str) -> DeviceWindow | None: ...


class Judgement(NamedTuple):
    severity: Severity | None
    pending: Severity | None
    since_ns: int
    threshold: float | None


def trailing_run_start(mask: np.ndarray, ts: IntArray) -> int | None:
    """Time of the first element of the run of True values that ends the array, or None."""
    if mask.size == 0 or not mask[-1]:
        return None
    false_at = np.flatnonzero(~mask)
    return int(ts[false_at[-1] + 1]) if false_at.size else int(ts[0])


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


_CLEAR = Judgement(None, None, 0, None)


class _Everything:
    """Treats every fingerprint as open: evaluate then reports every rule's observation."""

    def __contains__(self, item: object) -> bool:
        return True


_ALL = _Everything()


def _obs(
    open_fps: Container[str],
    rule: str,
    kind: str,
    device: str,
    j: Judgement,
    value: float | None,
    unit: str,
    at_ns: int,
) -> Observation | None:
    """The observation, or None when it would change nothing (clear, and no alert open)."""
    fingerprint = str(Fingerprint(rule, device))
    if j.severity is None and j.pending is None:
        if fingerprint not in open_fps:
            return None
        if j is _CLEAR:
            j = Judgement(None, None, at_ns, None)
    return Observation(
        fingerprint=fingerprint,
        rule=rule,
        kind=kind,
        device=device,
        severity=j.severity,
        pending=j.pending,
        value=value,
        threshold=j.threshold,
        unit=unit,
        since_ns=j.since_ns,
        at_ns=at_ns,
    )


def _beyond(
    value: float, limit: float, open_fps: Container[str], fingerprint: str, fraction: float
) -> bool:
    """``value`` above ``limit``, with hysteresis: an open alert clears only once the value is
    back under ``fraction`` of the limit, so readings wavering around it raise one alert."""
    return value > (limit * fraction if fingerprint in open_fps else limit)


def _below(
    value: float, limit: float, open_fps: Container[str], fingerprint: str, fraction: float
) -> bool:
    """``value`` below ``limit``; an open alert clears only above ``limit / fraction``."""
    return value < (limit / fraction if fingerprint in open_fps else limit)


def _flag(condition: bool, severity: Severity, since: int, threshold: float | None) -> Judgement:
    if not condition:
        return _CLEAR
    return Judgement(severity if condition else None, None, since, threshold)


def evaluate(
    rules: RuleSet,
    registry: Registry,
    windows: WindowSource,
    current: Mapping[str, Severity],
    now_ns: int,
    devices: Iterable[str] | None = None,
    statuses: Mapping[str, tuple[bool, int]] | None = None,
    started_ns: int | None = None,
    instant_only: bool = False,
    open_fingerprints: Container[str] | None = None,
) -> list[Observation]:
    """Observations for ``devices`` (all registry devices by default).

    ``instant_only`` limits evaluation to the rules judged as readings arrive (thresholds on the
    latest values); the scheduled tick evaluates everything, no-data included.
    """
    open_fps: Container[str] = _ALL if open_fingerprints is None else open_fingerprints
    out: list[Observation | None] = []
    names = list(devices) if devices is not None else list(registry.devices)
    month = to_datetime(now_ns, VN_TZ).month
    for name in names:
        device = registry.device(name)
        window = windows.get(name)
        if device is None:
            continue
        if not instant_only:
            nodata = _nodata(
                rules,
                device,
                window,
                now_ns,
                (statuses or {}).get(name),
                started_ns if started_ns is not None else now_ns,
                open_fps,
            )
            out.append(nodata)
        if window is None or window.ts.size == 0:
            continue
        if device.kind == "salinity":
            out.extend(
                _salinity(rules, registry, device, window, current, month, instant_only, open_fps)
            )
        elif device.kind == "well":
            out.extend(_well(rules, device, window, open_fps))
        else:
            out.extend(_tap(rules, device, window, open_fps))
    return [o for o in out if o is not None]


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
    good = ((w.qc & int(BAD_FLAGS)) == 0) & ~np.isnan(w.values["salinity_ppt"])
    ts, values = w.ts[good], w.values["salinity_ppt"][good]
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
    current: Mapping[str, Severity],
    month: int,
    instant_only: bool,
    open_fps: Container[str],
) -> list[Observation | None]:
    levels = rules.levels_for(device, registry, month)
    profile = device.profile.value if device.profile else "river"
    st = _salinity_stats(w, rules)
    ts, values = st.ts, st.values
    out: list[Observation | None] = []
    cf = rules.defaults.clear_fraction
    last = int(w.ts[-1])
    if ts.size:
        rule = f"salinity-{profile}"
        judged = judge_levels(ts, values, levels, cf, current.get(f"{rule}:{device.id}"))
        out.append(
            _obs(open_fps, rule, "salinity", device.id, judged, float(values[-1]), "‰", int(ts[-1]))
        )
    if instant_only:
        return out
    if ts.size:
        rule = f"salinity-{profile}-tidal-day"
        severity = judge_peak(st.peak, levels, cf, current.get(f"{rule}:{device.id}"))
        threshold = levels.level(severity) if severity else None
        out.append(
            _obs(
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
        rising = current.get(f"salinity-rise:{device.id}") is not None
        firing = st.slope > (limit * cf if rising else limit)
        out.append(
            _obs(
                open_fps,
                "salinity-rise",
                "salinity",
                device.id,
                _flag(firing, "warning", st.slope_from, limit),
                round(st.slope, 3),
                "‰/h",
                last,
            )
        )
    d = rules.defaults
    out.append(
        _obs(
            open_fps,
            "quality-flatline",
            "salinity",
            device.id,
            _flag(
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
        _obs(
            open_fps,
            "quality-spikes",
            "salinity",
            device.id,
            _flag(st.spikes >= d.quality_spikes, "info", st.day_start, float(d.quality_spikes)),
            float(st.spikes),
            "readings",
            last,
        )
    )
    return out


def _well(
    rules: RuleSet, device: Device, w: DeviceWindow, open_fps: Container[str]
) -> list[Observation | None]:
    r, last = rules.well, int(w.ts[-1])
    level = float(w.values["level_m"][-1])
    salinity = float(w.values["salinity_ppt"][-1])
    running = w.values["running"]
    stopped_since = trailing_run_start(running == 0, w.ts) if running[-1] == 0 else None
    stopped = (
        stopped_since is not None
        and in_hours(device.hours, last / NS_PER_S)
        and last - stopped_since >= r.stopped_grace * NS_PER_S
        and w.fault is None
    )
    return [
        _obs(
            open_fps,
            "well-fault",
            "well",
            device.id,
            _flag(w.fault is not None, "critical", w.fault_ts, None),
            None,
            "",
            last,
        ),
        _obs(
            open_fps,
            "well-stopped",
            "well",
            device.id,
            _flag(stopped, "warning", stopped_since or last, r.stopped_grace / 60),
            None,
            "min",
            last,
        ),
        _obs(
            open_fps,
            "well-level-low",
            "well",
            device.id,
            _flag(
                _beyond(
                    level, r.level_low_m, open_fps, f"well-level-low:{device.id}", r.clear_fraction
                ),
                "warning",
                last,
                r.level_low_m,
            ),
            level,
            "m",
            last,
        ),
        _obs(
            open_fps,
            "well-salinity",
            "well",
            device.id,
            _flag(
                _beyond(
                    salinity,
                    r.salinity_max,
                    open_fps,
                    f"well-salinity:{device.id}",
                    r.clear_fraction,
                ),
                "warning",
                last,
                r.salinity_max,
            ),
            salinity,
            "‰",
            last,
        ),
    ]


def _tap(
    rules: RuleSet, device: Device, w: DeviceWindow, open_fps: Container[str]
) -> list[Observation | None]:
    r, last = rules.tap, int(w.ts[-1])
    tank = float(w.values["tank_pct"][-1])
    is_open, flow = w.values["open"], w.values["flow_lpm"]
    dry_since = None
    if is_open[-1] == 1 and flow[-1] == 0:  # cheap test first: most taps flow or are shut
        dry_since = trailing_run_start((is_open == 1) & (flow == 0), w.ts)
    dry = dry_since is not None and last - dry_since >= r.open_no_flow * NS_PER_S
    return [
        _obs(
            open_fps,
            "tap-tank-low",
            "tap",
            device.id,
            _flag(
                _below(
                    tank, r.tank_low_pct, open_fps, f"tap-tank-low:{device.id}", r.clear_fraction
                ),
                "warning",
                last,
                r.tank_low_pct,
            ),
            tank,
            "%",
            last,
        ),
        _obs(
            open_fps,
            "tap-no-flow",
            "tap",
            device.id,
            _flag(dry, "warning", dry_since or last, r.open_no_flow / 60),
            None,
            "min",
            last,
        ),
    ]


def _nodata(
    rules: RuleSet,
    device: Device,
    window: DeviceWindow | None,
    now_ns: int,
    status: tuple[bool, int] | None,
    started_ns: int,
    open_fps: Container[str],
) -> Observation | None:
    limit_s = rules.defaults.nodata_factor * device.interval_s
    last = int(window.ts[-1]) if window is not None and window.ts.size else None
    if not device.active_in(to_datetime(now_ns, VN_TZ).month):
        # out of its season the station is silent by design: nothing is missing
        return _obs(open_fps, "nodata", "nodata", device.id, _CLEAR, None, "min", last or now_ns)
    reference = last if last is not None else started_ns
    silent_s = (now_ns - reference) / NS_PER_S
    offline = status is not None and not status[0] and (last is None or status[1] >= last)
    firing = offline or silent_s > limit_s
    since = status[1] if offline and status is not None else reference
    judged = _flag(firing, "warning", since, round(limit_s / 60, 1))
    return _obs(
        open_fps,
        "nodata",
        "nodata",
        device.id,
        judged,
        round(max(silent_s, 0) / 60, 1),
        "min",
        last or now_ns,
    )
