"""SaltWatch's own troubles as alerts of kind ``system`` (docs/interface.md), and what they hold
back.

Each check, every probe the process has says whether one condition is bad *now*; the watch
remembers since when it has been bad and raises the condition's alert once that lasts its hold
time. The probes are plain callables, so ``serve`` (ingest in the process) watches more than the
``alerts`` process (its own feed only):

- ``broker-disconnected`` (critical): the MQTT connection that brings readings is down, for
  ``alerts.system_after``;
- ``store-down`` (warning): the reading store takes no writes (readings wait in the spool), for
  ``system_after``;
- ``spool-growing`` (warning): the spool holds batches and does not shrink, for
  ``spool_growing_after``;
- ``ingest-stalled`` (critical): messages wait and none was finished since the previous check,
  for ``system_after``;
- ``forecast-stale`` (warning): no forecast run finished in three forecast intervals;
- ``notifier-failing`` (warning, one per channel): its deliveries fail, for
  ``notifier_failing_after``;
- ``source-stale`` (warning, one per source): a polled source (docs/sources.md) gave nothing
  for longer than its ``stale_after``;
- ``broker-session-lost`` (critical): ingest found its session gone or taken over (another
  client with its client id) in the last ``SESSION_LOST_FOR_S``: readings the broker held for
  it may be lost.

While the broker is lost or ingest is stalled SaltWatch cannot see the devices: their no-data
alerts are held back (``blind``), and once it sees again a device counts as silent only from that
moment (``regained_ns``), so the backlog the broker kept does not open a burst of no-data alerts.

Hold times are real seconds (``time.monotonic``): they are about this process, not about the
measurements, so the demo's accelerated clock does not shorten them. The alerts' times are the
clock's, like every other alert's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from saltwatch.alerts.model import SYSTEM_ALERTS, Alert, Event, Fingerprint, Observation, Severity
from saltwatch.core.settings import AlertsSettings, default_of

SUBJECT = "saltwatch"
SESSION_LOST_FOR_S = 900.0  # a lost session is news for this long


@dataclass(frozen=True, slots=True, kw_only=True)
class Probes:
    """What this process can see of itself; None: not here (e.g. no ingest in ``alerts``)."""

    broker_connected: Callable[[], bool] | None = None
    store_up: Callable[[], bool] | None = None
    spool_depth: Callable[[], int] | None = None  # batches waiting in the spool
    progress: Callable[[], tuple[int, int]] | None = None  # messages (taken, finished)
    channels_failing: Callable[[], Mapping[str, bool]] | None = None  # channel → last try failed
    session_lost_at: Callable[[], float | None] | None = None  # monotonic; ingest's consumer
    #: each polled source (docs/sources.md) → hours since its newest reading, when stale
    sources_stale: Callable[[], Mapping[str, float]] | None = None


@dataclass(frozen=True, slots=True)
class Holds:
    """How long a condition lasts before it is an alert, in seconds."""

    system_after_s: float = default_of(AlertsSettings, "system_after_s")
    spool_growing_after_s: float = default_of(AlertsSettings, "spool_growing_after_s")
    notifier_failing_after_s: float = default_of(AlertsSettings, "notifier_failing_after_s")
    forecast_every_s: float = default_of(AlertsSettings, "forecast_s")


class SystemWatch:
    def __init__(
        self, probes: Probes, holds: Holds, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.probes = probes
        self.holds = holds
        self.monotonic = monotonic
        self.forecast_at = monotonic()  # the last forecast run that finished (start: none due)
        self.regained_ns: int | None = None  # when SaltWatch last saw its devices again
        # fingerprint → when it was first seen bad: (clock ns, monotonic seconds)
        self._bad_since: dict[Fingerprint, tuple[int, float]] = {}
        self._last: dict[str, int] = {}  # probe → its previous count (spool, progress)
        self._blind = False

    @property
    def blind(self) -> bool:
        """SaltWatch cannot see its devices now: their no-data alerts wait."""
        return self._blind

    def forecast_done(self) -> None:
        self.forecast_at = self.monotonic()

    def check(self, now_ns: int, open_fps: Iterable[Fingerprint]) -> list[Observation]:
        """Every probe once: an observation for each condition that is an alert or stops being
        one (those unchanged and clear are left out)."""
        mono = self.monotonic()
        bad = self._conditions(mono)
        observations = []
        for fp, (rule, hold_s, value) in bad.items():
            since_ns, since = self._bad_since.setdefault(fp, (now_ns, mono))
            if mono - since >= hold_s:
                severity = SYSTEM_ALERTS[rule].severity
                observations.append(self._observation(fp, rule, severity, since_ns, now_ns, value))
        for fp in list(self._bad_since):
            if fp not in bad:
                del self._bad_since[fp]
        for fp in open_fps:
            rule = fp.rule
            if rule in SYSTEM_ALERTS and fp not in bad:
                observations.append(self._observation(fp, rule, None, now_ns, now_ns, None))
        blind = any(SYSTEM_ALERTS[fp.rule].blinding for fp in bad)
        if self._blind and not blind:
            self.regained_ns = now_ns
        self._blind = blind
        return observations

    def _conditions(self, mono: float) -> dict[Fingerprint, tuple[str, float, float | None]]:
        """fingerprint → (rule, hold in seconds, value) of every condition bad now."""
        p, h = self.probes, self.holds
        bad: dict[Fingerprint, tuple[str, float, float | None]] = {}

        def mark(
            rule: str, hold_s: float, value: float | None = None, subject: str = SUBJECT
        ) -> None:
            bad[Fingerprint(rule, subject)] = (rule, hold_s, value)

        if p.broker_connected is not None and not p.broker_connected():
            mark("broker-disconnected", h.system_after_s)
        lost = p.session_lost_at() if p.session_lost_at is not None else None
        if lost is not None and mono - lost < SESSION_LOST_FOR_S:
            mark("broker-session-lost", 0.0)
        if p.store_up is not None and not p.store_up():
            mark("store-down", h.system_after_s)
        if p.spool_depth is not None:
            depth = p.spool_depth()
            if depth > 0 and depth >= self._last.get("spool", 0):
                mark("spool-growing", h.spool_growing_after_s, float(depth))
            self._last["spool"] = depth
        if p.progress is not None:
            taken, finished = p.progress()
            if taken > finished and finished == self._last.get("finished", -1):
                mark("ingest-stalled", h.system_after_s, float(taken - finished))
            self._last["finished"] = finished
        if mono - self.forecast_at > 3 * h.forecast_every_s:
            mark("forecast-stale", 0.0, round((mono - self.forecast_at) / 3600, 1))
        if p.sources_stale is not None:
            for name, hours in p.sources_stale().items():  # stale_after is its hold already
                mark("source-stale", 0.0, hours, subject=name)
        if p.channels_failing is not None:
            lost = (
                Fingerprint("broker-disconnected", SUBJECT) in bad
            )  # MQTT fails with it: one cause
            for channel, failing in p.channels_failing().items():
                if failing and not (lost and channel == "mqtt"):
                    mark("notifier-failing", h.notifier_failing_after_s, subject=channel)
        return bad

    @staticmethod
    def _observation(
        fp: Fingerprint,
        rule: str,
        severity: Severity | None,
        since_ns: int,
        now_ns: int,
        value: float | None,
    ) -> Observation:
        return Observation(
            fingerprint=fp,
            rule=rule,
            kind="system",
            device="",
            severity=severity,
            value=value,
            threshold=None,
            unit="",
            since_ns=since_ns,
            at_ns=now_ns,
        )


def unsaved_event(
    since_ns: int, now_ns: int, root: str, saved_again: bool, waiting: int = 0
) -> Event:
    """The alert that the alert state cannot be saved (``alert-state-unsaved``, critical): sent
    at once to every channel that still works, and not kept, since keeping is what fails. Its
    value: how many sets of judged changes wait to be saved (when it ends: how many waited and
    go out now)."""
    alert = Alert(
        f"alert-state-unsaved-{since_ns}",
        Fingerprint("alert-state-unsaved", SUBJECT),
        "alert-state-unsaved",
        "system",
        None,
        root,
        SYSTEM_ALERTS["alert-state-unsaved"].severity,
        "resolved" if saved_again else "firing",
        float(waiting),
        None,
        "",
        since_ns,
        now_ns,
        resolved_at_ns=now_ns if saved_again else None,
    )
    return Event(alert, "resolved" if saved_again else "firing", now_ns)
