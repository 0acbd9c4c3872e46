"""Open alerts and what happens to them: each observation advances its alert by the pure
lifecycle (alerts/lifecycle.py); the changes and the deliveries they cause are saved together
(the outbox); reminders, escalations and acknowledgements are changes too. Every change saved
is then shown to the listeners (the API's live stream). One lock guards the open alerts.

While the state cannot be saved (a full or read-only disk), each set of changes a judgement
makes waits in memory, in order (at most ``MAX_WAITING``, counted), and later judgements build
on them; the first save that works again saves them one by one and tells them, late but
told, so a short episode that came and went meanwhile is not lost."""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from saltwatch.alerts.lifecycle import acknowledge, advance
from saltwatch.alerts.metrics import AlertMetrics
from saltwatch.alerts.model import Alert, Delivery, Event, Fingerprint, Observation, Severity
from saltwatch.alerts.routing import channels_for
from saltwatch.alerts.store import AlertStore
from saltwatch.core.clock import Clock
from saltwatch.core.errors import RetryableError, SaltWatchError
from saltwatch.core.registry import Registry
from saltwatch.core.settings import ReceiverSettings
from saltwatch.core.timeutil import NS_PER_S

log = logging.getLogger("saltwatch.alerts")
MAX_WAITING = 10_000  # sets of changes kept while the state cannot be saved; beyond, the oldest go


@dataclass(frozen=True, slots=True)
class _Waiting:
    """Changes judged but not yet saved, with what they tell and what they open or close."""

    changes: list[tuple[Alert | None, Alert | None]]
    deliveries: list[Delivery]
    events: list[Event]
    staged: dict[Fingerprint, Alert | None]


class Episodes:
    def __init__(
        self,
        registry: Registry,
        state: AlertStore,
        clock: Clock,
        channels: Sequence[str],
        metrics: AlertMetrics,
        wake: Callable[[], None],
        receivers: Sequence[ReceiverSettings],
        repeat_s: float,
        escalate_after_s: float,
        on_unsaved: Callable[[int, bool, int], None] | None = None,
    ) -> None:
        self.registry = registry
        self.state = state
        self.clock = clock
        self.channels = set(channels)
        self.metrics = metrics
        self.wake = wake
        self.receivers = list(receivers)
        self.repeat_ns = int(repeat_s * NS_PER_S)
        self.escalate_ns = int(escalate_after_s * NS_PER_S)
        self.lock = threading.Lock()
        self.unsaved_since: int | None = None  # the alert state could not be saved since
        #: told (since, saved again?) when saving first fails and when it works again: the
        #: alert about it cannot wait in the state that cannot be written (alerts/system.py)
        #: told when the state can no longer be saved (False) and when it can again (True), with
        #: how many sets of changes wait
        self.on_unsaved = on_unsaved
        self.open: dict[Fingerprint, Alert] = state.open_alerts()  # saved: what is shown
        self._listeners: list[Callable[[Event], None]] = []
        self.waiting: deque[_Waiting] = deque()  # judged, not yet saved, oldest first
        self._ahead: dict[
            Fingerprint, Alert | None
        ] = {}  # what the waiting changes make of ``open``

    @property
    def judged(self) -> dict[Fingerprint, Alert]:
        """The open alerts as judged: the saved ones with the waiting changes applied (what the
        next judgement builds on; lock held)."""
        if not self._ahead:
            return self.open
        merged = {**self.open, **self._ahead}
        return {fp: alert for fp, alert in merged.items() if alert is not None}

    def current(self) -> dict[Fingerprint, Severity]:
        """The severity of every alert that fired and is open, as judged (lock held)."""
        return {fp: a.severity for fp, a in self.judged.items() if a.state != "pending"}

    def apply(
        self, observations: Sequence[tuple[Observation, str | None]], now: int
    ) -> list[Event]:
        """Advance each alert by its observation (zone: the given one, or the device's) and save
        the changes with their deliveries (lock held by the caller). Returns the events saved
        now: those that waited first, then these."""
        told = self._save_waiting()
        judged = self.judged
        changes: list[tuple[Alert | None, Alert | None]] = []
        events: list[Event] = []
        deliveries: list[Delivery] = []
        staged: dict[
            Fingerprint, Alert | None
        ] = {}  # shown only once saved: durable before visible
        for obs, zone_of in observations:
            fp = obs.fingerprint
            before = staged[fp] if fp in staged else judged.get(fp)
            device = self.registry.device(obs.device) if obs.device else None
            zone = zone_of or (device.zone if device else "unassigned")
            after, event = advance(before, obs, zone, now)
            if after is before:
                continue
            changes.append((before, after))
            staged[fp] = after if after is not None and after.open else None
            if event is not None:
                events.append(event)
                deliveries.extend(self.deliveries(event, now))
        if not changes:
            return told
        if self.waiting or not self._saved(changes, deliveries):
            self._wait(_Waiting(changes, deliveries, events, staged))
            return told
        self._show(staged, deliveries)
        return told + events

    def _show(self, staged: dict[Fingerprint, Alert | None], deliveries: list[Delivery]) -> None:
        """Saved changes become the open alerts; their deliveries are woken."""
        for fp, alert in staged.items():
            if alert is None:
                self.open.pop(fp, None)
            else:
                self.open[fp] = alert
        if deliveries:
            self.wake()

    def _wait(self, item: _Waiting) -> None:
        if len(self.waiting) >= MAX_WAITING:
            self.waiting.popleft()
            self.metrics.waiting_dropped.inc()
            log.error("alert changes waiting to be saved passed %d: the oldest is let go",
                      MAX_WAITING)  # fmt: skip
        self.waiting.append(item)
        self._ahead.update(item.staged)
        self.metrics.waiting.set(len(self.waiting))

    def _save_waiting(self) -> list[Event]:
        """Save the changes that wait, oldest first, until one fails; their events."""
        if not self.waiting:  # the usual case, on every judgement
            return []
        told: list[Event] = []
        while self.waiting:
            item = self.waiting[0]
            if not self._saved(item.changes, item.deliveries):
                break
            self.waiting.popleft()
            self._show(item.staged, item.deliveries)
            told.extend(item.events)
        if not self.waiting:
            self._ahead.clear()
        self.metrics.waiting.set(len(self.waiting))
        return told

    def _saved(
        self, changes: list[tuple[Alert | None, Alert | None]], deliveries: list[Delivery]
    ) -> bool:
        """Save, or say why not: a full disk or a read-only file must not lose an alert, so
        the changes are simply not made and the next evaluation tries again."""
        try:
            self.state.save(changes, deliveries)
        except (OSError, SaltWatchError) as exc:
            if self.unsaved_since is None:
                self.unsaved_since = self.clock.now_ns()
                log.error("alert state cannot be saved (%s): alerts wait until it can", exc)
                if self.on_unsaved is not None:
                    self.on_unsaved(self.unsaved_since, False, len(self.waiting))
            self.metrics.unsaved.inc()
            return False
        if self.unsaved_since is not None:
            log.warning("alert state saved again: the alerts that waited go out now")
            if self.on_unsaved is not None:
                self.on_unsaved(self.unsaved_since, True, len(self.waiting))
            self.unsaved_since = None
        return True

    def deliveries(
        self, event: Event, now: int, *, escalation: bool = False, reminder: int = 0
    ) -> list[Delivery]:
        """Who hears of ``event``, each under the key that makes it the same notification."""
        channels = channels_for(
            event,
            self.receivers,
            self.registry,
            self.state.silences(now),
            now,
            escalation=escalation,
            reminder=reminder > 0,
        )
        a = event.alert
        if a.rule == "notifier-failing":  # a failing channel is not told that it fails
            channels = [c for c in channels if a.fingerprint.subject != c]
        if event.state != "firing":  # tell the end of an episode only to who heard its start
            told = set(self.state.channels_told(a.id))
            told.update(  # and who will hear of its start once that is saved
                d.channel for w in self.waiting for d in w.deliveries if d.event.alert.id == a.id
            )
            channels = [c for c in channels if c in told]
        key = f"{a.id}:{event.state}:{a.severity}:{reminder}:{'esc' if escalation else ''}"
        if a.unit.startswith("level") and event.state == "firing":  # each level rise is news
            key += f":L{a.value}"
        if event.state == "acknowledged":
            key += f":{a.acked_at_ns}"
        return [Delivery(c, event, key) for c in channels if c in self.channels]

    def remind_and_escalate(self) -> None:
        """Remind receivers of firing alerts nobody acknowledged, every ``repeat``; send critical
        ones unacknowledged for ``escalate_after`` to the escalation-only receivers."""
        with self.lock:
            now = self.clock.now_ns()
            changes: list[tuple[Alert | None, Alert | None]] = []
            deliveries: list[Delivery] = []
            for alert in list(self.open.values()):
                if alert.state != "firing" or alert.fired_at_ns is None:
                    continue
                updated = alert
                since = now - alert.fired_at_ns
                if self.repeat_ns and since >= self.repeat_ns * (alert.reminders + 1):
                    updated = replace(updated, reminders=alert.reminders + 1)
                    reminded = Event(updated, "firing", now)
                    deliveries += self.deliveries(reminded, now, reminder=updated.reminders)
                critical = alert.severity == "critical" and not alert.escalated
                if self.escalate_ns and critical and since >= self.escalate_ns:
                    updated = replace(updated, escalated=True)
                    escalated = Event(updated, "firing", now)
                    deliveries += self.deliveries(escalated, now, escalation=True)
                if updated is not alert:
                    changes.append((alert, updated))
            if not changes or self.waiting or not self._saved(changes, deliveries):
                return  # reminders wait for the state to be saved again
            for _, changed in changes:
                if changed is not None:
                    self.open[changed.fingerprint] = changed
        if deliveries:
            self.wake()

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        """Acknowledge an open alert, behind any changes that wait to be saved; KeyError when
        it is not open, RetryableError while the state cannot be saved."""
        told: list[Event] = []
        try:
            with self.lock:
                told = self._save_waiting()
                alert = next((a for a in self.open.values() if a.id == alert_id), None)
                if alert is None:
                    raise KeyError(alert_id)
                now = self.clock.now_ns()
                acked, event = acknowledge(alert, by, note, now)
                if self.waiting or not self._saved([(alert, acked)], self.deliveries(event, now)):
                    raise RetryableError("the alert state cannot be saved now: try again later")
                self.open[acked.fingerprint] = acked
                told.append(event)
        finally:
            self.publish(told)
        self.wake()
        return acked

    def open_alerts(self) -> list[Alert]:
        with self.lock:
            return list(self.open.values())

    def add_listener(self, listener: Callable[[Event], None]) -> None:
        """Called with every state change (firing, resolved, acknowledged) once it is saved:
        the API's live stream. Silences do not apply here; it is a view, not a notification."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[Event], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def publish(self, events: list[Event]) -> None:
        for event in events:
            self.metrics.events.labels(event.alert.kind, event.state).inc()
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("alert event listener failed")
