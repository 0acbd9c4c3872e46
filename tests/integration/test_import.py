"""Importing files (docs/sources.md) into real stores: the Mekong River Commission's export and a
logger's two-column file, mapped as the docs say; twice adds nothing; a conflict is reported and
never overwrites; an interrupted import resumes; a dry run writes nothing; Excel too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from harness.documented import documented_sources
from saltwatch.core.clock import FakeClock
from saltwatch.core.qc import QcConfig, QualityControl
from saltwatch.core.registry import load_registry
from saltwatch.core.sources import SourceSettings
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.ingest import importer as importer_module
from saltwatch.ingest.importer import Importer

NOW_NS = 1_735_689_600 * 10**9  # 2025-01-01T00:00Z
REGISTRY = load_registry(None)
MRC_HEADER = "Country Code,Station Code,Parameter,Label,Timestamp (UTC+07:00),Value,Unit,Quality"
MRC = documented_sources()["mrc"]
LOGGER = documented_sources()["logger-vam-kenh"]


def importer(source: SourceSettings, store: ReadingStore, tmp_path: Path) -> Importer:
    return Importer(
        source,
        REGISTRY,
        store,
        QualityControl(QcConfig()),
        FakeClock(NOW_NS),
        tmp_path / "cur",
        max_future_s=300.0,
    )


def logger_file(path: Path, rows: int, start_hour: int = 0) -> Path:
    lines = ["datetime,value"]
    for i in range(rows):
        minutes = start_hour * 60 + 15 * i
        day, rest = divmod(minutes, 1440)
        lines.append(
            f"2024-03-{1 + day:02d} {rest // 60:02d}:{rest % 60:02d},{0.5 + (i % 40) / 10}"
        )
    path.write_text("\n".join(lines) + "\n")
    return path


def stored(store: ReadingStore, device: str = "vam-kenh") -> dict[int, float]:
    rows = store.query(TopicKind.SALINITY, device, 0, NOW_NS, 100_000)
    return {r.ts_ns: float(r.fields["salinity_ppt"]) for r in rows}


def test_an_mrc_export_imports_at_local_time_with_its_unit(
    store: ReadingStore, tmp_path: Path
) -> None:
    path = tmp_path / "Conductivity.Water Quality@VN_019805_[My Tho].csv"
    path.write_text(
        f"{MRC_HEADER}\n"
        "VN,019805,Conductivity,Conductivity.Water Quality,2024-03-01T07:00Z,55.3,mS/m,\n"
        "VN,019805,Conductivity,Conductivity.Water Quality,2024-03-02T07:00Z,61.0,mS/m,\n"
        "VN,019805,pH,pH.Water Quality,2024-03-02T07:00Z,7.1,-,\n"
        "VN,019999,Conductivity,Conductivity.Water Quality,2024-03-02T07:00Z,12.0,mS/m,\n",
        encoding="utf-8-sig",
    )
    report = importer(MRC, store, tmp_path).run(path)
    assert (report.rows, report.stored) == (4, 2)
    assert report.refused == {"unmapped": 1, "unknown_device": 1}
    rows = store.query(TopicKind.SALINITY, "lac-hong", 0, NOW_NS)
    assert [r.ts_ns for r in rows] == [1_709_251_200 * 10**9, 1_709_337_600 * 10**9]
    assert rows[0].fields["ec25_us_cm"] == pytest.approx(553.0)
    assert rows[0].fields["source"] == "mrc"


def test_a_file_imported_twice_is_stored_once(store: ReadingStore, tmp_path: Path) -> None:
    path = logger_file(tmp_path / "logger.csv", 500)
    first = importer(LOGGER, store, tmp_path).run(path)
    assert (first.stored, first.already, first.conflicts) == (500, 0, 0)
    before = stored(store)
    second = importer(LOGGER, store, tmp_path).run(path)
    assert (second.stored, second.already, second.conflicts) == (0, 500, 0)
    assert stored(store) == before and len(before) == 500
    assert store.count(TopicKind.SALINITY, device="vam-kenh") == 500


def test_another_value_for_a_stored_time_is_a_conflict_and_the_first_stays(
    store: ReadingStore, tmp_path: Path
) -> None:
    importer(LOGGER, store, tmp_path).run(logger_file(tmp_path / "a.csv", 20))
    before = stored(store)
    changed = tmp_path / "b.csv"
    text = (tmp_path / "a.csv").read_text().replace("2024-03-01 00:30,0.7", "2024-03-01 00:30,9.9")
    text += "2024-03-02 00:00,1.0\n2024-03-02 00:00,2.0\n"  # the same time twice, other values
    changed.write_text(text)
    report = importer(LOGGER, store, tmp_path).run(changed)
    assert (report.stored, report.already, report.conflicts) == (1, 19, 2)
    assert {row for row, reason, _ in report.examples if reason == "conflict"} == {3, 22}
    after = stored(store)
    assert {k: v for k, v in after.items() if k in before} == before  # 0.7 kept, not 9.9
    assert len(after) == 21


class _FirstWriteAfterTheNextLookup:
    """A real store whose first chunk write ends only after the next chunk was looked up (the
    order a slow store gives at random)."""

    def __init__(self, store: ReadingStore) -> None:
        self._store = store
        self._lookups = 0
        self._changed = threading.Condition()
        self.overlapped = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def values_at(self, *args: Any) -> Any:
        found = self._store.values_at(*args)
        with self._changed:
            self._lookups += 1
            self._changed.notify_all()
        return found

    def write_columns(self, batches: Any) -> None:
        with self._changed:
            if not self.overlapped:
                self.overlapped = self._changed.wait_for(lambda: self._lookups >= 2, timeout=10)
        self._store.write_columns(batches)


def test_a_time_repeated_in_a_later_chunk_is_judged_against_the_first_while_it_is_written(
    store: ReadingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chunk is looked up while the chunk before it may still be being written: a time that
    chunk holds is an earlier record's, a repeat or a conflict, never written over."""
    monkeypatch.setattr(importer_module, "CHUNK_ROWS", 50)
    slow = _FirstWriteAfterTheNextLookup(store)
    path = logger_file(tmp_path / "a.csv", 120)
    lines = path.read_text().splitlines()
    first, second = lines[10], lines[20]  # rows 10 and 20, both in the first chunk
    when = second.split(",")[0]
    lines.insert(60, first)  # the same value again, in the second chunk
    lines.insert(61, f"{when},9.9")  # another value for a time of the first chunk
    path.write_text("\n".join(lines) + "\n")
    report = importer(LOGGER, slow, tmp_path).run(path)
    assert slow.overlapped
    assert (report.rows, report.stored, report.already, report.conflicts) == (122, 120, 1, 1)
    assert [row for row, reason, _ in report.examples if reason == "conflict"] == [61]
    kept = stored(store)
    assert len(kept) == 120 and 9.9 not in kept.values()


def test_a_dry_run_reports_and_writes_nothing(store: ReadingStore, tmp_path: Path) -> None:
    path = logger_file(tmp_path / "logger.csv", 100)
    report = importer(LOGGER, store, tmp_path).run(path, dry_run=True)
    assert (report.rows, report.stored, report.dry_run) == (100, 100, True)
    assert stored(store) == {}


def test_an_interrupted_import_resumes_after_its_last_durable_chunk(
    store: ReadingStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(importer_module, "CHUNK_ROWS", 100)
    path = logger_file(tmp_path / "logger.csv", 450)

    def stop_after_two_chunks(done: int, total: int, rows: int) -> None:
        if rows >= 200:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        importer(LOGGER, store, tmp_path).run(path, progress=stop_after_two_chunks)
    assert len(stored(store)) == 200
    report = importer(LOGGER, store, tmp_path).run(path)
    assert (report.resumed_from, report.stored, report.already) == (200, 250, 0)
    assert len(stored(store)) == 450
    assert not list((tmp_path / "cur").glob("*.json"))  # finished: the cursor is gone


def test_an_excel_workbook_imports_like_a_csv(store: ReadingStore, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Trạm: Vàm Kênh"])  # a title line above the header
    sheet.append(["datetime", "value"])
    sheet.append(["2024-03-01 07:00", 1.5])
    sheet.append(["2024-03-01 08:00", "2.5"])
    path = tmp_path / "so-lieu.xlsx"
    book.save(path)
    source = LOGGER.model_copy(update={"skip_lines": 1})
    report = importer(source, store, tmp_path).run(path)
    assert (report.rows, report.stored) == (2, 2)
    assert sorted(stored(store).values()) == [1.5, 2.5]


def report_of(line: str) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def test_the_command_imports_with_a_mapping_from_the_settings(tmp_path: Path) -> None:
    config = tmp_path / "saltwatch.toml"
    config.write_text(
        f'[store]\nurl = "sqlite:///{tmp_path}/readings.db"\n'
        f'[state]\npath = "{tmp_path}/state.db"\n'
        '[[sources]]\nname = "logger"\nkind = "file"\ndevice = { fixed = "vam-kenh" }\n'
        'time = { field = "datetime", zone = "+07:00" }\n'
        'values = [{ field = "value", to = "salinity_ppt", unit = "g/L" }]\n'
    )
    path = logger_file(tmp_path / "logger.csv", 50)
    command = [sys.executable, "-m", "saltwatch", "import", str(path), "--source", "logger"]
    command += ["--config", str(config), "--json"]
    env = {**os.environ, "PYTHONUTF8": "1"}
    dry = subprocess.run(
        [*command, "--dry-run"], capture_output=True, text=True, env=env, check=True
    )
    assert report_of(dry.stdout)["stored"] == 50
    first = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert report_of(first.stdout)["stored"] == 50
    again = subprocess.run(command, capture_output=True, text=True, env=env, check=True)
    assert (report_of(again.stdout)["stored"], report_of(again.stdout)["already_stored"]) == (0, 50)
    assert "100%" in again.stderr  # progress, one line per tenth when not on a terminal
    wrong = subprocess.run(
        [*command[:6], "nope", *command[7:]], capture_output=True, text=True, env=env, check=False
    )
    assert wrong.returncode == 2 and "no source 'nope'" in " ".join(wrong.stderr.split())
