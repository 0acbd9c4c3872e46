"""The alert engine, composed: windows and the judge (alerts/judging.py) feed the episodes
(alerts/episodes.py: lifecycle, persistence, routing keys, reminders), whose outbox the
dispatcher (alerts/dispatch.py) delivers, one worker per channel. ``start`` starts every thread
and the schedule; ``stop`` stops them and closes the notifiers. Nothing runs before ``start``:
until then readings are judged in the caller's thread (tests, one-shot tools)."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler

from saltwatch.alerts.dispatch import Dispatcher
from saltwatch.alerts.episodes import Episodes
from saltwatch.alerts.judging import ReadingJudge, StatusSource
from saltwatch.alerts.metrics import AlertMetrics
from saltwatch.alerts.model import Alert, Event, Observation
from saltwatch.alerts.notifiers import Notifier
from saltwatch.alerts.store import AlertStore
from saltwatch.alerts.structures import StructureWatch
from saltwatch.alerts.system import Holds, Probes, SystemWatch, unsaved_event
from saltwatch.alerts.windows import Windows
from saltwatch.core.clock import Clock
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.settings import AlertsSettings, ReceiverSettings, default_of
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

Job = tuple[Callable[[], object], float]


class AlertEngine:
    def __init__(
        self,
        rules: RuleSet,
        registry: Registry,
        state: AlertStore,
        clock: Clock,
        notifiers: Mapping[str, Notifier],
        windows: Windows | None = None,
        statuses: StatusSource | None = None,
        receivers: Sequence[ReceiverSettings] = (),
        repeat_s: float = default_of(AlertsSettings, "repeat_s"),
        escalate_after_s: float = default_of(AlertsSettings, "escalate_after_s"),
    ) -> None:
        self.rules = rules
        self.registry = registry
        self.state = state
        self.clock = clock
        self.notifiers = dict(notifiers)  # channel → notifier
        self.windows = windows or Windows()
        self.metrics = AlertMetrics(lambda: len(self.episodes.open))
        self.dispatcher = Dispatcher(
            self.notifiers,
            state,
            registry,
            counted=lambda channel, outcome: self.metrics.deliveries.labels(channel, outcome).inc(),
        )
        self.episodes = Episodes(
            registry, state, clock, list(self.notifiers), self.metrics, self.dispatcher.wake,
            receivers, repeat_s, escalate_after_s,
            lambda since, saved, waiting: self.dispatcher.announce(
                unsaved_event(since, clock.now_ns(), registry.root, saved, waiting)
            ),
        )  # fmt: skip
        self.judge = ReadingJudge(
            lambda: self.rules, registry, clock, self.windows, self.episodes, self.metrics, statuses
        )
        self.structures = StructureWatch(registry, lambda: self.rules)
        self.system: SystemWatch | None = None
        self._scheduler: BackgroundScheduler | None = None

    def watch_system(
        self, probes: Probes, holds: Holds, monotonic: Callable[[], float] | None = None
    ) -> SystemWatch:
        """Raise ``system`` alerts from these probes at every tick (alerts/system.py); hold times
        are read on ``monotonic`` (the process's own clock unless a test passes one)."""
        failing = probes.channels_failing or self.dispatcher.failing
        probes = replace(probes, channels_failing=failing)
        self.system = SystemWatch(probes, holds, monotonic or time.monotonic)
        return self.system

    def on_readings(self, readings: Sequence[Reading]) -> None:
        self.judge.on_readings(readings)
        self.on_operations(readings)

    def on_operations(self, readings: Sequence[Reading]) -> None:
        """Gate reports, guard readings and operators' entries, judged with their structures
        at once (alerts/structures.py)."""
        found = self.structures.on_readings(readings)
        if found:
            self.observe(found)

    def tick(self) -> None:
        """SaltWatch's own state first (what it holds back depends on it), then every rule."""
        if self.system is not None:
            found = self.system.check(self.clock.now_ns(), list(self.episodes.open))
            self.observe([(obs, self.registry.root) for obs in found])
            self.judge.blind, self.judge.regained_ns = self.system.blind, self.system.regained_ns
        self.judge.tick()
        self.observe(self.structures.check(self.clock.now_ns()))

    def observe(self, observations: Sequence[tuple[Observation, str | None]]) -> list[Event]:
        """Observations made outside the device rules (salt front, forecasts), each for a zone
        (None: the device's zone)."""
        with self.episodes.lock:
            events = self.episodes.apply(observations, self.clock.now_ns())
        self.episodes.publish(events)
        return events

    def acknowledge(self, alert_id: str, by: str, note: str | None = None) -> Alert:
        return self.episodes.acknowledge(alert_id, by, note)

    def open_alerts(self) -> list[Alert]:
        return self.episodes.open_alerts()

    def add_event_listener(self, listener: Callable[[Event], None]) -> None:
        self.episodes.add_listener(listener)

    def remove_event_listener(self, listener: Callable[[Event], None]) -> None:
        self.episodes.remove_listener(listener)

    def replace_rules(self, rules: RuleSet) -> None:
        """Apply new rules from the next evaluation on (no restart)."""
        with self.episodes.lock:
            self.rules = rules

    def warm(self, store: ReadingStore, hours: float = 26.0) -> int:
        return self.judge.warm(store, hours)

    def learn_gates(self, store: ReadingStore) -> int:
        """Each structure's newest gate report and operator entry as the store holds them,
        judged like those that arrive: a gate opened before a restart, or entered through an
        API process of its own (which has no engine to tell), is known here. Returns how many
        were read; one already known changes nothing."""
        seen = [
            *store.latest(TopicKind.GATE).values(),
            *store.latest(TopicKind.OPERATION).values(),
        ]
        self.on_operations(sorted(seen, key=lambda r: r.ts_ns))
        return len(seen)

    def dispatch(self) -> int:
        """Deliver every queued event now, in this thread (backoff or not); how many went."""
        return self.dispatcher.deliver_now()

    def start(
        self, tick_s: float = default_of(AlertsSettings, "tick_s"), jobs: Sequence[Job] = ()
    ) -> None:
        """The tick every ``tick_s``, each of ``jobs`` (function, seconds) at once and then at
        its interval, the judging thread, the notifiers' connections and a delivery thread per
        channel."""
        for notifier in self.notifiers.values():
            start = getattr(notifier, "start", None)
            if callable(start):
                start()
        self.dispatcher.start()
        self.judge.start()
        self._scheduler = BackgroundScheduler()
        every = {"max_instances": 1, "coalesce": True}
        self._scheduler.add_job(self.tick, "interval", seconds=tick_s, id="alerts-tick", **every)
        for job, seconds in jobs:
            first = datetime.now(UTC)
            self._scheduler.add_job(job, "interval", seconds=seconds, next_run_time=first, **every)
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
        self.judge.stop()
        self.dispatcher.stop()
        for notifier in self.notifiers.values():
            close = getattr(notifier, "close", None)
            if callable(close):
                close()
