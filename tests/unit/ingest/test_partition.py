"""Which member handles which device (ingest/partition.py), the fleet's size kept in the claims
file, the orphaned spools moved, and the consumer passing on the messages of other members."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Any

from saltwatch.core.clock import FakeClock
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.claims import SharedClaims
from saltwatch.ingest.mqtt import MqttConsumer
from saltwatch.ingest.partition import RESIZE_GRACE_S, Partition, member_client_id, owner
from saltwatch.ingest.spool import Spool, adopt

S = 10**9
DEVICES = [f"station-{i:03d}".encode() for i in range(300)]


def test_each_device_has_exactly_one_member_and_the_load_is_spread() -> None:
    fleet = [Partition(i, 3) for i in range(3)]
    for device in DEVICES:
        assert sum(p.owns(device) for p in fleet) == 1
    load = Counter(owner(d, 3) for d in DEVICES)
    assert min(load.values()) >= 80  # 100 each when even


def test_after_a_resize_a_member_also_reads_what_it_held_before() -> None:
    soon = time.monotonic() + 60
    grown = [Partition(i, 3, before=2, before_until=soon) for i in range(3)]
    for device in DEVICES:
        assert grown[owner(device, 2)].owns(device)  # whose session holds its backlog
        assert grown[owner(device, 3)].owns(device)
    past = Partition(0, 3, before=2, before_until=time.monotonic() - 1)
    moved = [d for d in DEVICES if owner(d, 2) == 0 and owner(d, 3) != 0]
    assert moved and not any(past.owns(d) for d in moved)


def test_member_0_keeps_the_single_process_client_id() -> None:
    assert member_client_id("saltwatch-ingest", 0) == "saltwatch-ingest"
    assert member_client_id("saltwatch-ingest", 2) == "saltwatch-ingest-2"


def test_the_claims_file_keeps_the_fleet_size_and_a_grace_after_a_change(tmp_path: Path) -> None:
    now = [1_795_000_000 * S]
    claims = SharedClaims(tmp_path / "claims.db", lambda: now[0])
    assert claims.resize(2) == 1  # never sized: one process ran before
    part = claims.partition(1)
    assert (part.members, part.before) == (2, 1)
    assert part.before_until - time.monotonic() > RESIZE_GRACE_S - 5
    assert claims.resize(2) == 2  # a restart at the same size keeps the grace running
    assert claims.partition(1).before == 1
    now[0] += int(RESIZE_GRACE_S * S) + 1
    assert claims.partition(1) == Partition(1, 2)  # the grace is over
    try:
        claims.partition(2)
    except ValueError as exc:
        assert "member 2 of a fleet of 2" in str(exc)
    else:
        raise AssertionError("a member outside the fleet")
    claims.close()


def reading(ts: int) -> Reading:
    return Reading(TopicKind.SALINITY, "d", ts * S, {"salinity_ppt": 0.5})


def test_spooled_batches_nobody_drains_move_behind_the_adopters_own(tmp_path: Path) -> None:
    root = tmp_path / "spool"
    mine, orphan = Spool(root / "member-0", 10**6), Spool(root / "member-2", 10**6)
    assert mine.put([reading(1)]) and orphan.put([reading(2)]) and orphan.put([reading(3)])
    left = Spool(root, 10**6)  # a single process's batch, before the fleet
    assert left.put([reading(4)])
    assert adopt(root / "member-0", [root, root / "member-2"]) == 3
    again = Spool(root / "member-0", 10**6)
    drained = []
    while (batch := again.oldest()) is not None:
        drained.append(batch[1][0].ts_ns // S)
        again.remove(batch[0])
    assert drained == [1, 4, 2, 3]
    assert Spool(root / "member-2", 10**6).depth == 0 and Spool(root, 10**6).depth == 0


class Acks:
    """Stands in for paho's client: records what the consumer acknowledges."""

    def __init__(self) -> None:
        self.acked: list[int] = []

    def ack(self, mid: int, qos: int) -> None:
        self.acked.append(mid)


def test_the_consumer_passes_on_the_messages_of_other_members_acknowledged() -> None:
    mine = next(d for d in DEVICES if owner(d, 2) == 1)
    theirs = next(d for d in DEVICES if owner(d, 2) == 0)
    got: list[Any] = []
    consumer = MqttConsumer(
        "mqtt://127.0.0.1:1", "m1", "p", got.extend, FakeClock(0), fast_path=False,
        owns=Partition(1, 2).owns,
    )  # fmt: skip
    fake = Acks()
    consumer._client = fake  # type: ignore[assignment]
    consumer._epoch = 1
    for mid, device in enumerate([mine, theirs, theirs, mine], start=1):
        message = type("M", (), {"topic": f"p/salinity/{device.decode()}", "payload": b"{}",
                                 "mid": mid, "qos": 1, "retain": False})()  # fmt: skip
        consumer._handle_message(fake, None, message)  # type: ignore[arg-type]
    assert [m.mid for m in got] == [1, 4]  # handed to the pipeline, acknowledged later by it
    assert fake.acked == [2, 3] and consumer.passed_on == 2
