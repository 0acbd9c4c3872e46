"""No data: a device silent for longer than its interval allows, or offline by its own status
(a station out of its season is silent by design). Pure, by measurement time."""

from __future__ import annotations

from collections.abc import Container

from saltwatch.alerts.judgement import CLEAR, flag, observation
from saltwatch.alerts.model import Fingerprint, Observation
from saltwatch.alerts.windows import DeviceWindow
from saltwatch.core.registry import Device
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_datetime


def nodata(
    rules: RuleSet,
    device: Device,
    window: DeviceWindow | None,
    now_ns: int,
    status: tuple[bool, int] | None,
    started_ns: int,
    open_fps: Container[Fingerprint],
    regained_ns: int | None = None,
) -> Observation | None:
    """Silent for longer than its interval allows, or offline by its own status. Silence is
    counted from its last reading, from the start when it has none, and never from before
    SaltWatch last regained sight of the devices (``regained_ns``)."""
    limit_s = rules.defaults.nodata_factor * device.interval_s
    last = int(window.ts[-1]) if window is not None and window.ts.size else None
    if not device.active_in(to_datetime(now_ns, VN_TZ).month):
        # out of its season the station is silent by design: nothing is missing
        return observation(
            open_fps, "nodata", "nodata", device.id, CLEAR, None, "min", last or now_ns
        )
    reference = last if last is not None else started_ns
    if regained_ns is not None and Fingerprint("nodata", device.id) not in open_fps:
        reference = max(reference, regained_ns)  # an open one stays: it was seen before
    silent_s = (now_ns - reference) / NS_PER_S
    offline = status is not None and not status[0] and (last is None or status[1] >= last)
    firing = offline or silent_s > limit_s
    since = status[1] if offline and status is not None else reference
    judged = flag(firing, "warning", since, round(limit_s / 60, 1))
    return observation(
        open_fps,
        "nodata",
        "nodata",
        device.id,
        judged,
        round(max(silent_s, 0) / 60, 1),
        "min",
        last or now_ns,
    )
