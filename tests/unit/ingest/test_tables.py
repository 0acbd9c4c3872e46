"""A plain CSV (no quotes) is cut into rows by splitting its lines, much faster than the CSV
reader: the rows, their numbers and the header must be the reader's own."""

from __future__ import annotations

import csv
import random
from pathlib import Path
from typing import Any

import pytest

from saltwatch.core.batch_mapping import Cells
from saltwatch.core.sources import SourceSettings
from saltwatch.ingest.tables import Table

SOURCE = {
    "name": "archive",
    "kind": "file",
    "device": {"field": "station"},
    "values": [{"field": "v", "to": "salinity_ppt"}],
}


def _text(seed: int, lines: int) -> str:
    """Even seeds: every line with the header's three cells but a few stretches (cut at once);
    odd seeds: blanks, short rows and extra cells everywhere (cut line by line)."""
    rng = random.Random(seed)
    out = ["station,time,v"]
    for k in range(lines):
        roll = rng.random() if seed % 2 or k % 1000 < 5 else 1.0
        if roll < 0.03:
            out.append("")  # a blank line
        elif roll < 0.05:
            out.append("  ")
        elif roll < 0.08:
            out.append("vam-kenh,2024-03-01 07:00")  # short
        else:
            cells = ["vam-kenh", f"2024-03-01 {rng.randrange(24):02d}:00", f"{rng.random():.3f}"]
            out.append(",".join(cells + ([""] * rng.randrange(2) if seed % 2 else [])))
    newline = "\r\n" if seed % 4 == 1 else "\n"
    return newline.join(out) + (newline if seed % 3 else "")


def _reader_rows(path: Path, encoding: str) -> list[tuple[int, list[str]]]:
    with path.open(encoding=encoding, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [(n, row) for n, row in enumerate(rows, start=1) if row]


@pytest.mark.parametrize("seed", range(8))
def test_a_plain_csv_gives_the_csv_readers_rows(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "a.csv"
    lines = 120_000 if seed < 2 else 3000  # over a megabyte: rows cross the blocks read
    path.write_text(_text(seed, lines), encoding="utf-8-sig", newline="")
    table = Table(path, SourceSettings.model_validate(SOURCE))
    assert table._plain()
    line_by_line: list[int] = []
    monkeypatch.setattr(Cells, "of_rows", _counting(Cells.of_rows, line_by_line))
    chunks = list(table.chunks(97))
    got = [(n, c.row(i)) for c in chunks for i, n in enumerate(c.numbers)]
    assert table.header == ["station", "time", "v"]
    assert got == _reader_rows(path, "utf-8-sig")
    if seed % 2 == 0:  # most chunks cut at once
        assert len(line_by_line) < len(chunks) / 2


def _counting(of_rows: Any, calls: list[int]) -> Any:
    def counted(numbers: list[int], rows: Any) -> Cells:
        calls.append(len(numbers))
        result: Cells = of_rows(numbers, rows)
        return result

    return counted


@pytest.mark.parametrize(
    "text", ['station,time,v\n"vam, kenh",2024-03-01,1\n', "station,time,v\rvam-kenh,x,1\r"]
)
def test_quotes_or_bare_carriage_returns_go_to_the_csv_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8", newline="")
    table = Table(path, SourceSettings.model_validate(SOURCE))
    assert not table._plain()
    got = [(n, c.row(i)) for c in table.chunks(10) for i, n in enumerate(c.numbers)]
    assert got == _reader_rows(path, "utf-8")
