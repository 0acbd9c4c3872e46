"""The ingest pipeline: validate → batch → durable write (store, else spool) → acknowledge.

Threads: the MQTT network thread only ``submit``s; a worker judges messages and builds batches (by
size and by age); a writer makes each batch durable — in the store, or in the local spool when the
store cannot take it — and only then acknowledges its messages; a drainer moves spooled batches
into the store, oldest first, once it answers again. When the spool is full the writer keeps
retrying the store and acknowledges nothing, so the broker's in-flight window fills and the broker
holds the rest: backpressure, not memory growth. ``submit`` itself blocks past ``max_unacked``.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from saltwatch.core.backoff import Backoff
from saltwatch.core.clock import Clock
from saltwatch.core.errors import BadInputError, FatalError, RetryableError
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.settings import IngestSettings, default_of
from saltwatch.core.store import ReadingStore, ReadingWriter
from saltwatch.core.types import Reading
from saltwatch.core.validation import ValidationConfig
from saltwatch.ingest.claims import SharedClaims
from saltwatch.ingest.conflicts import Conflicts
from saltwatch.ingest.decisions import AbandonedError, Decisions
from saltwatch.ingest.devices import DeviceTracker
from saltwatch.ingest.intake import Inbound, Intake, RecentRejection
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.ingest.qc_memory import QcMemory
from saltwatch.ingest.spool import Spool
from saltwatch.ingest.uplinks import Uplinks

log = logging.getLogger("saltwatch.ingest")

Listener = Callable[[Sequence[Reading]], None]


class Acker(Protocol):
    def ack_many(self, acks: list[tuple[int, int, int]]) -> None:
        """Acknowledge (mid, qos, epoch) triples: messages received on connection ``epoch``
        (dropped if that is gone), in one write where the transport allows."""
        ...


@dataclass(frozen=True, slots=True)
class PipelineConfig:
    batch_size: int = default_of(IngestSettings, "batch_size")
    batch_interval_s: float = default_of(IngestSettings, "batch_interval_s")
    max_unacked: int = default_of(IngestSettings, "max_unacked")
    recent_rejections: int = 500
    payload_head_bytes: int = 120


@dataclass(slots=True)
class _Batch:
    readings: list[Reading] = field(default_factory=list)
    acks: list[tuple[int, int, int]] = field(default_factory=list)
    deadline: float = 0.0
    unverified: list[Reading] = field(default_factory=list)  # older than conflicts remembers


_STOP = object()


class _StoreHealth:
    """Shared by writer and drainer: whether to try the store now or go straight to the spool."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.up = True
        self._retry_at = 0.0
        self._backoff = Backoff(initial=0.5, cap=10.0)

    def should_try(self) -> bool:
        with self._lock:
            return self.up or time.monotonic() >= self._retry_at

    def seconds_to_retry(self) -> float:
        with self._lock:
            return 0.0 if self.up else max(0.0, self._retry_at - time.monotonic())

    def failed(self) -> None:
        with self._lock:
            self.up = False
            self._retry_at = time.monotonic() + self._backoff.next()

    def succeeded(self) -> None:
        with self._lock:
            self.up = True
            self._backoff.reset()


class Pipeline:
    def __init__(
        self,
        store: ReadingWriter,
        registry: Registry,
        judge: ValidationConfig,
        qc: QualityControl,
        spool: Spool,
        acker: Acker,
        clock: Clock,
        config: PipelineConfig = PipelineConfig(),
        metrics: IngestMetrics | None = None,
        tracker: DeviceTracker | None = None,
        lookup: ReadingStore | None = None,
        memory: QcMemory | None = None,
        claims: SharedClaims | None = None,
        uplinks: Uplinks | None = None,
    ) -> None:
        self._store = store
        self._spool = spool
        self._refused = Spool(spool.folder / "refused", spool.max_bytes)
        self._acker = acker
        self._clock = clock
        self._cfg = config
        self.metrics = metrics or IngestMetrics()
        self.tracker = tracker or DeviceTracker()
        self.intake = Intake(
            registry,
            judge,
            qc,
            self.metrics,
            self.tracker,
            config.recent_rejections,
            config.payload_head_bytes,
            memory,
            None if claims is not None else Conflicts(),  # one process decides alone
            uplinks,
        )
        self._stopping = threading.Event()
        self._decisions = Decisions(self.intake, clock, self._stopping, lookup, claims)
        self._listeners: list[Listener] = []
        self._inbox: queue.SimpleQueue[list[Inbound] | object] = queue.SimpleQueue()
        self._to_writer: queue.Queue[_Batch | object] = queue.Queue(maxsize=2)
        self._health = _StoreHealth()
        self._spool_event = threading.Event()
        self._submitted = 0  # written by the network thread only
        self._acked = 0  # written by the writer thread only
        self._acks_done = threading.Event()
        self._threads: list[threading.Thread] = []
        self.failure: BaseException | None = None
        self._update_spool_gauges()

    # ------------------------------------------------------------------ public
    def add_listener(self, listener: Listener) -> None:
        """Called with every batch once it is durable (stored or spooled), in the writer thread."""
        self._listeners.append(listener)

    def start(self) -> None:
        for name, target in (
            ("worker", self._work),
            ("writer", self._write_loop),
            ("drainer", self._drain_loop),
        ):
            thread = threading.Thread(
                target=self._guard(target), name=f"ingest-{name}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def submit(self, message: Inbound) -> None:
        """Hand over one message (network thread)."""
        self.submit_many([message])

    def submit_many(self, messages: list[Inbound]) -> None:
        """Hand over messages (network thread). Blocks while ``max_unacked`` are in flight."""
        while (
            self._submitted - self._acked >= self._cfg.max_unacked and not self._stopping.is_set()
        ):
            self._acks_done.clear()
            self._acks_done.wait(0.1)
        self._submitted += len(messages)
        self._inbox.put(messages)

    def stop(self, timeout: float = 30.0) -> None:
        """Flush the open batch, make it durable, acknowledge it, and end the threads."""
        self._inbox.put(_STOP)
        deadline = time.monotonic() + timeout
        for thread in self._threads[:2]:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._stopping.set()
        self._spool_event.set()
        self._acks_done.set()
        for thread in self._threads[2:]:
            thread.join(max(0.0, deadline - time.monotonic()))

    @property
    def unacked(self) -> int:
        return self._submitted - self._acked

    @property
    def spool_disk_full(self) -> bool:
        """The spool's disk had no space at its last write: ingest holds acknowledgements."""
        return self._spool.disk_full

    @property
    def spool_depth(self) -> int:
        return self._spool.depth

    @property
    def quarantined(self) -> list[str]:
        """Spool files that could not be read back, moved aside (docs/interface.md: named in
        /health)."""
        return list(self._spool.quarantined)

    def progress(self) -> tuple[int, int]:
        """Messages taken from the broker and messages finished (stored or spooled, and
        acknowledged) since start: a stall shows as the first ahead and the second still."""
        return self._submitted, self._acked

    @property
    def store_up(self) -> bool:
        return self._health.up

    def recent_rejections(self) -> list[RecentRejection]:
        return self.intake.recent_rejections()

    # ------------------------------------------------------------------ threads
    def _guard(self, target: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                target()
            except BaseException as exc:
                log.exception("ingest thread failed")
                self.failure = exc
                self._stopping.set()

        return run

    def _work(self) -> None:
        batch = _Batch()
        inbox = self._inbox
        while True:
            wait = max(0.0, batch.deadline - time.monotonic()) if batch.acks else 0.5
            items: list[list[Inbound] | object] = []
            try:
                items.append(inbox.get(timeout=wait))
                while len(items) < 1000:  # take what is waiting without blocking again
                    items.append(inbox.get_nowait())
            except queue.Empty:
                pass
            received = 0
            for item in items:
                if item is _STOP:
                    if batch.acks:
                        self._to_writer.put(batch)
                    self._to_writer.put(_STOP)
                    return
                if not isinstance(item, list):
                    continue
                received += len(item)
                self._judge_many(item, batch)
                if len(batch.readings) >= self._cfg.batch_size:
                    self._to_writer.put(batch)
                    batch = _Batch()
            self.metrics.received.inc(received)
            self.intake.keep()
            if batch.acks and time.monotonic() >= batch.deadline:
                self._to_writer.put(batch)
                batch = _Batch()

    def _judge_many(self, messages: list[Inbound], batch: _Batch) -> None:
        """Validate what one read of the socket brought into ``batch`` (which may so pass
        ``batch_size`` by that much); their acknowledgements go out with the batch."""
        if not batch.acks:
            batch.deadline = time.monotonic() + self._cfg.batch_interval_s
        batch.acks.extend([(m.mid, m.qos, m.epoch) for m in messages])
        self.intake.take_many(messages, batch.readings, batch.unverified)

    def _write_loop(self) -> None:
        while True:
            item = self._to_writer.get()
            if not isinstance(item, _Batch):
                return
            try:
                item.readings = self._decisions.decide(
                    item.readings, item.unverified, self._health.should_try()
                )
                if item.readings:
                    self._persist(item.readings)
            except AbandonedError:
                return
            self._ack(item.acks)
            for listener in self._listeners if item.readings else ():
                try:
                    listener(item.readings)
                except Exception:
                    log.exception("reading listener failed")

    def _persist(self, readings: list[Reading]) -> None:
        """Return only once ``readings`` are in the store or the spool."""
        while True:
            if self._health.should_try() and self._try_store(readings):
                return
            if self._spool.put(readings):
                self.metrics.spooled.inc(len(readings))
                self._update_spool_gauges()
                self._spool_event.set()
                return
            log.warning(
                "spool full (%d bytes): holding acknowledgements until the store answers",
                self._spool.size_bytes,
            )
            if self._stopping.wait(min(1.0, max(0.05, self._health.seconds_to_retry()))):
                raise AbandonedError  # unacknowledged: the broker delivers it again later

    def _try_store(self, readings: list[Reading]) -> bool:
        started = time.perf_counter()
        try:
            self._store.write(readings)
        except RetryableError as exc:
            if self._health.up:
                log.warning("store unavailable, spooling: %s", exc)
            self._health.failed()
            self.metrics.store_up.set(0)
            return False
        except BadInputError as exc:
            # The store will never take this batch as it is (e.g. a field type conflict with data
            # someone else wrote). Keep it on disk for an operator instead of losing it or
            # stopping the pipeline on it forever.
            if not self._refused.put(readings):
                full = f"the store refused a batch and {self._refused.folder} is full"
                raise FatalError(full) from exc
            log.error(
                "the store refused a batch of %d readings, kept in %s: %s",
                len(readings),
                self._refused.folder,
                exc,
            )
            self.metrics.refused.inc(len(readings))
            return True
        self.metrics.write_seconds.observe(time.perf_counter() - started)
        self.metrics.stored.inc(len(readings))
        if not self._health.up:
            log.info("store answers again")
        self._health.succeeded()
        self.metrics.store_up.set(1)
        return True

    def _drain_loop(self) -> None:
        while not self._stopping.is_set():
            oldest = self._spool.oldest()
            if oldest is None:
                self._spool_event.wait(1.0)
                self._spool_event.clear()
                continue
            pause = self._health.seconds_to_retry()
            if pause > 0:
                self._stopping.wait(pause)
                continue
            path, readings = oldest
            if self._try_store(readings):
                self._spool.remove(path)
                self._update_spool_gauges()

    def _ack(self, acks: list[tuple[int, int, int]]) -> None:
        self._acker.ack_many(acks)
        self.metrics.acked.inc(len(acks))
        self._acked += len(acks)
        self.metrics.unacked.set(self._submitted - self._acked)
        self._acks_done.set()

    def _update_spool_gauges(self) -> None:
        self.metrics.spool_batches.set(self._spool.depth)
        self.metrics.spool_bytes.set(self._spool.size_bytes)
