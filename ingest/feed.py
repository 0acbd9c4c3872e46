"""The readings of the alerts process, which runs apart from ingest (``saltwatch alerts``).

Its own persistent subscription (``alerts.client_id``) gives it every message; each is read as
ingest reads it (``ingest.intake``: the same validation and device liveness). Nothing is stored
here: ingest decides whether a reading exists and stores it, so before the listeners (the alert
engine) see a reading the feed asks the store for it (``ReadingStore.at_times``) and hands it
over only when the store holds that value. Its QC flags are the feed's own, over each device's
whole stream in order (ingest's stored flags can differ where a restart or a change of its
layout reset a device's history). A reading the store holds with other values was
refused by ingest (a conflict) and is dropped; one not stored yet is asked for again, and the
batch waits, unacknowledged, while the store is away. One the store still lacks after
``CONFIRM_WAIT_S`` of answers was never accepted, and is dropped and counted. Then the batch is
acknowledged. A message this process never handed over (a crash) stays unacknowledged, and the
broker gives it again.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.errors import RetryableError
from saltwatch.core.qc import QcConfig, QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.store import ReadingStore
from saltwatch.core.types import Reading
from saltwatch.core.validation import ValidationConfig
from saltwatch.ingest.conflicts import differs, stored_at
from saltwatch.ingest.devices import DeviceTracker
from saltwatch.ingest.intake import Inbound, Intake, seed_qc
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.ingest.mqtt import MqttConsumer
from saltwatch.ingest.qc_memory import QcMemory
from saltwatch.ingest.running import run_until
from saltwatch.ingest.uplinks import Uplinks

log = logging.getLogger("saltwatch.alerts.feed")

Listener = Callable[[Sequence[Reading]], None]
_STOP = object()
CONFIRM_WAIT_S = 120.0  # how long the store may answer without a reading before it is dropped
CONFIRM_POLL_S = (0.1, 0.25, 0.5, 1.0)  # the pauses between askings, the last repeated


@dataclass(frozen=True, slots=True)
class FeedConfig:
    """The feed's part of the settings, read by the composition root (saltwatch/wiring.py)."""

    batch_interval_s: float
    qc: QcConfig
    validation: ValidationConfig
    uplinks: Uplinks
    qc_memory: Path  # its QC judges what the engine sees: kept beside the alert state


class ReadingFeed:
    def __init__(
        self,
        config: FeedConfig,
        connect: Callable[[Callable[[list[Inbound]], None]], MqttConsumer],
        registry: Registry,
        clock: Clock | None = None,
        history: ReadingStore | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self._history = history
        self._interval = config.batch_interval_s
        self.metrics = IngestMetrics()
        self.tracker = DeviceTracker()
        qc = QualityControl(config.qc)
        memory = QcMemory(qc, config.qc_memory)
        self.intake = Intake(
            registry,
            config.validation,
            qc,
            self.metrics,
            self.tracker,
            memory=memory,
            uplinks=config.uplinks,
        )
        self.consumer = connect(self._inbox_put)
        self._inbox: queue.SimpleQueue[list[Inbound] | object] = queue.SimpleQueue()
        self._listeners: list[Listener] = []
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self.failure: BaseException | None = None

    def add_listener(self, listener: Listener) -> None:
        """Called with each batch of readings, in the feed's thread, before it is acknowledged."""
        self._listeners.append(listener)

    def _inbox_put(self, messages: list[Inbound]) -> None:
        self._inbox.put(messages)

    def start(self) -> None:
        seed_qc(self.intake.qc, self._history, self._clock, memory=self.intake.memory)
        self._thread = threading.Thread(target=self._work, name="alerts-feed", daemon=True)
        self._thread.start()
        self.consumer.start()

    def _work(self) -> None:
        try:
            while self._gather_and_hand_over():
                pass
        except BaseException as exc:  # noted, and the process stops (run raises it)
            log.exception("the alerts feed failed")
            self.failure = exc

    def _gather_and_hand_over(self) -> bool:
        """One batch: what arrives within the batch interval of its first message."""
        while True:
            self.intake.keep()
            try:
                first = self._inbox.get(timeout=1.0)
                break
            except queue.Empty:
                continue
        if not isinstance(first, list):
            return False
        messages = list(first)
        deadline = time.monotonic() + self._interval
        stopping = False
        while (left := deadline - time.monotonic()) > 0:
            try:
                item = self._inbox.get(timeout=left)
            except queue.Empty:
                break
            if not isinstance(item, list):
                stopping = True
                break
            messages.extend(item)
        readings: list[Reading] = []
        for message in messages:
            self.intake.take(message, readings)
        self.metrics.received.inc(len(messages))
        if self._history is not None and readings:
            confirmed = self._as_stored(self._history, readings)
            if confirmed is None:
                return False  # stopping: left unacknowledged, the broker gives them again
            readings = confirmed
        for listener in self._listeners if readings else ():
            try:
                listener(readings)
            except Exception:  # the engine's own trouble: it is not the feed's to stop on
                log.exception("reading listener failed")
        self.consumer.ack_many([(m.mid, m.qos, m.epoch) for m in messages])
        self.metrics.acked.inc(len(messages))
        return not stopping

    def _as_stored(self, store: ReadingStore, readings: list[Reading]) -> list[Reading] | None:
        """Those of ``readings`` whose value ``store`` holds (ingest's decision), in their
        order: waits for those not stored yet (see the module's docstring); None when told to
        stop before all were confirmed."""
        found: dict[tuple[str, int], Reading | None] = {}  # None: stored with other values
        missing = readings
        answered_s = 0.0
        pauses = iter(CONFIRM_POLL_S)
        pause = CONFIRM_POLL_S[0]
        while missing and not self._stopping.is_set():
            try:
                missing = self._look_up(store, missing, found)
            except RetryableError as exc:
                log.warning("the store is away: readings wait to be confirmed (%s)", exc)
                self._stopping.wait(CONFIRM_POLL_S[-1])
                continue
            if not missing:
                break
            if answered_s >= CONFIRM_WAIT_S:
                log.warning("%d readings were never stored (refused by ingest?): not judged",
                            len(missing))  # fmt: skip
                self.metrics.rejected.labels("never_stored").inc(len(missing))
                break
            pause = next(pauses, pause)
            self._stopping.wait(pause)
            answered_s += pause
        if missing and self._stopping.is_set():
            return None
        kept = [found.get((r.device, r.ts_ns)) for r in readings]
        return [r for r in kept if r is not None]

    @staticmethod
    def _look_up(
        store: ReadingStore, readings: list[Reading], found: dict[tuple[str, int], Reading | None]
    ) -> list[Reading]:
        """Fill ``found`` with those of ``readings`` whose value ``store`` holds (None: it
        holds another); returns those it lacks."""
        missing: list[Reading] = []
        for reading, held in stored_at(store, readings):
            if held is None:
                missing.append(reading)
            else:
                # ingest's value, with this feed's QC over each device's whole stream
                same = differs(held.fields, reading.fields) is None
                found[(reading.device, reading.ts_ns)] = reading if same else None
        return missing

    def stop(self) -> None:
        """Hand over what arrived, acknowledge it, disconnect."""
        self._stopping.set()
        self.consumer.stop_accepting()
        self._inbox.put(_STOP)
        if self._thread is not None:
            self._thread.join(10)
        if self.intake.memory is not None:
            self.intake.memory.save()
        self.consumer.stop()

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; raise FatalError when the broker refuses us."""
        run_until(stop, self, lambda: self.failure, "the alerts feed")
