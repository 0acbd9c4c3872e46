"""A spool batch that cannot be read back is moved aside, named, and the rest drains."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.spool import Spool


def batch(i: int) -> list[Reading]:
    return [Reading(TopicKind.SALINITY, "vam-kenh", i, {"salinity_ppt": float(i)}, zone="z")]


def test_a_corrupt_batch_is_quarantined_and_the_rest_drains(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spool = Spool(tmp_path / "spool", 10**6)
    for i in range(3):
        assert spool.put(batch(i))
    first, second, third = sorted((tmp_path / "spool").glob("*.batch"))
    second.write_bytes(b'[["salinity", "vam-kenh", 1, {"salinity_p')  # torn by a failing disk
    found = spool.oldest()
    assert found is not None and found[0] == first
    spool.remove(first)
    with caplog.at_level(logging.ERROR, "saltwatch.ingest"):
        found = spool.oldest()
    assert found is not None and found[0] == third and found[1] == batch(2)
    moved = tmp_path / "spool" / "quarantine" / second.name
    assert moved.exists() and spool.quarantined == [str(moved)]
    assert second.name in caplog.text and "quarantine" in caplog.text
    assert spool.depth == 1
    assert Spool(tmp_path / "spool", 10**6).quarantined == [
        str(moved)
    ]  # still said after a restart
