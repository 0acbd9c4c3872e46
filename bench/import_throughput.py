"""``saltwatch import`` into a real influxd: rows per second and peak memory (docs/benchmarks.md).

Writes a CSV of ``--rows`` rows (five stations, a reading each 15 minutes, local time, in the
long shape ``station,datetime,salinity``), then ``--runs`` times: a fresh database, the file
imported (every row new), and imported again (every row already stored: nothing added). Each
import is the real command in its own process; its wall time and peak RSS (from wait4) are
printed, then the medians. Target (issue #27): ≥ 100,000 rows/s for both, peak memory < 300 MB.

    python -m bench.import_throughput --rows 1000000 --runs 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from harness.services import InfluxServer
from saltwatch.core.topics import TopicKind
from saltwatch.storage.influx import InfluxReadingStore

STATIONS = ("vam-kenh", "hoa-binh", "vam-giong", "xuan-hoa", "lac-hong")
MAPPING = """
[[sources]]
name = "archive"
kind = "file"
device = { field = "station" }
time = { field = "datetime", zone = "+07:00" }
values = [{ field = "salinity", to = "salinity_ppt", unit = "g/L" }]
"""


def write_csv(path: Path, rows: int) -> None:
    start = datetime(2019, 1, 1)
    step = timedelta(minutes=15)
    per_station = -(-rows // len(STATIONS))
    with path.open("w") as out:
        out.write("station,datetime,salinity\n")
        written = 0
        for i in range(per_station):
            stamp = (start + i * step).strftime("%Y-%m-%d %H:%M:%S")
            for k, station in enumerate(STATIONS):
                if written == rows:
                    return
                out.write(f"{station},{stamp},{(i * 7 + k * 13) % 400 / 100:.2f}\n")
                written += 1


def one_import(config: Path, csv: Path) -> tuple[float, float, dict[str, object]]:
    """Wall seconds, peak RSS (MB) and the report of one ``saltwatch import``."""
    command = [sys.executable, "-m", "saltwatch", "import", str(csv), "--source", "archive"]
    command += ["--config", str(config), "--json"]
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    assert child.stdout is not None
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise SystemExit(f"import failed with status {child.returncode}")
    report: dict[str, object] = json.loads(output)
    return seconds, usage.ru_maxrss / 1024, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sw-import-") as folder:
        work = Path(folder)
        csv = work / "archive.csv"
        write_csv(csv, args.rows)
        print(f"{args.rows:,} rows, {csv.stat().st_size / 1e6:.0f} MB, {len(STATIONS)} stations")
        server = InfluxServer(work / "influxd")
        server.start()
        first: list[float] = []
        again: list[float] = []
        peaks: list[float] = []
        wrong: list[str] = []
        try:
            for run in range(1, args.runs + 1):
                config = work / f"run{run}.toml"
                config.write_text(
                    f'[store]\nurl = "{server.store_url(f"import{run}")}"\n'
                    f'[state]\npath = "{work}/state{run}.db"\n{MAPPING}'
                )
                for label, rates in (("first", first), ("again", again)):
                    seconds, peak, report = one_import(config, csv)
                    rate = args.rows / seconds
                    rates.append(rate)
                    peaks.append(peak)
                    print(
                        f"run {run} {label:5}: {seconds:6.2f} s  {rate:9,.0f} rows/s  peak RSS"
                        f" {peak:5.0f} MB  stored {report['stored']:,}"
                        f"  already {report['already_stored']:,}"
                        f"  conflicts {report['conflicts']}"
                    )
                    expected = (args.rows, 0) if label == "first" else (0, args.rows)
                    if (report["stored"], report["already_stored"]) != expected:
                        wrong.append(f"run {run} {label}: {report}")
                store = InfluxReadingStore(server.store_url(f"import{run}"))
                held = store.count(TopicKind.SALINITY)
                store.close()
                print(f"run {run}: the store holds {held:,} readings")
                if held != args.rows:
                    wrong.append(f"run {run}: the store holds {held:,}, not {args.rows:,}")
        finally:
            server.stop()
    print(
        f"median: first import {statistics.median(first):,.0f} rows/s, second import"
        f" {statistics.median(again):,.0f} rows/s; peak RSS at most {max(peaks):.0f} MB"
    )
    if wrong:  # a first import must store every row, a second find every row stored
        raise SystemExit("counts not as expected:\n" + "\n".join(wrong))


if __name__ == "__main__":
    main()
