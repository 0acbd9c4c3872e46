"""The alert engine: windows fed by readings, evaluation on arrival and on a schedule, the
lifecycle, state in SQLite, and a dispatcher that delivers queued events to every notifier.

Readings arriving (from ingest in the same process, or the alerts process's own subscription) are
judged at once by the instantaneous rules, so an alert goes out within a second; APScheduler ticks
the windowed and no-data rules (``max_instances=1``, ``coalesce=True``).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
from apscheduler.schedulers.background import BackgroundScheduler

from alerts.dispatch import Dispatcher
from alerts.evaluate import WindowSource, evaluate
from alerts.lifecycle import acknowledge, advance
from alerts.metrics import AlertMetrics
from alerts.model import LATE_AFTER_NS, Alert, Delivery, Event, Observation, Severity
from alerts.notifiers import Notifier
from alerts.routing import channels_for
from alerts.windows import FIELDS, DeviceWindow, Windows
from core.clock import Clock
from core.registry import Registry
from core.rules import RuleSet
from core.settings import ReceiverSettings
from core.timeutil import NS_PER_S
from core.topics import TopicKind
from core.types import Reading
from storage.alert_sqlite import AlertState
from storage.ports import ReadingStore

log = logging.getLogger("saltwatch.alerts")

StatusSource = Callable[[], Mapping[str, tuple[bool, int]]]


class _AsOf:
    """One device's window as it stood at a past measurement time (for judging late data)."""

    def __init__(self, device: str, window: DeviceWindow, ts_ns: int) -> None:
        k = int(np.searchsorted(window.ts, ts_ns, side="right"))
        self._device = device
        self._window = DeviceWindow(
            window.kind,
            window.ts[:k],
            window.qc[:k],
            {n: v[:k] for n, v in window.values.items()},
            window.fault,
            window.fault_ts,
        )

    def get(self, device: str) -> DeviceWindow | None:
        return self._window if device == self._device else None


HANDOFF_BATCHES = 1_000  # ingest batches waiting to be judged; beyond, the tick catches up


class AlertEngine:
    def __init__(
        self,
        rules: RuleSet,
        registry: Registry,
        state: AlertState,
        clock: Clock,
        notifiers: Mapping[str, Notifier],
        windows: Windows | None = None,
        statuses: StatusSource | None = None,
        receivers: Sequence[ReceiverSettings] = (),
        repeat_s: float = 4 * 3600.0,
        escalate_after_s: float = 1800.0,
    ) -> None:
        self.rules = rules
        self.registry = registry
        self.state = state
        self.clock = clock
        self.notifiers = dict(notifiers)  # channel → notifier
        self.windows = windows or Windows()
        self.receivers = list(receivers)
        self.repeat_ns = int(repeat_s * NS_PER_S)
        self.escalate_ns = int(escalate_after_s * NS_PER_S)
        self._statuses = statuses
        self._listeners: list[Callable[[Event], None]] = []
        self._lock = threading.Lock()
        self._open: dict[str, Alert] = state.open_alerts()
        self._started_ns = clock.now_ns()
        self._scheduler: BackgroundScheduler | None = None
        self.metrics = AlertMetrics(lambda: len(self._open))
        # readings handed over by ingest, judged on the engine's thread (not ingest's writer)
        self._handoff: queue.Queue[tuple[set[str], list[Reading]] | None] = queue.Queue(
            maxsize=HANDOFF_BATCHES
        )
        self._judge_thread: threading.Thread | None = None
        self.dispatcher = Dispatcher(
            self.notifiers,
            state,
            registry,
            counted=lambda channel, outcome: self.metrics.deliveries.labels(channel, outcome).inc(),
        )

    # ------------------------------------------------------------------ inputs
    def on_readings(self, readings: Sequence[Reading]) -> None:
        """Ingest's hand-off: the windows take the readings here (cheap), the devices that got
        data are judged by the instantaneous rules on the engine's own thread once started (in
        the caller's thread before that: tests, one-shot tools). A full hand-off queue never
        blocks ingest: those devices wait for the next tick, which judges every window.

        Late readings (a store-and-forward upload, say) are judged at each of their own times
        first, so an exceedance that began and ended while the device was away is still raised
        (marked late) and resolved, with its real times."""
        now = self.clock.now_ns()
        late = [r for r in readings if now - r.ts_ns > LATE_AFTER_NS]
        devices = self.windows.add(readings)
        if self._judge_thread is None:
            self._judge(devices, late)
            return
        try:
            self._handoff.put_nowait((devices, late))
        except queue.Full:
            self.metrics.handoff_dropped.inc()

    def _judge(self, devices: set[str], late: Sequence[Reading]) -> None:
        if late:
            self._replay(late)
        self.run(devices, instant_only=True)

    def _judge_loop(self) -> None:
        while True:
            item = self._handoff.get()
            if item is None:
                return
            try:
                self._judge(*item)
            except Exception:  # one bad batch must not end the judging
                log.exception("judging new readings failed; the next tick judges them")

    def _replay(self, late: Sequence[Reading]) -> None:
        times: dict[str, set[int]] = {}
        for reading in late:
            times.setdefault(reading.device, set()).add(reading.ts_ns)
        for device, stamps in times.items():
            window = self.windows.get(device)
            if window is None:
                continue
            for ts in sorted(stamps):
                self.run({device}, instant_only=True, windows=_AsOf(device, window, ts))

    def tick(self) -> None:
        """Every rule for every device, then reminders and escalations (the scheduled run)."""
        with self.metrics.tick_seconds.time():
            self.run(None, instant_only=False)
            self.remind_and_escalate()

    def _deliveries(
        self, event: Event, now: int, *, escalation: bool = False, reminder: int = 0
    ) -> list[Delivery]:
        silences = self.state.silences(now)
        channels = channels_for(
            event,
            self.receivers,
            self.registry,
            silences,
            now,
            escalation=escalation,
            reminder=reminder > 0,
        )
        a = event.alert
        if event.state != "firing":  # tell the end of an episode only to who heard its start
            told = self.state.channels_told(a.id)
            channels = [c for c in channels if c in told]
        key = f"{a.id}:{event.state}:{a.severity}:{reminder}:{'esc' if escalation else ''}"
        if a.unit.startswith("level") and event.state == "firing":  # each level rise is news
            key += f":L{a.value}"
        if event.state == "acknowledged":
            key += f":{a.acked_at_ns}"
        return [Delivery(c, event, key) for c in channels if c in self.notifiers]

    def run(
        self, devices: set[str] | None, instant_only: bool, windows: WindowSource | None = None
    ) -> list[Event]:
        with self._lock:
            now = self.clock.now_ns()
            current: dict[str, Severity] = {
                fp: a.severity for fp, a in self._open.items() if a.state != "pending"
            }
            observations = evaluate(
                self.rules,
                self.registry,
                windows or self.windows,
                current,
                now,
                devices,
                self._statuses() if self._statuses else None,
                self._started_ns,
                instant_only,
                open_fingerprints=self._open,
            )
            events, deliveries = self._apply([(obs, None) for obs in observations], now)
        if deliveries:
            self.dispatcher.wake()
        self._publish(events)
        return events

    def observe(self, observations: Sequence[tuple[Observation, str | None]]) -> list[Event]:
        """Observations made outside the device rules (salt front, forecasts), each for a zone
        (None: the device's zone)."""
        with self._lock:
            events, deliveries = self._apply(observations, self.clock.now_ns())
        if deliveries:
            self.dispatcher.wake()
        self._publish(events)
        return events

    def _apply(
        self, observations: Sequence[tuple[Observation, str | None]], now: int
    ) -> tuple[list[Event], list[Delivery]]:
        """Advance each alert by its observation and save the changes (lock held)."""
        changes: list[tuple[Alert | None, Alert | None]] = []
        events: list[Event] = []
        deliveries: list[Delivery] = []
        for obs, zone_of in observations:
            before = self._open.get(obs.fingerprint)
            device = self.registry.device(obs.device) if obs.device else None
            zone = zone_of or (device.zone if device else "unassigned")
            after, event = advance(before, obs, zone, now)
            if after is before:
                continue
            changes.append((before, after))
            if after is not None and after.open:
                self._open[obs.fingerprint] = after
            else:
                self._open.pop(obs.fingerprint, None)
            if event is not None:
                events.append(event)
                deliveries.extend(self._deliveries(event, now))
        if changes:
            self.state.save(changes, deliveries)
        return events, deliveries

    def add_event_listener(self, listener: Callable[[Event], None]) -> None:
        """Called with every state change (firing, resolved, acknowledged) once it is saved:
        the API's live stream. Silences do not apply here; it is a view, not a notification."""
        self._listeners.append(listener)

    def remove_event_listener(self, listener: Callable[[Event], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _publish(self, events: list[Event]) -> None:
        for event in events:
            self.metrics.events.labels(event.alert.kind, event.state).inc()
            for listener in list(self._listeners):
                try:
                    listener(event)
                except Exception:
                    log.exception("alert event listener failed")

    def replace_rules(self, rules: RuleSet) -> None:
        """Apply new rules from the next evaluation on (no restart)."""
        with self._lock:
            self.rules = rules

    def remind_and_escalate(self) -> None:
        """Remind receivers of firing alerts nobody acknowledged, every ``repeat``; send critical
        ones unacknowledged for ``escalate_after`` to the escalation-only receivers."""
        with self._lock:
            now = self.clock.now_ns()
            changes: list[tuple[Alert | None, Alert | None]] = []
            deliveries: list[Delivery] = []
            for fingerprint, alert in list(self._open.items()):
                if alert.state != "firing" or alert.fired_at_ns is None:
                    continue
                updated = alert
                since = now - alert.fired_at_ns
                if self.repeat_ns and since >= self.repeat_ns * (alert.reminders + 1):
                    updated = replace(updated, reminders=alert.reminders + 1)
                    deliveries += self._deliveries(
                        Event(updated, "firing", now), now, reminder=updated.reminders
                    )
                if (
                    self.escalate_ns
                    and alert.severity == "critical"
                    and not alert.escalated
                    and since >= self.escalate_ns
                ):
                    updated = replace(updated, escalated=True)
                    deliveries += self._deliveries(
                        Event(updated, "firing", now), now, escalation=True
                    )
                if updated is not alert:
                    changes.append((alert, updated))
                    self._open[fingerprint] = updated
            if changes:
                self.state.save(changes, deliveries)
        if deliveries:
            self.dispatcher.wake()

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        with self._lock:
            alert = next((a for a in self._open.values() if a.id == alert_id), None)
            if alert is None:
                raise KeyError(alert_id)
            now = self.clock.now_ns()
            acked, event = acknowledge(alert, by, note, now)
            self._open[acked.fingerprint] = acked
            self.state.save([(alert, acked)], self._deliveries(event, now))
        self.dispatcher.wake()
        self._publish([event])
        return acked

    def open_alerts(self) -> list[Alert]:
        with self._lock:
            return list(self._open.values())

    def warm(self, store: ReadingStore, hours: float = 26.0) -> int:
        """Fill the windows from the store's recent readings; returns how many were loaded."""
        since = self.clock.now_ns() - int(hours * 3600 * NS_PER_S)
        loaded = 0
        for kind, names in FIELDS.items():
            wanted = [*names, "fault"] if kind is TopicKind.WELL else list(names)
            for device, series in store.recent(kind, since, wanted).items():
                readings = [
                    Reading(
                        kind,
                        device,
                        ts,
                        {f: series.values[f][i] for f in wanted if series.values[f][i] is not None},
                        int(series.values["qc"][i] or 0),
                    )
                    for i, ts in enumerate(series.ts_ns)
                ]
                self.windows.add(readings)
                loaded += len(readings)
        return loaded

    # ------------------------------------------------------------------ delivery
    def dispatch(self) -> int:
        """Deliver every queued event now, in this thread (backoff or not); how many went."""
        return self.dispatcher.deliver_now()

    def start(
        self, tick_s: float = 15.0, jobs: Sequence[tuple[Callable[[], object], float]] = ()
    ) -> None:
        """The tick every ``tick_s``, each of ``jobs`` (function, seconds) at once and then at
        its interval, the judging thread and a delivery thread per channel."""
        self.dispatcher.start()
        self._judge_thread = threading.Thread(
            target=self._judge_loop, name="alerts-judge", daemon=True
        )
        self._judge_thread.start()
        self._scheduler = BackgroundScheduler()
        self._scheduler.add_job(
            self.tick, "interval", seconds=tick_s, max_instances=1, coalesce=True, id="alerts-tick"
        )
        for job, seconds in jobs:
            self._scheduler.add_job(
                job,
                "interval",
                seconds=seconds,
                max_instances=1,
                coalesce=True,
                next_run_time=datetime.now(UTC),
            )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        if self._judge_thread is not None:
            self._handoff.put(None)
            self._judge_thread.join(10)
        self.dispatcher.stop()
        for notifier in self.notifiers.values():
            close = getattr(notifier, "close", None)
            if callable(close):
                close()
