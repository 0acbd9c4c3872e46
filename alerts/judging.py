"""Judging the devices: readings go into the windows (on ingest's thread: cheap), and the
devices that got data are evaluated by the instantaneous rules on the judge's own thread, through
a bounded hand-off (a full one never blocks ingest: the next tick judges every window). What
queued up while the judge was busy is judged in one pass per device, at the measurement times
where a judgement can change. The tick evaluates every rule of every device; ``warm`` fills the
windows from the store at start."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial

from saltwatch.alerts.episodes import Episodes
from saltwatch.alerts.evaluate import evaluate
from saltwatch.alerts.judgement import WindowSource
from saltwatch.alerts.metrics import AlertMetrics
from saltwatch.alerts.model import LATE_AFTER_NS, Event, Fingerprint
from saltwatch.alerts.moments import MonthLevels, salinity_moments
from saltwatch.alerts.windows import FIELDS, DeviceWindow, Windows
from saltwatch.core.clock import Clock
from saltwatch.core.registry import Device, Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

log = logging.getLogger("saltwatch.alerts")
StatusSource = Callable[[], Mapping[str, tuple[bool, int]]]
HANDOFF_BATCHES = 1_000  # ingest batches waiting to be judged; beyond, the tick catches up
#: The judge's passes start at least this far apart; what arrives meanwhile is judged together
PASS_INTERVAL_S = 0.1
#: …and further apart when a pass took long: the judge keeps to about this share of one core, so
#: a flood (a drained backlog) is judged in a few large passes instead of starving ingest
JUDGE_SHARE = 0.05
MAX_PASS_INTERVAL_S = 2.0


class _AsOf:
    """One device's window as it stood at a measurement time (for judging the past)."""

    def __init__(self, device: str, window: DeviceWindow, ts_ns: int) -> None:
        self._device = device
        self._window = window.as_of(ts_ns)

    def get(self, device: str) -> DeviceWindow | None:
        return self._window if device == self._device else None


Spans = dict[str, int]  # device → the oldest measurement time among its new readings


class ReadingJudge:
    def __init__(
        self,
        rules: Callable[[], RuleSet],
        registry: Registry,
        clock: Clock,
        windows: Windows,
        episodes: Episodes,
        metrics: AlertMetrics,
        statuses: StatusSource | None = None,
    ) -> None:
        self.rules = rules
        self.registry = registry
        self.clock = clock
        self.windows = windows
        self.episodes = episodes
        self.metrics = metrics
        self.statuses = statuses
        self.started_ns = clock.now_ns()
        self.blind = False  # SaltWatch cannot see its devices: no-data waits (alerts/system.py)
        self.regained_ns: int | None = None  # when it last saw them again
        self._handoff: queue.Queue[Sequence[Reading] | None] = queue.Queue(maxsize=HANDOFF_BATCHES)
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._levels: tuple[RuleSet | None, dict[str, MonthLevels]] = (None, {})
        self._judged: set[str] = set()  # devices judged since start (their history was not)

    def on_readings(self, readings: Sequence[Reading]) -> None:
        """Ingest's hand-off: queued for the judge's thread, which adds them to the windows and
        judges them (in the caller's thread until ``start``: tests, tools). When the hand-off is
        full, ingest adds them to the windows itself and goes on: the next tick judges them."""
        if self._thread is None:
            self._judge(self.windows.add(readings))
            return
        try:
            self._handoff.put_nowait(readings)
        except queue.Full:
            self.windows.add(readings)
            self.metrics.handoff_dropped.inc()

    def _judge(self, spans: Spans) -> None:
        """Evaluate each device that got data at the times where its judgement can change: for a
        salinity station, its band moves and hold ends (``alerts.moments``); for a well or a
        tap, the newest reading, or each one of a late backlog (their rules read several
        fields; they report rarely)."""
        rules = self.rules()
        now = self.clock.now_ns()
        for name, oldest in spans.items():
            window = self.windows.get(name)
            device = self.registry.device(name)
            if window is None or device is None or window.ts.size == 0:
                continue
            newest = int(window.ts[-1])
            if device.kind == "salinity" and device.profile is not None:
                judged_to = self._judge_station(device, window, oldest, rules)
            else:
                if now - oldest > LATE_AFTER_NS:
                    moments = window.ts[window.ts.searchsorted(oldest, "left") :].tolist()
                else:
                    moments = [newest]
                for ts in moments:
                    self.run({name}, instant_only=True, windows=_AsOf(name, window, ts))
                judged_to = newest
            if name not in self._judged:  # its first data here: judge where it now stands
                self._judged.add(name)
                if judged_to != newest:
                    self.run({name}, instant_only=True, windows=_AsOf(name, window, newest))

    def _judge_station(
        self, device: Device, window: DeviceWindow, oldest: int, rules: RuleSet
    ) -> int:
        """Evaluate a salinity station at its moments since ``oldest``; returns the last one."""
        assert device.profile is not None
        fingerprint = Fingerprint(f"salinity-{device.profile.value}", device.id)
        levels, cf = self._levels_for(rules, device), rules.defaults.clear_fraction
        watching = fingerprint in self.episodes.judged
        moments = salinity_moments(window, oldest, levels, cf, watching)
        judged_to = -1
        while moments:
            judged_to = moments.pop(0)
            self.run({device.id}, instant_only=True, windows=_AsOf(device.id, window, judged_to))
            if not watching and fingerprint in self.episodes.judged:
                # an alert opened here: from now on its clearing levels matter too
                watching = True
                moments = salinity_moments(window, judged_to + 1, levels, cf, watching)
        return judged_to

    def _levels_for(self, rules: RuleSet, device: Device) -> MonthLevels:
        """A station's levels by month, remembered while the rules stay the same."""
        if self._levels[0] is not rules:
            self._levels = (rules, {})
        known = self._levels[1]
        levels = known.get(device.id)
        if levels is None:
            levels = known[device.id] = MonthLevels(
                partial(rules.levels_for, device, self.registry)
            )
        return levels

    def run(
        self, devices: set[str] | None, instant_only: bool, windows: WindowSource | None = None
    ) -> list[Event]:
        """Evaluate ``devices`` (None: all) and apply what the rules saw."""
        episodes = self.episodes
        with episodes.lock:
            now = self.clock.now_ns()
            observations = evaluate(
                self.rules(),
                self.registry,
                windows or self.windows,
                episodes.current(),
                now,
                devices,
                self.statuses() if self.statuses and not instant_only else None,
                self.started_ns,
                instant_only,
                open_fingerprints=episodes.judged,
                blind=self.blind,
                regained_ns=self.regained_ns,
            )
            events = episodes.apply([(obs, None) for obs in observations], now)
        episodes.publish(events)
        return events

    def tick(self) -> None:
        """Every rule for every device, then reminders and escalations (the scheduled run)."""
        with self.metrics.tick_seconds.time():
            self.run(None, instant_only=False)
            self.episodes.remind_and_escalate()

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

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="alerts-judge", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        next_pass = 0.0
        while (first := self._handoff.get()) is not None:
            # what arrives until the next pass is due is judged with it: the windows grow once
            # and each device is judged once, however many batches brought it data
            self._stopping.wait(next_pass - time.monotonic())
            readings = list(first)
            stopping = False
            while True:
                try:
                    more = self._handoff.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                    break
                readings.extend(more)
            started, cpu = time.monotonic(), time.thread_time()
            try:
                self._judge(self.windows.add(readings))
            except Exception:  # one bad batch must not end the judging
                log.exception("judging new readings failed; the next tick judges them")
            spent = time.thread_time() - cpu
            next_pass = started + min(
                max(PASS_INTERVAL_S, spent / JUDGE_SHARE), MAX_PASS_INTERVAL_S
            )
            if stopping:
                return

    def stop(self) -> None:
        if self._thread is not None:
            self._stopping.set()
            self._handoff.put(None)
            self._thread.join(10)
