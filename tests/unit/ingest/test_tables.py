"""A plain CSV (no quotes) is cut into rows by splitting its lines, much faster than the CSV
reader: the rows, their numbers and the header must be the reader's own."""

from __future__ import annotations

import csv
import random
from pathlib import Path

import pytest

from saltwatch.core.sources import SourceSettings
from saltwatch.ingest.tables import Table

SOURCE = {
    "name": "archive",
    "kind": "file",
    "device": {"field": "station"},
    "values": [{"field": "v", "to": "salinity_ppt"}],
}


def _text(seed: int, lines: int) -> str:
    rng = random.Random(seed)
    out = ["station,time,v"]
    for _ in range(lines):
        roll = rng.random()
        if roll < 0.03:
            out.append("")  # a blank line
        elif roll < 0.05:
            out.append("  ")
        elif roll < 0.08:
            out.append("vam-kenh,2024-03-01 07:00")  # short
        else:
            cells = ["vam-kenh", f"2024-03-01 {rng.randrange(24):02d}:00", f"{rng.random():.3f}"]
            out.append(",".join(cells + ([""] * rng.randrange(2))))
    newline = "\r\n" if seed % 2 else "\n"
    return newline.join(out) + (newline if seed % 3 else "")


def _reader_rows(path: Path, encoding: str) -> list[tuple[int, list[str]]]:
    with path.open(encoding=encoding, newline="") as f:
        rows = list(csv.reader(f))[1:]
    return [(n, row) for n, row in enumerate(rows, start=1) if row]


@pytest.mark.parametrize("seed", range(6))
def test_a_plain_csv_gives_the_csv_readers_rows(tmp_path: Path, seed: int) -> None:
    path = tmp_path / "a.csv"
    lines = 120_000 if seed == 0 else 500  # over a megabyte: rows cross the blocks read
    path.write_text(_text(seed, lines), encoding="utf-8-sig", newline="")
    table = Table(path, SourceSettings.model_validate(SOURCE))
    assert table._plain()
    got = [(n, list(r)) for ns, rows in table.chunks(97) for n, r in zip(ns, rows, strict=True)]
    assert table.header == ["station", "time", "v"]
    assert got == _reader_rows(path, "utf-8-sig")


@pytest.mark.parametrize(
    "text", ['station,time,v\n"vam, kenh",2024-03-01,1\n', "station,time,v\rvam-kenh,x,1\r"]
)
def test_quotes_or_bare_carriage_returns_go_to_the_csv_reader(tmp_path: Path, text: str) -> None:
    path = tmp_path / "a.csv"
    path.write_text(text, encoding="utf-8", newline="")
    table = Table(path, SourceSettings.model_validate(SOURCE))
    assert not table._plain()
    got = [(n, list(r)) for ns, rows in table.chunks(10) for n, r in zip(ns, rows, strict=True)]
    assert got == _reader_rows(path, "utf-8")
