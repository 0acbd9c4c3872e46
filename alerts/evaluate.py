"""Pure evaluation: rules × device windows × now → observations (what each rule sees now).

Each kind of device has its rules in a module of their own (alerts/salinity_rules.py,
alerts/supply_rules.py for wells and taps, alerts/nodata_rule.py for every device), built from
the parts in alerts/judgement.py. Everything goes by measurement time: hold times are measured
between readings' own times, so a backfilled batch is judged at the times it describes.
Hysteresis needs the current severity of each fingerprint, passed in.
"""

from __future__ import annotations

import functools
from collections.abc import Container, Iterable, Mapping

from saltwatch.alerts.judgement import EVERYTHING, WindowSource
from saltwatch.alerts.model import Fingerprint, Observation, Severity
from saltwatch.alerts.nodata_rule import nodata
from saltwatch.alerts.salinity_rules import salinity
from saltwatch.alerts.supply_rules import tap, well
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_datetime


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
                salinity(rules, registry, device, window, current, month, instant_only, open_fps)
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
