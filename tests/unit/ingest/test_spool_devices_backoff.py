"""Spool files, device liveness and seq accounting, backoff bounds."""

from __future__ import annotations

import random
from pathlib import Path

from saltwatch.core.backoff import Backoff
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.devices import DeviceTracker
from saltwatch.ingest.spool import Spool


def batch(n: int, start: int = 0) -> list[Reading]:
    return [
        Reading(TopicKind.WELL, "w", start + i, {"running": True, "fault": 'x"y'}, qc=1, zone="z")
        for i in range(n)
    ]


def test_spool_is_fifo_and_survives_reopening(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 10**6)
    assert spool.put(batch(2)) and spool.put(batch(3, 100))
    (tmp_path / "junk.batch.tmp").write_bytes(b"half written")
    again = Spool(tmp_path, 10**6)
    assert again.depth == 2 and not list(tmp_path.glob("*.tmp"))
    oldest = again.oldest()
    assert oldest is not None and oldest[1] == batch(2)
    again.remove(oldest[0])
    oldest = again.oldest()
    assert oldest is not None and oldest[1] == batch(3, 100)
    again.remove(oldest[0])
    assert again.oldest() is None and again.size_bytes == 0
    assert again.put(batch(1))  # numbering goes on after reopening
    assert again.depth == 1


def test_spool_refuses_past_its_size(tmp_path: Path) -> None:
    spool = Spool(tmp_path, 300)
    assert spool.put(batch(1))
    assert not spool.put(batch(5))
    assert spool.depth == 1


def test_seq_gaps_fills_duplicates_and_restarts() -> None:
    tracker = DeviceTracker()
    for seq in [10, 11, 14, 15]:
        tracker.seen("a", 0, seq, seq)
    assert tracker.lost_total() == 2
    tracker.seen("a", 0, 12, 12)  # a late upload fills part of the gap
    tracker.seen("a", 0, 12, 12)  # and a duplicate changes nothing
    assert tracker.lost_total() == 1
    tracker.seen("a", 0, 100, 0)  # counting starts again: a restart, no loss
    tracker.seen("a", 0, 101, 1)
    (state,) = tracker.snapshot()
    assert (state.seq_lost, state.restarts) == (1, 1)
    tracker.status("a", False, 5)
    assert tracker.snapshot()[0].online is False


def test_backoff_grows_jittered_to_its_cap() -> None:
    backoff = Backoff(1.0, 8.0, random.Random(1))
    delays = [backoff.next() for _ in range(10)]
    assert all(0.5 <= d <= 8.0 for d in delays)
    assert max(delays[:2]) <= 2.0 and max(delays[5:]) > 2.0
    assert len(set(delays)) == len(delays)  # jittered
    backoff.reset()
    assert backoff.next() <= 1.0
