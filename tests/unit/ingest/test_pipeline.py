"""The pipeline with a fake store and acker: acknowledgement only after durable write."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import orjson
import pytest

from harness.services import wait_until
from saltwatch.core.clock import FakeClock
from saltwatch.core.errors import BadInputError, RetryableError
from saltwatch.core.qc import QcConfig, QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import ValidationConfig
from saltwatch.ingest.intake import Inbound
from saltwatch.ingest.pipeline import Pipeline, PipelineConfig
from saltwatch.ingest.spool import Spool

NOW = 1_710_226_800 * 10**9


class FakeStore:
    def __init__(self) -> None:
        self.written: list[Reading] = []
        self.down = False
        self.refuse = False
        self.gate = threading.Event()
        self.gate.set()
        self.calls = 0

    def write(self, readings: Sequence[Reading]) -> None:
        self.calls += 1
        self.gate.wait(10)
        if self.down:
            raise RetryableError("down")
        if self.refuse:
            raise BadInputError("partial write: field type conflict")
        self.written.extend(readings)


class FakeAcker:
    def __init__(self) -> None:
        self.acked: list[int] = []
        self.lock = threading.Lock()

    def ack_many(self, acks: list[tuple[int, int, int]]) -> None:
        with self.lock:
            self.acked.extend(mid for mid, _, _ in acks)


REGISTRY = Registry.from_dict(
    {
        "zone": [{"id": "z", "name": "Z", "kind": "province"}],
        "device": [
            {"id": "s1", "kind": "salinity", "name": "S", "zone": "z", "profile": "river"},
            {"id": "w1", "kind": "well", "name": "W", "zone": "z"},
        ],
    }
)


def msg(mid: int, payload: object, topic: str = "saltwatch/salinity/s1") -> Inbound:
    raw = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    return Inbound(topic, raw, NOW, mid, 1, 0)


def good(mid: int, minute: int | None = None) -> Inbound:
    minute = mid if minute is None else minute
    return msg(mid, {"ts": NOW / 1e9 - 3600 + minute * 60, "salinity_ppt": 1.0 + minute * 0.01})


Parts = tuple[Pipeline, FakeStore, FakeAcker, Spool]


@pytest.fixture
def parts(tmp_path: Path) -> Iterator[Parts]:
    store, acker = FakeStore(), FakeAcker()
    spool = Spool(tmp_path / "spool", 10 * 1024 * 1024)
    pipeline = Pipeline(
        store,
        REGISTRY,
        ValidationConfig(),
        QualityControl(QcConfig()),
        spool,
        acker,
        FakeClock(NOW),
        PipelineConfig(batch_size=10, batch_interval_s=0.05),
    )
    pipeline.start()
    yield pipeline, store, acker, spool
    store.gate.set()
    pipeline.stop(5)


def test_nothing_is_acknowledged_before_the_store_has_it(parts: Parts) -> None:
    pipeline, store, acker, _ = parts
    store.gate.clear()
    for mid in range(1, 6):
        pipeline.submit(good(mid))
    wait_until(lambda: store.calls == 1, 5, "the write to start")
    assert acker.acked == []
    assert pipeline.unacked == 5
    store.gate.set()
    wait_until(lambda: sorted(acker.acked) == [1, 2, 3, 4, 5], 5, "acks after the write")
    assert len(store.written) == 5
    assert pipeline.unacked == 0


def test_invalid_messages_are_acknowledged_and_recorded(parts: Parts) -> None:
    pipeline, store, acker, _ = parts
    pipeline.submit(msg(1, b"{not json"))
    pipeline.submit(msg(2, {"salinity_ppt": 1.0}, topic="saltwatch/salinity/ghost"))
    pipeline.submit(msg(3, b"online", topic="saltwatch/status/s1"))
    wait_until(lambda: sorted(acker.acked) == [1, 2, 3], 5, "acks")
    assert store.written == []
    assert [r.reason for r in pipeline.recent_rejections()] == ["unknown_device", "not_json"]
    (state,) = [d for d in pipeline.tracker.snapshot() if d.device == "s1"]
    assert state.online is True


def test_a_retained_offline_status_does_not_outrank_readings(parts: Parts) -> None:
    """After a restart the broker hands over the last retained status; "offline" said before
    the device came back must not mark it offline now (its time is unknown: 0)."""
    pipeline, _, acker, _ = parts
    retained = Inbound("saltwatch/status/s1", b"offline", NOW, 7, 1, 0, retained=True)
    pipeline.submit(retained)
    pipeline.submit(msg(8, b"offline", topic="saltwatch/status/s1"))  # a live one counts now
    wait_until(lambda: sorted(acker.acked) == [7, 8], 5, "acks")
    (state,) = [d for d in pipeline.tracker.snapshot() if d.device == "s1"]
    assert state.online is False and state.status_at_ns == NOW
    pipeline.submit(Inbound("saltwatch/status/s1", b"offline", NOW + 5, 9, 1, 0, retained=True))
    wait_until(lambda: 9 in acker.acked, 5, "ack")
    (state,) = [d for d in pipeline.tracker.snapshot() if d.device == "s1"]
    assert state.status_at_ns == 0  # any reading of the device is newer than that


def test_store_outage_spools_acknowledges_and_drains_later(parts: Parts) -> None:
    pipeline, store, acker, spool = parts
    store.down = True
    for mid in range(1, 21):
        pipeline.submit(good(mid))
    wait_until(lambda: len(acker.acked) == 20, 5, "acks while the store is down")
    assert store.written == [] and spool.depth >= 1
    assert not pipeline.store_up
    store.down = False
    wait_until(lambda: spool.depth == 0, 20, "the spool to drain")
    assert sorted(r.ts_ns for r in store.written) == sorted({r.ts_ns for r in store.written})
    assert len(store.written) == 20


def five_submitted(store: FakeStore, acker: FakeAcker, spool: Spool) -> Pipeline:
    """A started pipeline (batches of 5) that was handed five good messages."""
    pipeline = Pipeline(
        store,
        REGISTRY,
        ValidationConfig(),
        QualityControl(QcConfig()),
        spool,
        acker,
        FakeClock(NOW),
        PipelineConfig(batch_size=5, batch_interval_s=0.05),
    )
    pipeline.start()
    for mid in range(1, 6):
        pipeline.submit(good(mid))
    return pipeline


def test_full_spool_holds_acknowledgements(tmp_path: Path) -> None:
    store, acker = FakeStore(), FakeAcker()
    store.down = True
    spool = Spool(tmp_path / "spool", 1024 * 1024)
    spool.max_bytes = 10  # nothing fits
    pipeline = five_submitted(store, acker, spool)
    wait_until(lambda: store.calls >= 2, 10, "retries of the store")
    assert acker.acked == []
    store.down = False
    wait_until(lambda: len(acker.acked) == 5, 15, "acks once the store answers")
    pipeline.stop(5)
    assert len(store.written) == 5


def test_a_full_spool_disk_pushes_back_instead_of_stopping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store down and no space left where the spool writes: nothing is acknowledged, the
    pipeline does not fail (the process, its API and alerts go on), no half-written file stays;
    once there is space again the batch is spooled and acknowledged."""
    import errno  # noqa: PLC0415

    store, acker = FakeStore(), FakeAcker()
    store.down = True
    spool = Spool(tmp_path / "spool", 10**7)
    real_fsync = os.fsync

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)  # what a full disk says when the spool syncs
    pipeline = five_submitted(store, acker, spool)
    wait_until(lambda: store.calls >= 2 and spool.disk_full, 10, "retries on a full disk")
    assert acker.acked == [] and pipeline.failure is None
    # nothing half-written stays (a retry under way may hold its file for an instant)
    wait_until(lambda: not list((tmp_path / "spool").glob("*.tmp")), 10, "no file half-written")
    monkeypatch.setattr(os, "fsync", real_fsync)  # space again
    wait_until(lambda: len(acker.acked) == 5, 15, "acks once the spool can write")
    assert spool.depth == 1 and not spool.disk_full
    pipeline.stop(5)


def test_stop_flushes_the_open_batch(tmp_path: Path) -> None:
    store, acker = FakeStore(), FakeAcker()
    pipeline = Pipeline(
        store,
        REGISTRY,
        ValidationConfig(),
        QualityControl(QcConfig()),
        Spool(tmp_path / "s", 10**7),
        acker,
        FakeClock(NOW),
        PipelineConfig(batch_size=1000, batch_interval_s=60),
    )
    pipeline.start()
    for mid in range(1, 4):
        pipeline.submit(good(mid))
    pipeline.stop(5)
    assert sorted(acker.acked) == [1, 2, 3]
    assert len(store.written) == 3


def test_listeners_get_durable_readings_with_qc(parts: Parts) -> None:
    pipeline, _, _, _ = parts
    seen: list[Reading] = []
    pipeline.add_listener(seen.extend)
    pipeline.submit(msg(1, [{"ts": NOW / 1e9 - 60, "salinity_ppt": 0.4, "battery_v": 3.0}]))
    wait_until(lambda: len(seen) == 1, 5, "the listener")
    assert seen[0].kind is TopicKind.SALINITY and seen[0].zone == "z"
    assert seen[0].qc == 16  # LOW_BATTERY


def test_seq_gaps_are_counted(parts: Parts) -> None:
    pipeline, store, _, _ = parts
    for mid, seq in enumerate([1, 2, 5, 6], start=1):
        pipeline.submit(msg(mid, {"ts": NOW / 1e9 - 600 + seq, "salinity_ppt": 1.0, "seq": seq}))
    wait_until(lambda: len(store.written) == 4, 5, "writes")
    assert pipeline.tracker.lost_total() == 2


def test_a_refused_batch_is_kept_on_disk_and_acknowledged(parts: Parts) -> None:
    pipeline, store, acker, spool = parts
    store.refuse = True
    pipeline.submit(good(1))
    wait_until(lambda: acker.acked == [1], 5, "the ack")
    refused = Spool(spool.folder / "refused", 10**6).oldest()
    assert refused is not None and len(refused[1]) == 1
    store.refuse = False
    pipeline.submit(good(2))
    wait_until(lambda: len(store.written) == 1, 5, "the pipeline to go on")
