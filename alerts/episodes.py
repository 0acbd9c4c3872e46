"""Open alerts and what happens to them: each observation advances its alert by the pure
lifecycle (alerts/lifecycle.py); the changes and the deliveries they cause are saved together
(the outbox); reminders, escalations and acknowledgements are changes too. Every change saved
is then shown to the listeners (the API's live stream). One lock guards the open alerts."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import replace

from saltwatch.alerts.lifecycle import acknowledge, advance
from saltwatch.alerts.metrics import AlertMetrics
from saltwatch.alerts.model import Alert, Delivery, Event, Observation, Severity
from saltwatch.alerts.routing import channels_for
from saltwatch.alerts.store import AlertStore
from saltwatch.core.clock import Clock
from saltwatch.core.errors import SaltWatchError
from saltwatch.core.registry import Registry
from saltwatch.core.settings import ReceiverSettings
from saltwatch.core.timeutil import NS_PER_S

log = logging.getLogger("saltwatch.alerts")


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
        on_unsaved: Callable[[int, bool], None] | None = None,
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
        #: told when the state can no longer be saved (False) and when it can again (True)
        self.on_unsaved = on_unsaved
        self.open: dict[str, Alert] = state.open_alerts()
        self._listeners: list[Callable[[Event], None]] = []

    def current(self) -> dict[str, Severity]:
        """The severity of every alert that fired and is open (lock held)."""
        return {fp: a.severity for fp, a in self.open.items() if a.state != "pending"}

    def apply(
        self, observations: Sequence[tuple[Observation, str | None]], now: int
    ) -> list[Event]:
        """Advance each alert by its observation (zone: the given one, or the device's) and save
        the changes with their deliveries (lock held by the caller)."""
        changes: list[tuple[Alert | None, Alert | None]] = []
        events: list[Event] = []
        deliveries: list[Delivery] = []
        staged: dict[str, Alert | None] = {}  # shown only once saved: durable before visible
        for obs, zone_of in observations:
            fp = obs.fingerprint
            before = staged[fp] if fp in staged else self.open.get(fp)
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
        if changes and not self._saved(changes, deliveries):
            return []  # nothing changes, nothing is told: the next run judges it all again
        for fp, alert in staged.items():
            if alert is None:
                self.open.pop(fp, None)
            else:
                self.open[fp] = alert
        if deliveries:
            self.wake()
        return events

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
                    self.on_unsaved(self.unsaved_since, False)
            self.metrics.unsaved.inc()
            return False
        if self.unsaved_since is not None:
            log.warning("alert state saved again: the alerts that waited go out now")
            if self.on_unsaved is not None:
                self.on_unsaved(self.unsaved_since, True)
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
            channels = [c for c in channels if not a.fingerprint.endswith(f":{c}")]
        if event.state != "firing":  # tell the end of an episode only to who heard its start
            told = self.state.channels_told(a.id)
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
            if not changes or not self._saved(changes, deliveries):
                return
            for _, changed in changes:
                if changed is not None:
                    self.open[changed.fingerprint] = changed
        if deliveries:
            self.wake()

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        with self.lock:
            alert = next((a for a in self.open.values() if a.id == alert_id), None)
            if alert is None:
                raise KeyError(alert_id)
            now = self.clock.now_ns()
            acked, event = acknowledge(alert, by, note, now)
            self.state.save([(alert, acked)], self.deliveries(event, now))  # or it raises
            self.open[acked.fingerprint] = acked
        self.wake()
        self.publish([event])
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
