"""One value per device and time (ingest/conflicts.py)."""

from __future__ import annotations

from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.conflicts import Conflicts, differs

S = 10**9


def at(ts: int, value: float, **more: float) -> Reading:
    return Reading(TopicKind.SALINITY, "d", ts * S, {"salinity_ppt": value, **more})


def test_new_copies_and_conflicts() -> None:
    seen = Conflicts(keep=4)
    assert seen.check(at(100, 1.0, temp_c=29.0)) is True
    assert seen.check(at(100, 1.0, temp_c=29.0)) is True  # a redelivery: the same values
    assert (
        seen.check(
            Reading(
                TopicKind.SALINITY, "d", 100 * S, {"temp_c": 29.0, "salinity_ppt": 1.0, "seq": 7}
            )
        )
        is True
    )
    assert seen.check(at(100, 12.0, temp_c=29.0)) is False
    assert seen.check(at(100, 1.0, temp_c=30.0)) is False  # any field, not just salinity
    assert seen.check(at(90, 5.0)) is None  # older than anything remembered: the store decides
    for ts in range(101, 120):
        assert seen.check(at(ts, 1.0)) is True
    assert seen.check(at(102, 9.0)) is None  # forgotten by now (keep=4): the store decides
    assert seen.check(at(118, 9.0)) is False


def test_seeded_with_the_newest_stored_reading() -> None:
    seen = Conflicts()
    seen.seed([at(500, 1.0)])
    assert seen.check(at(500, 2.0)) is False
    assert seen.check(at(499, 2.0)) is None
    assert seen.check(at(501, 2.0)) is True


def test_differs_names_the_field() -> None:
    assert differs({"salinity_ppt": 1.0, "seq": 1}, {"salinity_ppt": 1.0, "seq": 2}) is None
    assert differs({"salinity_ppt": 1.0}, {"salinity_ppt": 1.0, "temp_c": 29.0}) == "temp_c"


def test_an_old_time_is_claimed_by_its_first_value() -> None:
    """Two values for one old, not yet stored time (in one batch or two): the second was stored
    over the first; now the first claims the time and the second is a conflict at once."""
    seen = Conflicts()
    seen.seed([at(500, 1.0)])
    assert seen.check(at(100, 3.0)) is None  # unverified: the store is asked before writing
    assert seen.check(at(100, 3.0)) is True  # the same value again: a copy
    assert seen.check(at(100, 4.0)) is False
    seen.settle(at(100, 3.0), {"salinity_ppt": 2.5})  # the store held another value all along
    assert seen.check(at(100, 3.0)) is False
    assert seen.check(at(100, 2.5)) is True


def test_claims_are_bounded() -> None:
    seen = Conflicts(claims=3)
    seen.seed([at(500, 1.0)])
    for ts in (1, 2, 3, 4):
        assert seen.check(at(ts, 1.0)) is None
    assert seen.check(at(1, 9.0)) is None  # the oldest claim was let go: the store decides
    assert seen.check(at(4, 9.0)) is False
