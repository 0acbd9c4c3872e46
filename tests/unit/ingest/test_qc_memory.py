"""QC's memory on local disk: read back, and never a reason for ingest to stop."""

from __future__ import annotations

from pathlib import Path

from saltwatch.core.qc import QcConfig, QcFlag, QualityControl
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.qc_memory import QcMemory

S = 10**9


def steady(qc: QualityControl) -> None:
    for i in range(12):
        qc.apply(
            Reading(TopicKind.SALINITY, "d", i * 60 * S, {"salinity_ppt": 1.0}), "salinity_ppt"
        )


def test_a_new_qc_judges_as_the_old_one_did(tmp_path: Path) -> None:
    old = QualityControl(QcConfig())
    steady(old)
    QcMemory(old, tmp_path / "qc.json").save()
    new = QualityControl(QcConfig())
    assert QcMemory(new, tmp_path / "qc.json").load() == 1
    spike = Reading(TopicKind.SALINITY, "d", 13 * 60 * S, {"salinity_ppt": 25.0})
    assert new.apply(spike, "salinity_ppt").qc & QcFlag.SPIKE
    fresh = QualityControl(QcConfig())  # what a restart without the memory judged
    assert not fresh.apply(spike, "salinity_ppt").qc & QcFlag.SPIKE


def test_a_damaged_file_or_a_refusing_disk_is_said_not_fatal(tmp_path: Path) -> None:
    (tmp_path / "qc.json").write_bytes(b"{not json")
    qc = QualityControl(QcConfig())
    assert QcMemory(qc, tmp_path / "qc.json").load() == 0
    assert QcMemory(qc, tmp_path / "none.json").load() == 0
    blocked = tmp_path / "file"
    blocked.write_text("")
    memory = QcMemory(qc, blocked / "qc.json")  # a folder that is a file: every write fails
    steady(qc)
    memory.save()
    memory.save()
    assert not (blocked / "qc.json").exists()


def test_saved_when_due_only(tmp_path: Path) -> None:
    now = [0.0]
    memory = QcMemory(QualityControl(QcConfig()), tmp_path / "qc.json", 10.0, lambda: now[0])
    memory.maybe_save()
    assert not (tmp_path / "qc.json").exists()
    now[0] = 10.0
    memory.maybe_save()
    assert (tmp_path / "qc.json").exists()
