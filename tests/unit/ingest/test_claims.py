"""The members' shared claims (ingest/claims.py): two connections to one file, as two members."""

from __future__ import annotations

from pathlib import Path

from saltwatch.core.schema import FieldValue
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.claims import KEEP_S, SharedClaims
from saltwatch.ingest.conflicts import shared_digest

S = 10**9
NOW = 1_795_000_000 * S


def at(ts_s: int, value: float, device: str = "d") -> Reading:
    return Reading(TopicKind.SALINITY, device, ts_s * S, {"salinity_ppt": value})


class Newest:
    """A store that only knows each device's newest reading (what ``begin_fleet`` asks)."""

    def __init__(self, *readings: Reading) -> None:
        self.readings = readings

    def latest(self, kind: TopicKind, devices: object = None) -> dict[str, Reading]:
        return {r.device: r for r in self.readings if r.kind is kind}


def pair(path: Path, history: object = None) -> tuple[SharedClaims, SharedClaims]:
    """Two members' connections, after the supervisor began the fleet (no store: one floor)."""
    first = SharedClaims(path, lambda: NOW)
    first.begin_fleet(history, 300)  # type: ignore[arg-type]
    return first, SharedClaims(path, lambda: NOW)


def test_the_first_value_of_a_time_wins_across_members(tmp_path: Path) -> None:
    a, b = pair(tmp_path / "claims.db")
    t = NOW // S + 600  # above the floor: the claims decide alone
    accepted, refused, unverified = a.decide([at(t, 1.0)])
    assert accepted == [at(t, 1.0)] and refused == [] and unverified == []
    accepted, refused, _ = b.decide([at(t, 9.0), at(t, 1.0), at(t + 1, 2.0)])
    assert refused == [at(t, 9.0)]
    assert accepted == [at(t, 1.0), at(t + 1, 2.0)]  # a copy of the claimed value goes on


def test_in_one_batch_the_first_of_two_values_wins(tmp_path: Path) -> None:
    a, _ = pair(tmp_path / "claims.db")
    t = NOW // S + 600
    accepted, refused, _ = a.decide([at(t, 4.0), at(t, 40.0)])
    assert accepted == [at(t, 4.0)] and refused == [at(t, 40.0)]


def test_below_the_floor_the_store_is_asked_too(tmp_path: Path) -> None:
    a, b = pair(tmp_path / "claims.db")
    below = NOW // S  # stored before the fleet started, perhaps
    accepted, _, unverified = a.decide([at(below, 1.0)])
    assert unverified == accepted == [at(below, 1.0)]
    # the store held another value at ``below``: that value is the claim from now on
    a.settle(at(below, 1.0), {"salinity_ppt": 3.0})
    accepted, refused, _ = b.decide([at(below, 1.0), at(below, 3.0)])
    assert refused == [at(below, 1.0)] and accepted == [at(below, 3.0)]


def test_without_the_store_one_floor_covers_every_device(tmp_path: Path) -> None:
    a, _ = pair(tmp_path / "claims.db")
    assert a.floors() == (NOW + 300 * S, {})


def test_with_the_store_each_device_has_its_newest_stored_time_as_floor(tmp_path: Path) -> None:
    """A new device's readings are decided by the claims alone (no store lookups: the race's
    readings were all looked up for the first minutes after a start); a known device's older
    times are looked up."""
    newest = NOW // S - 600
    a, _ = pair(tmp_path / "claims.db", Newest(at(newest, 1.0, "known")))
    assert a.floors() == (0, {("salinity", "known"): newest * S})
    _, _, unverified = a.decide([at(newest - 60, 1.0, "known"), at(newest + 60, 1.0, "known")])
    assert unverified == [at(newest - 60, 1.0, "known")]
    _, _, unverified = a.decide([at(newest - 60, 1.0, "new")])
    assert unverified == []


def test_claims_let_go_raise_their_devices_floor(tmp_path: Path) -> None:
    """A backlog two years old is decided by the claims alone (the race's readings are from
    2024); once its claims are let go, its times are asked of the store again."""
    clock = [NOW]
    a = SharedClaims(tmp_path / "claims.db", lambda: clock[0])
    a.begin_fleet(Newest(), 300)  # type: ignore[arg-type]
    old = NOW // S - 2 * 365 * 86_400
    _, _, unverified = a.decide([at(old, 1.0), at(old + 60, 1.0)])
    assert unverified == []
    clock[0] = NOW + (KEEP_S + 1) * S
    a.prune()
    assert a.floors() == (0, {("salinity", "d"): (old + 60) * S})
    _, refused, unverified = a.decide([at(old, 2.0), at(old + 120, 1.0)])
    assert refused == [] and unverified == [at(old, 2.0)]


def test_every_process_computes_the_same_digest(tmp_path: Path) -> None:
    """Claims compared Python's hash of the values, which is salted per process: a member
    refused every copy another member had claimed (the race's second drain stored nothing)."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    fields: dict[str, FieldValue] = {
        "salinity_ppt": 1.25, "temp_c": 29.0, "fault": "E2", "running": True, "seq": 4,
    }  # fmt: skip
    code = f"from saltwatch.ingest.conflicts import shared_digest; print(shared_digest({fields!r}))"
    seen = {
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True,
            env={"PYTHONHASHSEED": str(seed), "PATH": "/usr/bin:/bin"},
        ).stdout.strip()
        for seed in (1, 2, 3)
    }  # fmt: skip
    assert len(seen) == 1
    same: dict[str, FieldValue] = {
        "temp_c": 29.0,
        "salinity_ppt": 1.25,
        "running": True,
        "fault": "E2",
        "seq": 9,
    }
    assert shared_digest(same) == shared_digest(fields)
    assert shared_digest({**fields, "temp_c": 30.0}) != shared_digest(fields)
