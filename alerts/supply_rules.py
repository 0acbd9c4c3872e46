"""The rules of the supply side: backup wells (fault, stopped in their hours, level, salinity)
and public taps (tank, no flow). Pure, by measurement time."""

from __future__ import annotations

from collections.abc import Container

from saltwatch.alerts.judgement import below, beyond, flag, observation, trailing_run_start
from saltwatch.alerts.model import Fingerprint, Observation
from saltwatch.alerts.windows import DeviceWindow
from saltwatch.core.registry import Device
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S, in_hours


def well(
    rules: RuleSet, device: Device, w: DeviceWindow, open_fps: Container[Fingerprint]
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
        observation(
            open_fps,
            "well-fault",
            "well",
            device.id,
            flag(w.fault is not None, "critical", w.fault_ts, None),
            None,
            "",
            last,
        ),
        observation(
            open_fps,
            "well-stopped",
            "well",
            device.id,
            flag(stopped, "warning", stopped_since or last, r.stopped_grace / 60),
            None,
            "min",
            last,
        ),
        observation(
            open_fps,
            "well-level-low",
            "well",
            device.id,
            flag(
                beyond(
                    level,
                    r.level_low_m,
                    open_fps,
                    Fingerprint("well-level-low", device.id),
                    r.clear_fraction,
                ),
                "warning",
                last,
                r.level_low_m,
            ),
            level,
            "m",
            last,
        ),
        observation(
            open_fps,
            "well-salinity",
            "well",
            device.id,
            flag(
                beyond(
                    salinity,
                    r.salinity_max,
                    open_fps,
                    Fingerprint("well-salinity", device.id),
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


def tap(
    rules: RuleSet, device: Device, w: DeviceWindow, open_fps: Container[Fingerprint]
) -> list[Observation | None]:
    r, last = rules.tap, int(w.ts[-1])
    tank = float(w.values["tank_pct"][-1])
    is_open, flow = w.values["open"], w.values["flow_lpm"]
    dry_since = None
    if is_open[-1] == 1 and flow[-1] == 0:  # cheap test first: most taps flow or are shut
        dry_since = trailing_run_start((is_open == 1) & (flow == 0), w.ts)
    dry = dry_since is not None and last - dry_since >= r.open_no_flow * NS_PER_S
    return [
        observation(
            open_fps,
            "tap-tank-low",
            "tap",
            device.id,
            flag(
                below(
                    tank,
                    r.tank_low_pct,
                    open_fps,
                    Fingerprint("tap-tank-low", device.id),
                    r.clear_fraction,
                ),
                "warning",
                last,
                r.tank_low_pct,
            ),
            tank,
            "%",
            last,
        ),
        observation(
            open_fps,
            "tap-no-flow",
            "tap",
            device.id,
            flag(dry, "warning", dry_since or last, r.open_no_flow / 60),
            None,
            "min",
            last,
        ),
    ]
