"""Alert lifecycle: pending → firing → acknowledged → resolved, one episode per fingerprint.

``advance`` is pure: the open alert (or None), an observation and ``now`` give the next alert and
the event to notify, if any. Identity: ``fingerprint`` = rule + subject; ``id`` = one episode.
A missing observation changes nothing: no data is never read as "resolved" (it is its own
``nodata`` alert).
"""

from __future__ import annotations

import uuid
from dataclasses import replace

from saltwatch.alerts.model import LATE_AFTER_NS, Alert, Event, Observation
from saltwatch.core.rules import SEVERITY_RANK

__all__ = ["LATE_AFTER_NS", "Alert", "Event", "acknowledge", "advance", "new_id"]


def new_id() -> str:
    return uuid.uuid4().hex


def advance(
    alert: Alert | None, obs: Observation, zone: str, now_ns: int
) -> tuple[Alert | None, Event | None]:
    """The next state of ``alert`` given ``obs``; returns (alert or None, event or None)."""
    if obs.severity is not None:
        if alert is None or not alert.open or alert.state == "pending":
            late = now_ns - obs.since_ns > LATE_AFTER_NS
            fired = Alert(
                alert.id if alert is not None and alert.state == "pending" else new_id(),
                obs.fingerprint,
                obs.rule,
                obs.kind,
                obs.device or None,  # "": a zone-wide alert (salt front)
                zone,
                obs.severity,
                "firing",
                obs.value,
                obs.threshold,
                obs.unit,
                obs.since_ns,
                now_ns,
                late=late,
                fired_at_ns=now_ns,
            )
            return fired, Event(fired, "firing", now_ns)
        # a level (risk level) moves in place: same episode, its new value, a rise is told
        level_moved = obs.unit.startswith("level") and (
            obs.value != alert.value or obs.unit != alert.unit
        )
        if obs.severity != alert.severity or level_moved:
            rising = SEVERITY_RANK[obs.severity] > SEVERITY_RANK[alert.severity] or (
                level_moved and (obs.value or 0.0) > (alert.value or 0.0)
            )
            changed = replace(
                alert,
                severity=obs.severity,
                value=obs.value,
                threshold=obs.threshold,
                unit=obs.unit,
                updated_at_ns=now_ns,
                state="firing" if rising else alert.state,
                fired_at_ns=now_ns if rising else alert.fired_at_ns,
                escalated=alert.escalated and not rising,
            )
            # a rise is news; falling back to a lower level is not (the end will be told)
            return changed, Event(changed, "firing", now_ns) if rising else None
        return alert, None  # unchanged: nothing to write, nothing to tell
    if obs.pending is not None:
        if alert is None or not alert.open:
            pending = Alert(
                new_id(),
                obs.fingerprint,
                obs.rule,
                obs.kind,
                obs.device or None,  # "": a zone-wide alert (salt front)
                zone,
                obs.pending,
                "pending",
                obs.value,
                obs.threshold,
                obs.unit,
                obs.since_ns,
                now_ns,
            )
            return pending, None
        if alert.state == "pending":
            return replace(alert, severity=obs.pending, value=obs.value, updated_at_ns=now_ns), None
    if alert is None or not alert.open:
        return alert, None
    if alert.state == "pending":
        return None, None  # never fired: forget it quietly
    if obs.pending is not None:
        return alert, None
    resolved = replace(
        alert, state="resolved", value=obs.value, updated_at_ns=now_ns, resolved_at_ns=obs.since_ns
    )
    return resolved, Event(resolved, "resolved", now_ns)


def acknowledge(alert: Alert, by: str, note: str | None, now_ns: int) -> tuple[Alert, Event]:
    if alert.state not in ("firing", "acknowledged"):
        raise ValueError(f"alert {alert.id} is {alert.state}, not firing")
    acked = replace(
        alert,
        state="acknowledged",
        acked_by=by,
        acked_note=note,
        acked_at_ns=now_ns,
        updated_at_ns=now_ns,
    )
    return acked, Event(acked, "acknowledged", now_ns)
