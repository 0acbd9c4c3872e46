"""The ingest race of ``../shared/peers`` in one invocation: Node-RED, the minimal paho script and
``saltwatch ingest`` (one process, then ``--workers N``), each drained once per round for
``--runs`` rounds by the kit's own ``run_throughput.sh`` (real mosquitto and influxd), then one
table and each contestant's ratio to Node-RED's run of the same round.

    python -m bench.ingest_throughput --peers [--peers-dir ../shared/peers] [--runs 2]
        [--workers 2] [--messages 200000] [--contestants nodered,naive,saltwatch,workers]

Readings/s come from the kit. Peak RSS and CPU: the kit's figures for the one process it
started; for ``saltwatch --workers`` (a supervisor and its members) the sum over the process tree,
sampled here every 0.2 s (peak of the sum; CPU over the process's whole life, start-up included).
Node-RED must be installed once (``bash ../shared/peers/install_nodered.sh``).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from bench._common import CLOCK_TICKS, ROOT

_RUN_LINE = re.compile(
    r"run (?P<run>\d+): stored (?P<stored>\d+)/(?P<n>\d+) in (?P<s>[\d.]+)s = (?P<rate>\d+) "
    r"readings/s .*?peak RSS (?P<rss>[\d.]+) MiB, CPU (?P<cpu>[\d.]+) s"
)


@dataclass
class RaceRun:
    contestant: str
    run: int
    stored: int
    wanted: int
    seconds: float
    rate: float
    rss_mb: float
    cpu_s: float


def _tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


class TreeSampler:
    """Peak summed RSS and summed CPU of the process tree whose root pid is in ``pid_file``."""

    def __init__(self, pid_file: Path) -> None:
        self._pid_file = pid_file
        self._stop = threading.Event()
        self.peaks: dict[int, float] = {}  # root pid → peak summed RSS (MB)
        self.cpu: dict[int, dict[int, float]] = {}  # root pid → pid → last CPU seconds seen
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                root = int(self._pid_file.read_text())
            except (OSError, ValueError):
                continue
            rss, seen = 0.0, self.cpu.setdefault(root, {})
            for p in _tree(root):
                try:
                    status = Path(f"/proc/{p}/status").read_text()
                    stat = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                rss += next(
                    (
                        int(x.split()[1]) / 1024
                        for x in status.splitlines()
                        if x.startswith("VmRSS")
                    ),
                    0.0,
                )
                seen[p] = (int(stat[11]) + int(stat[12])) / CLOCK_TICKS
            self.peaks[root] = max(self.peaks.get(root, 0.0), rss)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(2)


def run_contestant(
    peers: Path, who: str, runs: int, messages: int, work: Path, workers: int = 1, round_: int = 1
) -> list[RaceRun]:
    """One contestant's ``runs`` drains by the kit; the table's rows. Each round's SaltWatch
    starts with a state folder of its own, as the kit gives every run a new database: QC's
    memory of an earlier round's readings (the same times, in a database since dropped) would
    judge every reading as a late one."""
    env = {
        **os.environ,
        "N": str(messages),
        "MODE": "drain",
        "PY": sys.executable,
        "RUN": str(work / "run"),
        "RAW_DIR": str(work / "raw"),
        "TIMEOUT": "600",
    }
    kit_who, flows, label = who, "-", who
    if who == "nodered":
        flows = str(peers / "flows_batch.json")
    if who in ("saltwatch", "workers"):
        kit_who, label = "cmd", f"saltwatch-{workers}"
        env |= {
            "INGEST_CMD": str(ROOT / "bench" / "peers_saltwatch.sh"),
            "INGEST_READY": "connected to MQTT",
            "INGEST_ERROR": "ERROR|Traceback",
            "SALTWATCH": str(Path(sys.executable).with_name("saltwatch")),
            "WORK": str(work / f"saltwatch-{workers}" / f"round-{round_}"),
            "WORKERS": str(workers),
            "LABEL": label,
        }
    sampler = TreeSampler(work / "run" / f"{kit_who}.pid") if workers > 1 else None
    if sampler:
        sampler.start()
    result = subprocess.run(
        ["bash", str(peers / "run_throughput.sh"), kit_who, flows, str(runs)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if sampler:
        sampler.stop()
    rows = []
    for m in _RUN_LINE.finditer(result.stdout):
        rows.append(
            RaceRun(
                label if who != "workers" else f"saltwatch --workers {workers}",
                int(m["run"]),
                int(m["stored"]),
                int(m["n"]),
                float(m["s"]),
                float(m["rate"]),
                float(m["rss"]),
                float(m["cpu"]),
            )
        )
    if sampler:  # the tree's figures, run by run (one root pid per run)
        for row, root in zip(rows, sampler.peaks, strict=False):
            row.rss_mb = sampler.peaks[root]
            row.cpu_s = sum(sampler.cpu[root].values())
    if not rows:
        print(f"{who}: no result\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return rows


def race(peers: Path, runs: int, messages: int, workers: int, contestants: list[str]) -> None:
    """``runs`` rounds, each contestant once per round in turn: a shared machine's speed drifts
    over minutes, so each is compared with Node-RED's run of the same round."""
    work = Path(tempfile.mkdtemp(prefix="bench-race-"))
    rows: list[RaceRun] = []
    for round_ in range(1, runs + 1):
        for who in contestants:
            n = workers if who == "workers" else 1
            print(f"round {round_}: {who} ({messages:,} readings)…", flush=True)
            rows += [
                replace(r, run=round_)
                for r in run_contestant(peers, who, 1, messages, work, n, round_)
            ]
    print(f"\nthe kit's raw output: {work}/raw")
    print(
        f"{'contestant':<28} {'run':>3} {'stored':>8} {'seconds':>8} {'readings/s':>11} "
        f"{'peak RSS MB':>11} {'CPU s':>6}"
    )
    for r in rows:
        print(
            f"{r.contestant:<28} {r.run:>3} {r.stored:>8} {r.seconds:>8.2f} {r.rate:>11,.0f} "
            f"{r.rss_mb:>11.0f} {r.cpu_s:>6.1f}"
        )
    nodered = [r.rate for r in rows if r.contestant == "nodered"]
    if nodered:
        best = max(nodered)
        print(f"\nagainst Node-RED's best run ({best:,.0f} readings/s):")
        for name in dict.fromkeys(r.contestant for r in rows):
            rates = [r.rate for r in rows if r.contestant == name]
            print(f"  {name:<26} " + " / ".join(f"{x / best:.2f}×" for x in rates))
        paired = {r.run: r.rate for r in rows if r.contestant == "nodered"}
        print("\nagainst Node-RED's run of the same round (median of the rounds):")
        for name in dict.fromkeys(r.contestant for r in rows):
            ratios = [
                r.rate / paired[r.run] for r in rows if r.contestant == name and paired.get(r.run)
            ]
            if ratios:
                shown = " / ".join(f"{x:.2f}×" for x in ratios)
                print(f"  {name:<26} {shown}   median {statistics.median(ratios):.2f}×")
