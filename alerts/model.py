"""The alert pipeline's values, shared by alerts/ and analytics/ (which imports nothing else of
alerts/): an ``Observation`` (what a rule saw), an ``Alert`` (one episode of one fingerprint), an
``Event`` (a change worth telling) and the ``Fingerprint`` that names what an alert is about.
All are frozen and built by keyword.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from saltwatch.core.rules import Severity

__all__ = [
    "LATE_AFTER_NS",
    "SOON_RULE",
    "Alert",
    "Delivery",
    "Event",
    "Fingerprint",
    "Observation",
    "Severity",
    "Silence",
    "State",
    "group_of",
]


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """What an alert is about: the rule, its subject (a device, a river) and, where one subject
    has several at once, the part (an intake window's start). Written ``rule:subject[:part]``."""

    rule: str
    subject: str
    part: str = ""

    def __str__(self) -> str:
        return (
            f"{self.rule}:{self.subject}:{self.part}"
            if self.part
            else f"{self.rule}:{self.subject}"
        )

    @classmethod
    def parse(cls, text: str) -> Fingerprint:
        rule, _, rest = text.partition(":")
        subject, _, part = rest.partition(":")
        return cls(rule, subject, part)


@dataclass(frozen=True, slots=True, kw_only=True)
class Observation:
    """What a rule saw of one subject at one moment."""

    fingerprint: Fingerprint
    rule: str
    kind: str
    device: str  # "": a zone-wide subject (a river)
    severity: Severity | None  # the condition holds (for its hold time) at this severity
    pending: Severity | None = None  # the condition holds, its hold time not yet reached
    value: float | None
    threshold: float | None
    unit: str
    since_ns: int  # measurement time the condition (or its clearing) began
    at_ns: int  # the newest measurement time considered


#: an announced safe intake window opening soon (analytics/forecast_job.py): told only to the
#: receivers that asked for it (alerts/routing.py)
SOON_RULE = "intake-window-soon"

State = Literal["pending", "firing", "acknowledged", "resolved"]
#: a firing first seen this long after its measurement time is marked late (backfilled data)
LATE_AFTER_NS = 30 * 60 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Alert:
    id: str
    fingerprint: Fingerprint
    rule: str
    kind: str
    device: str | None
    zone: str
    severity: Severity
    state: State
    value: float | None
    threshold: float | None
    unit: str
    started_at_ns: int
    updated_at_ns: int
    resolved_at_ns: int | None = None
    acked_by: str | None = None
    acked_note: str | None = None
    acked_at_ns: int | None = None
    late: bool = False
    fired_at_ns: int | None = None  # when it (last) went firing: reminders and escalation count
    reminders: int = 0
    escalated: bool = False

    @property
    def open(self) -> bool:
        return self.state != "resolved"


@dataclass(frozen=True, slots=True)
class SystemAlert:
    """One kind of SaltWatch's own alerts: how grave, the part of SaltWatch in trouble (its
    group; None: the subject names it, as the failing channel does), and whether it means
    SaltWatch cannot see its devices (their no-data alerts then wait)."""

    severity: Severity
    group: str | None
    blinding: bool = False


#: every system alert, listed once (docs/interface.md §4); their words are in alerts/wording.py
SYSTEM_ALERTS: dict[str, SystemAlert] = {
    "broker-disconnected": SystemAlert("critical", "ingest:broker", blinding=True),
    "broker-session-lost": SystemAlert("critical", "ingest:broker"),
    "store-down": SystemAlert("warning", "ingest:store"),
    "spool-growing": SystemAlert("warning", "ingest:spool"),
    "ingest-stalled": SystemAlert("critical", "ingest:stalled", blinding=True),
    "forecast-stale": SystemAlert("warning", "forecast:stale"),
    "notifier-failing": SystemAlert("warning", None),
    "source-stale": SystemAlert("warning", "ingest:sources"),
    "alert-state-unsaved": SystemAlert("critical", "alerts:state"),
}


def group_of(alert: Alert) -> str:
    """The stable id of the alerts that share ``alert``'s cause (docs/interface.md §4): the
    no-data alerts of one zone together; a station's salinity alerts and its forecast of salt
    together (threshold, tidal day, rise, forecast: one station's salt); a system alert by the
    part of SaltWatch in trouble; any other alert on its own (its fingerprint)."""
    if alert.rule == "nodata":
        return f"nodata:{alert.zone}"
    if alert.device and alert.kind in ("salinity", "forecast"):
        return f"salinity:{alert.device}"
    if alert.kind == "system":
        known = SYSTEM_ALERTS.get(alert.rule)
        if known is not None and known.group is not None:
            return known.group
        return f"notifier:{alert.fingerprint.subject}"
    return str(alert.fingerprint)


@dataclass(frozen=True, slots=True)
class Event:
    """Something to tell people: the alert as it is after the change."""

    alert: Alert
    state: Literal["firing", "resolved", "acknowledged"]
    at_ns: int


@dataclass(frozen=True, slots=True)
class Delivery:
    """An event queued for one channel; ``key`` makes it the same notification (dedup)."""

    channel: str
    event: Event
    key: str


@dataclass(frozen=True, slots=True)
class Silence:
    """Mutes matching alerts from ``starts_ns`` to ``ends_ns``; None matches anything."""

    id: str
    zone: str | None
    device: str | None
    rule: str | None
    starts_ns: int
    ends_ns: int
    author: str
    reason: str

    def mutes(self, alert: Alert, zones: list[str], now_ns: int) -> bool:
        return (
            self.starts_ns <= now_ns < self.ends_ns
            and (self.zone is None or self.zone in zones)
            and (self.device is None or self.device == alert.device)
            and (self.rule is None or self.rule == alert.rule)
        )
