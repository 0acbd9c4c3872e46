"""The building blocks of evaluation: what a rule concluded about one subject (``Judgement``),
runs of readings beyond a level with hold times and hysteresis, and the observation that follows
(None when it would change nothing). Pure, by measurement time."""

from __future__ import annotations

from collections.abc import Container
from typing import NamedTuple, Protocol

import numpy as np

from saltwatch.alerts.model import Fingerprint, Observation, Severity
from saltwatch.alerts.windows import DeviceWindow, FloatArray, IntArray
from saltwatch.core.rules import SEVERITY_RANK, SalinityLevels
from saltwatch.core.timeutil import NS_PER_S


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


CLEAR = Judgement(None, None, 0, None)


class _Everything:
    """Treats every fingerprint as open: evaluate then reports every rule's observation."""

    def __contains__(self, item: object) -> bool:
        return True


EVERYTHING = _Everything()


def observation(
    open_fps: Container[Fingerprint],
    rule: str,
    kind: str,
    device: str,
    j: Judgement,
    value: float | None,
    unit: str,
    at_ns: int,
) -> Observation | None:
    """The observation, or None when it would change nothing (clear, and no alert open)."""
    fingerprint = Fingerprint(rule, device)
    if j.severity is None and j.pending is None:
        if fingerprint not in open_fps:
            return None
        if j is CLEAR:
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


def beyond(
    value: float,
    limit: float,
    open_fps: Container[Fingerprint],
    fingerprint: Fingerprint,
    fraction: float,
) -> bool:
    """``value`` above ``limit``, with hysteresis: an open alert clears only once the value is
    back under ``fraction`` of the limit, so readings wavering around it raise one alert."""
    return value > (limit * fraction if fingerprint in open_fps else limit)


def below(
    value: float,
    limit: float,
    open_fps: Container[Fingerprint],
    fingerprint: Fingerprint,
    fraction: float,
) -> bool:
    """``value`` below ``limit``; an open alert clears only above ``limit / fraction``."""
    return value < (limit / fraction if fingerprint in open_fps else limit)


def flag(condition: bool, severity: Severity, since: int, threshold: float | None) -> Judgement:
    if not condition:
        return CLEAR
    return Judgement(severity if condition else None, None, since, threshold)
