"""The alert engine: windows fed by readings, evaluation on arrival and on a schedule, the
lifecycle, state in SQLite, and a dispatcher that delivers queued events to every notifier.

Readings arriving (from ingest in the same process, or the alerts process's own subscription) are
judged at once by the instantaneous rules, so an alert goes out within a second; APScheduler ticks
the windowed and no-data rules (``max_instances=1``, ``coalesce=True``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence

from apscheduler.schedulers.background import BackgroundScheduler

from alerts.evaluate import evaluate
from alerts.lifecycle import Alert, Event, acknowledge, advance
from alerts.messages import render
from alerts.notifiers import Notifier
from alerts.rules import RuleSet, Severity
from alerts.state import AlertState
from alerts.windows import FIELDS, Windows
from core.backoff import Backoff
from core.clock import Clock
from core.errors import RetryableError
from core.registry import Registry
from core.timeutil import NS_PER_S
from core.topics import TopicKind
from core.types import Reading
from storage.ports import ReadingStore

log = logging.getLogger("saltwatch.alerts")

StatusSource = Callable[[], Mapping[str, tuple[bool, int]]]


class AlertEngine:
    def __init__(
        self,
        rules: RuleSet,
        registry: Registry,
        state: AlertState,
        clock: Clock,
        notifiers: Sequence[Notifier],
        windows: Windows | None = None,
        statuses: StatusSource | None = None,
    ) -> None:
        self.rules = rules
        self.registry = registry
        self.state = state
        self.clock = clock
        self.notifiers = list(notifiers)
        self.windows = windows or Windows()
        self._statuses = statuses
        self._lock = threading.Lock()
        self._open: dict[str, Alert] = state.open_alerts()
        self._started_ns = clock.now_ns()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._dispatcher: threading.Thread | None = None
        self._scheduler: BackgroundScheduler | None = None

    # ------------------------------------------------------------------ inputs
    def on_readings(self, readings: Sequence[Reading]) -> None:
        """Ingest's hand-off: judge the devices that got data by the instantaneous rules."""
        devices = self.windows.add(readings)
        self.run(devices, instant_only=True)

    def tick(self) -> None:
        """Every rule for every device (the scheduled evaluation)."""
        self.run(None, instant_only=False)

    def run(self, devices: set[str] | None, instant_only: bool) -> list[Event]:
        with self._lock:
            now = self.clock.now_ns()
            current: dict[str, Severity] = {
                fp: a.severity for fp, a in self._open.items() if a.state != "pending"
            }
            observations = evaluate(
                self.rules,
                self.registry,
                self.windows,
                current,
                now,
                devices,
                self._statuses() if self._statuses else None,
                self._started_ns,
                instant_only,
            )
            changes: list[tuple[Alert | None, Alert | None]] = []
            events: list[Event] = []
            for obs in observations:
                before = self._open.get(obs.fingerprint)
                device = self.registry.device(obs.device)
                zone = device.zone if device else "unassigned"
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
            if changes:
                self.state.save(changes, events, [n.channel for n in self.notifiers])
        if events:
            self._wake.set()
        return events

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        with self._lock:
            alert = next((a for a in self._open.values() if a.id == alert_id), None)
            if alert is None:
                raise KeyError(alert_id)
            acked, event = acknowledge(alert, by, note, self.clock.now_ns())
            self._open[acked.fingerprint] = acked
            self.state.save([(alert, acked)], [event], [n.channel for n in self.notifiers])
        self._wake.set()
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
        """Deliver queued events; returns how many were delivered. Stops a channel at its first
        retryable failure (the event stays queued for the next round)."""
        delivered = 0
        for notifier in self.notifiers:
            for seq, event in self.state.unsent(notifier.channel):
                device = self.registry.device(event.alert.device) if event.alert.device else None
                zones = self.registry.alert_zones(device) if device else [event.alert.zone]
                try:
                    notifier.send(render(event, self.registry), zones)
                except RetryableError as exc:
                    log.warning("%s delivery failed, will retry: %s", notifier.channel, exc)
                    break
                self.state.mark_sent(seq, self.clock.now_ns())
                delivered += 1
        return delivered

    def _dispatch_loop(self) -> None:
        backoff = Backoff(initial=0.5, cap=30.0)
        while not self._stop.is_set():
            self._wake.wait(5.0)
            self._wake.clear()
            try:
                self.dispatch()
                backoff.reset()
            except Exception:
                log.exception("alert dispatch failed")
                self._stop.wait(backoff.next())
            else:
                if any(self.state.unsent(n.channel, 1) for n in self.notifiers):
                    self._stop.wait(backoff.next())
                    self._wake.set()

    def start(self, tick_s: float = 15.0) -> None:
        self._dispatcher = threading.Thread(
            target=self._dispatch_loop, name="alerts-dispatch", daemon=True
        )
        self._dispatcher.start()
        self._wake.set()  # deliver what a previous run left queued
        self._scheduler = BackgroundScheduler()
        self._scheduler.add_job(
            self.tick, "interval", seconds=tick_s, max_instances=1, coalesce=True, id="alerts-tick"
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        self._stop.set()
        self._wake.set()
        if self._dispatcher is not None:
            self._dispatcher.join(10)
