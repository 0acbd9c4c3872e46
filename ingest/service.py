"""Ingest running: the MQTT consumer, the pipeline with its spool, and the polled sources, run until
stopped. Built by the composition root (saltwatch/wiring.py) from its typed part of the settings
(``IngestConfig``) and a way to connect to the broker."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.qc import QcConfig, QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.settings import IngestSettings
from saltwatch.core.sources import SourceSettings
from saltwatch.core.store import ReadingStore, ReadingWriter
from saltwatch.core.validation import ValidationConfig
from saltwatch.ingest.claims import SharedClaims
from saltwatch.ingest.devices import DeviceSnapshot, DeviceTracker
from saltwatch.ingest.intake import Inbound, RecentRejection, seed_conflicts, seed_qc
from saltwatch.ingest.landing import Landing
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.ingest.mqtt import MqttConsumer
from saltwatch.ingest.partition import Partition
from saltwatch.ingest.pipeline import Listener, Pipeline, PipelineConfig
from saltwatch.ingest.poller import HttpPoller, SourceStatus
from saltwatch.ingest.qc_memory import QcMemory
from saltwatch.ingest.running import run_until
from saltwatch.ingest.spool import Spool
from saltwatch.ingest.uplinks import Uplinks

log = logging.getLogger("saltwatch.ingest")


@dataclass(frozen=True, slots=True)
class IngestConfig:
    """Ingest's part of the settings, read by the composition root."""

    ingest: IngestSettings
    qc: QcConfig
    validation: ValidationConfig  # what a message must be to be read
    uplinks: Uplinks  # the LoRaWAN network servers' uplinks
    sources: Sequence[SourceSettings]  # those of kind http are polled here
    state_dir: Path  # where a polled source keeps its cursor


#: connects to the broker: (what to do with the messages, what to do when the link goes up or
#: down) → the consumer
Connect = Callable[[Callable[[list[Inbound]], None], Callable[[bool], None]], MqttConsumer]


class IngestService:
    def __init__(
        self,
        config: IngestConfig,
        connect: Connect,
        registry: Registry,
        store: ReadingWriter,
        clock: Clock | None = None,
        metrics: IngestMetrics | None = None,
        report_every_s: float = 60.0,
        history: ReadingStore | None = None,
        claims: SharedClaims | None = None,
        partition: Partition | None = None,
    ) -> None:
        ingest = config.ingest
        clock = clock or SystemClock()
        self._qc = QualityControl(config.qc)
        self._history = history
        self._clock = clock
        metrics = metrics or IngestMetrics()
        self.consumer = connect(self._inbound, lambda up: metrics.connected.set(1 if up else 0))
        self._memory = QcMemory(self._qc, ingest.spool_path / "qc-history.json")
        self.pipeline = Pipeline(
            store,
            registry,
            config.validation,
            self._qc,
            Spool(ingest.spool_path, ingest.spool_max_bytes),
            self.consumer,
            clock,
            PipelineConfig(ingest.batch_size, ingest.batch_interval_s, ingest.max_unacked),
            metrics,
            lookup=history,
            memory=self._memory,
            claims=claims,
            uplinks=config.uplinks,
        )
        self._report_every = report_every_s
        self._stopped = threading.Event()
        #: vendor clouds polled over HTTP, landed in the store they are checked against
        self.pollers = [
            HttpPoller(
                source,
                registry,
                Landing(history, self._qc),
                clock,
                config.state_dir,
                ingest.max_future_s,
                metrics=metrics,
            )
            for source in config.sources
            if source.kind == "http"
            and history is not None
            and (partition is None or partition.member == 0)  # one member polls
        ]

    @property
    def tracker(self) -> DeviceTracker:
        return self.pipeline.tracker

    # ------------------------------------------------ what the API shows of it (api IngestView)
    def recent_rejections(self) -> list[RecentRejection]:
        return self.pipeline.recent_rejections()

    def devices(self) -> list[DeviceSnapshot]:
        return self.tracker.snapshot()

    def quarantined(self) -> list[str]:
        return self.pipeline.quarantined

    def broker_connected(self) -> bool | None:
        return self.consumer.connected.is_set()

    def spool_disk_full(self) -> bool:
        return self.pipeline.spool_disk_full

    def sources(self) -> list[SourceStatus]:
        return [poller.status() for poller in self.pollers]

    def stale_sources(self) -> dict[str, float]:
        """Each stale polled source → hours since its newest reading (or since polling began)."""
        out: dict[str, float] = {}
        for poller in self.pollers:
            status = poller.status()
            if status.stale:
                out[status.name] = round((status.lag_s or poller.source.stale_after_s) / 3600, 1)
        return out

    def add_listener(self, listener: Listener) -> None:
        """Called with every batch once it is durable (stored or spooled)."""
        self.pipeline.add_listener(listener)
        self.add_poll_listener(listener)

    def add_poll_listener(self, listener: Listener) -> None:
        """Called with each vendor page's new readings once they are stored (only)."""
        for poller in self.pollers:
            poller.add_listener(listener)

    def _inbound(self, messages: list[Inbound]) -> None:
        self.pipeline.submit_many(messages)

    def start(self) -> None:
        self._seed_qc()
        self.pipeline.start()
        self.consumer.start()
        for poller in self.pollers:
            poller.start()
        threading.Thread(target=self._report, name="ingest-report", daemon=True).start()

    def _seed_qc(self) -> None:
        seed_qc(self._qc, self._history, self._clock, memory=self._memory)
        conflicts = self.pipeline.intake.conflicts
        if self._history is not None and conflicts is not None:
            seed_conflicts(conflicts, self._history)

    def stop(self) -> None:
        """Stop taking messages, make the open batch durable, acknowledge it, disconnect."""
        if self._stopped.is_set():
            return
        self.consumer.stop_accepting()
        for poller in self.pollers:
            poller.stop()
        self.pipeline.stop()
        self._memory.save()
        self.consumer.stop()
        self._stopped.set()
        log.info(
            "ingest stopped; %d messages left unacknowledged for redelivery",
            max(self.pipeline.unacked, 0),
        )

    def run(self, stop: threading.Event) -> None:
        """Run until ``stop`` is set; raise FatalError when the broker or store refuses us."""
        run_until(stop, self, lambda: self.pipeline.failure, "ingest")

    def _report(self) -> None:
        m = self.pipeline.metrics

        def sample() -> tuple[float, float, float]:
            get = m.registry.get_sample_value
            received = get("saltwatch_ingest_messages_received_total") or 0.0
            return time.monotonic(), received, get("saltwatch_ingest_readings_stored_total") or 0.0

        last = sample()
        while not self._stopped.wait(self._report_every):
            now = sample()
            span = max(now[0] - last[0], 1e-9)
            log.info(
                "ingest: %.0f msg/s received, %.0f readings/s stored, %d unacked, "
                "spool %d batches, store %s, seq lost %d",
                (now[1] - last[1]) / span,
                (now[2] - last[2]) / span,
                self.pipeline.unacked,
                self.pipeline.spool_depth,
                "up" if self.pipeline.store_up else "DOWN",
                self.pipeline.tracker.lost_total(),
            )
            m.seq_lost.set(self.pipeline.tracker.lost_total())
            last = now
