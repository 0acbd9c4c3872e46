"""The column way of a file's chunk (core/columns.py, core/batch_mapping.py, QC's
``apply_columns``) gives what the row-by-row way gives: the same flags, the same memory, the
same readings and the same refusals."""

from __future__ import annotations

import random

import numpy as np
import pytest

from saltwatch.core.batch_mapping import BatchMapper, Cells
from saltwatch.core.columns import ColumnsBuilder
from saltwatch.core.mapping import RecordMapper
from saltwatch.core.qc import QcConfig, QualityControl
from saltwatch.core.registry import load_registry
from saltwatch.core.sources import SourceSettings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Rejection

NS = 1_000_000_000
T0 = 1_700_000_000 * NS


def _series(seed: int, n: int) -> list[tuple[int, float]]:
    rng = random.Random(seed)
    out: list[tuple[int, float]] = []
    t, v = T0, 2.0
    for _ in range(n):
        t += rng.choice([60, 600, 900, 3600, 7200]) * NS
        roll = rng.random()
        if roll < 0.1:
            pass  # a repeat: flatlines
        elif roll < 0.15:
            v = rng.uniform(-5, 60)  # spikes, out of range, fast changes
        else:
            v = round(max(0.0, v + rng.gauss(0, 0.8)), 2)
        out.append((t, v))
    return out


@pytest.mark.parametrize("seed", range(12))
def test_qc_on_columns_flags_and_remembers_as_one_at_a_time(seed: int) -> None:
    cfg = QcConfig(flatline_count=4 + seed % 5, spike_window=3 + seed % 4)
    points = _series(seed, 300)
    one, many = QualityControl(cfg, depth=8), QualityControl(cfg, depth=8)
    split = seed * 7 % 40
    for qc in (one, many):
        qc.seed("salinity", "a", points[:split])
    later = points[split:]
    readings = [Reading(TopicKind.SALINITY, "a", t, {"salinity_ppt": v}) for t, v in later]
    expected = [one.apply(r, "salinity_ppt").qc for r in readings]
    assert len({flags for flags in expected}) >= 3  # the series sets several kinds of flag
    for part in (later[:100], later[100:]):  # two chunks: the memory carries over
        builder = ColumnsBuilder(TopicKind.SALINITY, "a", "", "", {})
        where = np.arange(len(part), dtype=np.int64)
        ts = np.array([t for t, _ in part], np.int64)
        builder.add_columns(where, ts, {"salinity_ppt": np.array([v for _, v in part])})
        columns = builder.build()
        many.apply_columns(columns)
        got = columns.qc.tolist()
        assert got == expected[: len(got)]
        expected = expected[len(got) :]
    assert many.export() == one.export()
    assert expected == []


def test_qc_on_columns_out_of_order_goes_one_by_one_and_agrees() -> None:
    cfg = QcConfig()
    points = _series(3, 80)
    shuffled = points[:]
    random.Random(1).shuffle(shuffled)
    one, many = QualityControl(cfg), QualityControl(cfg)
    readings = [Reading(TopicKind.SALINITY, "a", t, {"salinity_ppt": v}) for t, v in shuffled]
    expected = [one.apply(r, "salinity_ppt").qc for r in readings]
    builder = ColumnsBuilder(TopicKind.SALINITY, "a", "", "", {})
    builder.add_readings(enumerate(readings))
    columns = builder.build()
    many.apply_columns(columns)
    assert columns.qc.tolist() == expected
    assert many.export() == one.export()


REGISTRY = load_registry(None)
NOW = 1_710_226_800 * NS  # 2024-03-12T07:00:00Z
TWO = {
    "name": "archive",
    "kind": "file",
    "device": {"field": "station", "ids": {"VK": "vam-kenh"}},
    "time": {"field": "when", "zone": "+07:00"},
    "values": [
        {"field": "sal", "to": "salinity_ppt", "unit": "g/L"},
        {"field": "ec", "to": "ec_us_cm", "unit": "mS/cm"},
    ],
    "missing": ["", "NA", "-999"],
}


HEADER = ["station", "when", "ec", "sal"]


def _messy(seed: int, n: int, decimal: str) -> list[tuple[int, list[object]]]:
    """Rows a logger or a spreadsheet may hold: mostly plain, some with every kind of flaw
    (some short: the last cell missing)."""
    rng = random.Random(seed)
    stations = ["VK", "hoa-binh", "xuan-hoa", "nowhere", "", "well-tan-dien-1", " lac-hong "]
    cells: list[object] = [
        "1.5",
        "0.25",
        "12",
        "",
        "NA",
        "-999",
        "abc",
        "nan",
        "inf",
        "45",
        "-1",
        "1e3",
    ]
    cells += ["1,75", " 2.5 ", "3", 2.0, 7, True, None]
    times = ["2024-03-01 07:15", "2024-03-01T07:15:00+07:00", "2024-03-01 07:15:00Z", "bad"]
    times += ["2030-01-01 00:00", "", "2024-02-29 23:45", "2023-12-31 24:00"]
    out: list[tuple[int, list[object]]] = []
    for number in range(1, n + 1):
        plain = rng.random() < 0.6
        station = rng.choice(stations[:3] if plain else stations)
        minute = rng.randrange(0, 200) * 15
        when = f"2024-03-{1 + minute // 1440:02d} {minute % 1440 // 60:02d}:{minute % 60:02d}"
        sal = f"{rng.uniform(0, 30):.2f}" if plain else rng.choice(cells)
        ec = f"{rng.uniform(0, 50):.3f}" if plain or rng.random() < 0.5 else rng.choice(cells)
        if decimal == ",":
            sal, ec = (c.replace(".", ",") if isinstance(c, str) else c for c in (sal, ec))
        row: list[object] = [station, when if plain else rng.choice([when, *times]), ec, sal]
        out.append((number, row[:3] if rng.random() < 0.02 else row))
    return out


@pytest.mark.parametrize(("seed", "decimal"), [(1, "."), (2, "."), (3, ","), (4, ",")])
def test_a_chunk_mapped_as_columns_gives_the_readings_and_refusals_of_one_by_one(
    seed: int, decimal: str
) -> None:
    source = SourceSettings.model_validate({**TWO, "decimal": decimal})
    rows = _messy(seed, 3000, decimal)
    one = RecordMapper(source, REGISTRY, 300.0)
    expected_readings: dict[int, Reading] = {}
    expected_refused: dict[int, Rejection] = {}
    for number, row in rows:
        mapped = one.map(dict(zip(HEADER, row, strict=False)), NOW)
        target = expected_refused if isinstance(mapped, Rejection) else expected_readings
        target[number] = mapped  # type: ignore[assignment]
    mapper = BatchMapper(RecordMapper(source, REGISTRY, 300.0))
    cells = Cells.of_rows([n for n, _ in rows], [r for _, r in rows])
    batches, refused = mapper.map(HEADER, cells, NOW)
    assert dict(refused) == expected_refused
    got = {int(b.where[i]): b.reading(i) for b in batches for i in range(len(b))}
    assert got == expected_readings
    assert 1000 < len(got) < 2900 and len({r.reason for _, r in refused}) >= 4
    for batch in batches:
        assert batch.where.tolist() == sorted(batch.where.tolist())
