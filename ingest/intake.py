"""From one MQTT message to the readings it carries: one step, shared by ingest's pipeline (which
stores them) and the alerts process's feed (which only judges them), so both see the same
readings with the same QC flags.

A status message updates the device's liveness; a reading message is decoded and validated
(``core.judge``), flagged by QC and counted for the device's liveness and sequence; whatever is
refused is counted by reason and kept, newest first, for the API.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass
from typing import NamedTuple

from saltwatch.core.clock import Clock
from saltwatch.core.errors import RetryableError
from saltwatch.core.qc import QualityControl
from saltwatch.core.reasons import Reason
from saltwatch.core.registry import Registry
from saltwatch.core.schema import measurement_for
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import READING_KINDS, TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.ingest.conflicts import Conflicts
from saltwatch.ingest.devices import DeviceTracker
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.ingest.qc_memory import QcMemory
from saltwatch.ingest.uplinks import Uplinks

log = logging.getLogger("saltwatch.ingest")


class Inbound(NamedTuple):
    topic: str
    payload: bytes
    received_ns: int
    mid: int = 0
    qos: int = 1
    epoch: int = 0
    retained: bool = False  # the broker's stored copy, given on subscribing: said at some past time


@dataclass(frozen=True, slots=True)
class RecentRejection:
    received_ns: int
    topic: str
    reason: str
    detail: str
    payload_head: str


class Intake:
    def __init__(
        self,
        registry: Registry,
        judge: ValidationConfig,
        qc: QualityControl,
        metrics: IngestMetrics,
        tracker: DeviceTracker,
        recent_rejections: int = 500,
        payload_head_bytes: int = 120,
        memory: QcMemory | None = None,
        conflicts: Conflicts | None = None,
        uplinks: Uplinks | None = None,
    ) -> None:
        self._registry = registry
        self._own_head = f"{judge.topic_prefix}/"
        self._uplinks = uplinks if uplinks else None  # LoRaWAN network servers' topics
        self._judge = MessageValidator(registry, judge)
        self.topic_prefix = judge.topic_prefix
        self._status_head = f"{judge.topic_prefix}/{TopicKind.STATUS.value}/"
        self._accept_unknown = judge.accept_unknown
        self.qc = qc
        self.metrics = metrics
        self.tracker = tracker
        self._head_bytes = payload_head_bytes
        self._rejections: deque[RecentRejection] = deque(maxlen=recent_rejections)
        self._lock = threading.Lock()
        self.memory = memory  # QC's memory on local disk, saved as readings pass
        self.conflicts = conflicts  # one value per device and time (ingest only)

    def take(
        self, message: Inbound, out: list[Reading], unverified: list[Reading] | None = None
    ) -> None:
        """Append the readings ``message`` carries to ``out`` (none for a status message), and
        to ``unverified`` those older than ``conflicts`` remembers (for the writer to check)."""
        self.metrics.items.inc(self._take(message, out, unverified))

    def take_many(
        self, messages: list[Inbound], out: list[Reading], unverified: list[Reading] | None = None
    ) -> None:
        """``take`` for each of ``messages``, counted once."""
        take = self._take
        self.metrics.items.inc(sum([take(message, out, unverified) for message in messages]))

    def keep(self) -> None:
        """Save QC's memory when due: call it often, from the thread that takes messages."""
        if self.memory is not None:
            self.memory.maybe_save()

    def _take(self, message: Inbound, out: list[Reading], unverified: list[Reading] | None) -> int:
        """The readings into ``out``; returns the number of items judged."""
        if message.topic.startswith(self._status_head):
            self._status(message)
            return 0
        if message.retained:
            # the broker gives a retained message again at every subscription, so after every
            # restart it would be one more reading (at its arrival time when it carries none)
            self._reject(message, Reason.RETAINED.value, "readings must not be retained")
            return 1
        if self._uplinks is not None and not message.topic.startswith(self._own_head):
            result = self._uplinks.judge(message.topic, message.payload, message.received_ns)
        else:
            result = self._judge.validate(message.topic, message.payload, message.received_ns)
        items = len(result.readings) if not result.rejections else max(result.item_count, 1)
        for rejection in result.rejections:
            self._reject(message, rejection.reason, rejection.detail)
        conflicts = self.conflicts
        for reading in result.readings:
            if conflicts is not None:
                fresh = conflicts.check(reading)
                if fresh is False:
                    self.reject_conflict(
                        reading, message.topic, message.payload, message.received_ns
                    )
                    continue
                if fresh is None and unverified is not None:
                    unverified.append(reading)
            checked = self.qc.apply(reading, measurement_for(reading.kind).primary)
            seq = checked.fields.get("seq")
            self.tracker.seen(
                checked.device,
                message.received_ns,
                checked.ts_ns,
                seq if isinstance(seq, int) else None,
            )
            out.append(checked)
        return items

    def recent_rejections(self) -> list[RecentRejection]:
        """The refused messages kept, newest first."""
        with self._lock:
            return list(reversed(self._rejections))

    def _status(self, message: Inbound) -> None:
        device = message.topic[len(self._status_head) :]
        text = message.payload.strip().lower()
        if self._registry.device(device) is None and not self._accept_unknown:
            self._reject(message, Reason.UNKNOWN_DEVICE.value, "status of unknown device")
        elif text in (b"online", b"offline"):
            # a retained status was said at an unknown past time (say, before this restart): any
            # reading of the device outranks it, so a device that came back is not "offline"
            said_at = 0 if message.retained else message.received_ns
            self.tracker.status(device, text == b"online", said_at)
        else:
            self._reject(message, Reason.BAD_SHAPE.value, "status must be online/offline")

    def reject_conflict(
        self, reading: Reading, topic: str, payload: bytes, received_ns: int, field: str = ""
    ) -> None:
        """A second, different value for a time the device already has: refused, the first
        stays (ingest/conflicts.py)."""
        at = f"{reading.ts_ns // NS_PER_S}"
        detail = f"{reading.device} already has other values at ts {at}" + (
            f" ({field} differs)" if field else ""
        )
        self._record(Reason.CONFLICT.value, topic, payload, received_ns, detail)

    def _reject(self, message: Inbound, reason: str, detail: str) -> None:
        self._record(reason, message.topic, message.payload, message.received_ns, detail)

    def _record(
        self, reason: str, topic: str, payload: bytes, received_ns: int, detail: str
    ) -> None:
        self.metrics.rejected.labels(reason).inc()
        head = payload[: self._head_bytes].decode("utf-8", "replace")
        with self._lock:
            self._rejections.append(RecentRejection(received_ns, topic[:200], reason, detail, head))


def seed_qc(
    qc: QualityControl,
    history: ReadingStore | None,
    clock: Clock,
    hours: float = 6.0,
    memory: QcMemory | None = None,
) -> None:
    """QC's memory of each device's recent values, from its file on local disk and then from
    the store: after a restart the first readings are judged as the previous process would have
    (a spike is still a spike), even when the store is away."""
    if memory is not None:
        memory.load()
    if history is None:
        return
    since = clock.now_ns() - int(hours * 3600 * NS_PER_S)
    seeded = 0
    try:
        for kind in READING_KINDS:
            primary = measurement_for(kind).primary
            if primary is None:
                continue
            for device, series in history.recent(kind, since, [primary]).items():
                points = [
                    (ts, float(v))
                    for ts, v in zip(series.ts_ns, series.values[primary], strict=True)
                    if isinstance(v, float | int) and not isinstance(v, bool)
                ]
                qc.seed(kind.value, device, points)
                seeded += 1
    except RetryableError as exc:
        log.warning("QC history not read from the store, it is away: %s", exc)
        return
    log.info("QC history of %d devices loaded from the store", seeded)


def seed_conflicts(conflicts: Conflicts, history: ReadingStore) -> None:
    """Each device's newest stored reading: after a restart, a reading no newer than it is
    checked against the store before it is written (ingest/conflicts.py)."""
    try:
        for kind in READING_KINDS:
            conflicts.seed(history.latest(kind).values())
    except RetryableError as exc:
        log.warning("conflicts memory not seeded, the store is away: %s", exc)
