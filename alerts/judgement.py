"""The parts every rule is built from: what a rule concluded about one subject (``Judgement``),
the run of readings that ends a window, a value beyond a limit with hysteresis, and the
observation that follows (None when it would change nothing). Pure, by measurement time."""

from __future__ import annotations

from collections.abc import Container
from typing import NamedTuple, Protocol

import numpy as np

from saltwatch.alerts.model import Fingerprint, Observation, Severity
from saltwatch.alerts.windows import DeviceWindow, IntArray


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
