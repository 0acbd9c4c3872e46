"""Judging the devices: readings go into the windows (on ingest's thread: cheap), and the
devices that got data are evaluated by the instantaneous rules on the judge's own thread, through
a bounded hand-off (a full one never blocks ingest: the next tick judges every window). Late
readings are judged at their own measurement times first. The tick evaluates every rule of every
device; ``warm`` fills the windows from the store at start."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from alerts.episodes import Episodes
from alerts.evaluate import evaluate
from alerts.judgement import WindowSource
from alerts.metrics import AlertMetrics
from alerts.model import LATE_AFTER_NS, Event
from alerts.windows import FIELDS, DeviceWindow, Windows
from core.clock import Clock
from core.registry import Device, Registry
from core.rules import RuleSet, SalinityLevels
from core.timeutil import NS_PER_S, VN_TZ, to_datetime
from core.topics import TopicKind
from core.types import Reading
from storage.ports import ReadingStore

log = logging.getLogger("saltwatch.alerts")
StatusSource = Callable[[], Mapping[str, tuple[bool, int]]]
HANDOFF_BATCHES = 1_000  # ingest batches waiting to be judged; beyond, the tick catches up


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
        self._handoff: queue.Queue[tuple[set[str], list[Reading]] | None] = queue.Queue(
            maxsize=HANDOFF_BATCHES
        )
        self._thread: threading.Thread | None = None

    def on_readings(self, readings: Sequence[Reading]) -> None:
        """Ingest's hand-off (judged in the caller's thread until ``start``: tests, tools)."""
        now = self.clock.now_ns()
        late = [r for r in readings if now - r.ts_ns > LATE_AFTER_NS]
        devices = self.windows.add(readings)
        if self._thread is None:
            self._judge(devices, late)
            return
        try:
            self._handoff.put_nowait((devices, late))
        except queue.Full:
            self.metrics.handoff_dropped.inc()

    def _judge(self, devices: set[str], late: Sequence[Reading]) -> None:
        judged = self._replay(late) if late else set()
        if devices - judged:
            self.run(devices - judged, instant_only=True)

    def _replay(self, late: Sequence[Reading]) -> set[str]:
        """Judge a late backlog in one pass per device, at the times where a judgement can
        change rather than at every reading: for a salinity station, where its value moves from
        one band of its levels to another (below clearing, below warning, … above critical) and
        where each hold time since such a move runs out; a well or a tap at each of its readings
        (few, and their rules read several fields). Returns the devices judged up to their
        newest reading (the run at the newest time that otherwise follows is not needed)."""
        rules = self.rules()
        by_device: dict[str, list[Reading]] = {}
        for reading in late:
            by_device.setdefault(reading.device, []).append(reading)
        done: set[str] = set()
        for name, readings in by_device.items():
            window = self.windows.get(name)
            device = self.registry.device(name)
            if window is None or device is None:
                continue
            ordered = sorted(readings, key=lambda r: r.ts_ns)
            moments = self._moments(device, ordered, rules)
            newest = int(window.ts[-1]) if window.ts.size else None
            if newest == ordered[-1].ts_ns:  # the window holds nothing newer: end there
                if not moments or moments[-1] != newest:
                    moments.append(newest)
                done.add(name)
            for ts in moments:
                self.run({name}, instant_only=True, windows=_AsOf(name, window, ts))
        return done

    def _moments(self, device: Device, readings: list[Reading], rules: RuleSet) -> list[int]:
        if device.kind != "salinity" or device.profile is None:
            return sorted({r.ts_ns for r in readings})
        out: list[int] = []
        band = -1
        due: list[int] = []  # the times a hold since the last move runs out
        by_month: dict[int, SalinityLevels] = {}
        for reading in readings:
            value = reading.fields.get("salinity_ppt")
            if not isinstance(value, float | int) or isinstance(value, bool):
                continue
            month = to_datetime(reading.ts_ns, VN_TZ).month
            levels = by_month.get(month) or by_month.setdefault(
                month, rules.levels_for(device, self.registry, month)
            )
            f = rules.defaults.clear_fraction
            now_band = sum(
                float(value) >= t
                for t in (f * levels.warning, levels.warning, f * levels.critical, levels.critical)
            )
            ripe = [d for d in due if reading.ts_ns >= d]
            if now_band != band:
                # the hold that can run out after this move: rising to a level, that level's;
                # falling below a clearing level, the clearing hold
                hold = levels.hold_clear
                if now_band > band and now_band in (2, 4):
                    hold = levels.hold_warning if now_band == 2 else levels.hold_critical
                due = [d for d in due if d > reading.ts_ns]
                if hold > 0 and ((now_band > band and now_band in (2, 4)) or now_band < band):
                    due.append(reading.ts_ns + int(hold * NS_PER_S))
                band = now_band
                out.append(reading.ts_ns)
            elif ripe:
                due = [d for d in due if d > reading.ts_ns]
                out.append(reading.ts_ns)
        return out

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
                self.statuses() if self.statuses else None,
                self.started_ns,
                instant_only,
                open_fingerprints=episodes.open,
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
        while (item := self._handoff.get()) is not None:
            try:
                self._judge(*item)
            except Exception:  # one bad batch must not end the judging
                log.exception("judging new readings failed; the next tick judges them")

    def stop(self) -> None:
        if self._thread is not None:
            self._handoff.put(None)
            self._thread.join(10)
