"""Ingest throughput against a real mosquitto and a real influxd.

One reading per QoS-1 message over 200 devices, in two modes:

- drain: the messages are queued in the broker for the ingester's persistent session while the
  ingester is frozen (SIGSTOP); then it resumes and the clock runs until all are stored. This
  measures ingest, not the publisher.
- live: publisher and ingester run together; the clock runs from the first publish to the last
  reading stored.

- serve: drain, into ``saltwatch serve`` (ingest, the alert engine and the API in one process):
  what judging every reading costs ingest.

The minimal paho → /write script (bench/baseline_paho_write.py) runs in drain mode in the same run.
Prints readings/s, CPU seconds per 10,000 readings and peak RSS per ingest process.

    python -m bench.ingest_throughput [--messages 200000] [--processes 1] [--modes drain,live,serve]
        [--repeat N] [--profile DIR]
    python -m bench.ingest_throughput --peers     # the race against Node-RED (bench/ingest_race.py)
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import orjson

from bench._common import ROOT, cpu_seconds, peak_rss_mb
from bench.ingest_race import race
from harness.mqtt_tools import Publisher
from harness.registries import write_registry
from harness.services import InfluxServer, MosquittoServer, free_port, wait_until
from saltwatch.core.topics import TopicKind
from saltwatch.storage.influx import InfluxReadingStore

DEVICES = 200


@dataclass
class Result:
    name: str
    readings: int
    seconds: float
    cpu: list[float]
    rss: list[float]

    def row(self) -> str:
        rate = self.readings / self.seconds
        cpu = sum(self.cpu) / self.readings * 10_000
        rss = "/".join(f"{r:.0f}" for r in self.rss)
        return (
            f"{self.name:<34} {self.readings:>8} {self.seconds:>8.2f} {rate:>12,.0f} "
            f"{cpu:>10.2f} {rss:>12}"
        )


def messages(prefix: str, count: int, start: float) -> list[tuple[str, bytes]]:
    out = []
    for i in range(count):
        device = f"d{i % DEVICES:03d}"
        minute = i // DEVICES  # each device: one reading a minute, a slow saw-tooth
        item = {
            "ts": round(start + minute * 60.0, 3),
            "seq": minute,
            "salinity_ppt": round(0.5 + (minute % 50) * 0.01, 3),
            "temp_c": 29.0,
        }
        out.append((f"{prefix}/salinity/{device}", orjson.dumps(item)))
    return out


def publish(url: str, msgs: list[tuple[str, bytes]]) -> float:
    started = time.monotonic()
    publisher = Publisher(url, chunk=1000)
    publisher.publish_all(msgs, timeout=300)
    publisher.close()
    return time.monotonic() - started


def salinity_count(store: InfluxReadingStore) -> int:
    return store.count(TopicKind.SALINITY)


def start_ingesters(
    n: int, env: dict[str, str], work: Path, tag: str, command: str = "ingest"
) -> list[subprocess.Popen[bytes]]:
    exe = Path(sys.executable).with_name("saltwatch")
    procs = []
    for i in range(n):
        log = work / f"ingest-{tag}-{i}.log"
        proc_env = {
            **os.environ,
            **env,
            "SALTWATCH_MQTT__CLIENT_ID": f"ingest-{tag}-{i}",
            "SALTWATCH_INGEST__SPOOL_PATH": str(work / f"spool-{tag}-{i}"),
            "SALTWATCH_STATE__PATH": str(work / f"state-{tag}-{i}.db"),
            "SALTWATCH_API__BIND": f"127.0.0.1:{free_port()}",
        }
        procs.append(
            subprocess.Popen(
                [str(exe), command], env=proc_env, stdout=log.open("wb"), stderr=subprocess.STDOUT
            )
        )
        wait_until(_connected(log), 30, "ingest connect")
    return procs


def _connected(log: Path) -> Callable[[], bool]:
    return lambda: "connected to MQTT" in log.read_text()


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(30)


def measure(
    name: str,
    procs: list[subprocess.Popen[bytes]],
    url: str,
    store: InfluxReadingStore,
    msgs: list[tuple[str, bytes]],
    drain: bool,
    profile: Path | None = None,
) -> Result:
    """drain: publish while the ingesters are frozen, then time from resuming them;
    live: time from the first publish. Either way, until every reading is stored.
    ``profile``: a folder where py-spy writes each process's sampled stacks for the timed part."""
    if drain:
        for proc in procs:
            os.kill(proc.pid, signal.SIGSTOP)
        publish(url, msgs)
    spies = [_spy(p.pid, profile, name, i) for i, p in enumerate(procs)] if profile else []
    cpu0 = [cpu_seconds(p.pid) for p in procs]
    started = time.monotonic()
    if drain:
        for proc in procs:
            os.kill(proc.pid, signal.SIGCONT)
    else:
        publish(url, msgs)
    wait_until(lambda: salinity_count(store) >= len(msgs), 600, name, interval=0.1)
    seconds = time.monotonic() - started
    for spy in spies:
        spy.send_signal(signal.SIGINT)  # py-spy writes its file on interrupt
        spy.wait(60)
    return Result(
        name,
        len(msgs),
        seconds,
        [cpu_seconds(p.pid) - c for p, c in zip(procs, cpu0, strict=True)],
        [peak_rss_mb(p.pid) for p in procs],
    )


def _spy(pid: int, folder: Path, name: str, index: int) -> subprocess.Popen[bytes]:
    """Sample the Python stack of the thread holding the GIL until interrupted: where the
    process's one core of Python goes."""
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{name.replace(' ', '-').replace('(', '').replace(')', '')}-{index}.txt"
    spy = subprocess.Popen(
        [
            "py-spy",
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--rate",
            "250",
            "--gil",
            "--output",
            str(out),
            "--nonblocking",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.5)  # attaching takes a moment; the measured process is frozen meanwhile or idle
    return spy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument(
        "--processes", type=int, default=1, help="ingest processes (>1: shared subscription)"
    )
    parser.add_argument("--modes", default="drain,live")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--profile",
        type=Path,
        help="folder for py-spy stacks of each measured process (summarise: bench.profile_shares)",
    )
    parser.add_argument(
        "--settle", type=float, default=15.0, help="seconds serve may start up before the drain"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds of the modes, interleaved (medians shown)"
    )
    parser.add_argument(
        "--peers",
        action="store_true",
        help="run the ingest race of ../shared/peers instead (bench/ingest_race.py)",
    )
    parser.add_argument("--peers-dir", type=Path, default=ROOT.parent / "shared" / "peers")
    parser.add_argument("--runs", type=int, default=2, help="--peers: drains per contestant")
    parser.add_argument("--workers", type=int, default=2, help="--peers: saltwatch --workers N")
    parser.add_argument("--contestants", default="nodered,naive,saltwatch,workers")
    args = parser.parse_args()
    if args.peers:
        race(
            args.peers_dir,
            args.runs,
            args.messages,
            args.workers,
            args.contestants.split(","),
        )
        return
    work = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    broker = MosquittoServer(work / "mosquitto")
    influx = InfluxServer(work / "influxd")
    broker.start()
    influx.start()
    registry = write_registry(work / "registry.toml", DEVICES, ["salinity"])
    results: list[Result] = []
    start = time.time() - 3 * 86400
    try:
        rounds = [(r, m) for r in range(args.repeat) for m in args.modes.split(",")]
        for round_no, mode in rounds:
            db = f"bench_{mode}_{round_no}"
            # a topic prefix per run: shared subscriptions of a finished run's (persistent,
            # offline) sessions would otherwise take their share of the next run's messages
            prefix = f"bench{mode}{round_no}"
            store = InfluxReadingStore(influx.store_url(db))
            store.ensure_database()
            env = {
                "SALTWATCH_MQTT__URL": broker.url,
                "SALTWATCH_MQTT__TOPIC_PREFIX": prefix,
                "SALTWATCH_MQTT__KEEPALIVE_S": "120",
                "SALTWATCH_STORE__URL": influx.store_url(db),
                "SALTWATCH_REGISTRY__PATH": str(registry),
            }
            if args.processes > 1:
                env["SALTWATCH_MQTT__SHARE_GROUP"] = "saltwatch"
            command = "serve" if mode == "serve" else "ingest"
            procs = start_ingesters(args.processes, env, work, f"{mode}{round_no}", command)
            if command == "serve":  # its first salt-front and forecast runs are start-up work
                time.sleep(args.settle)
            msgs = messages(prefix, args.messages, start)
            how = "live" if mode == "live" else "drain"
            name = f"saltwatch {command} {how} ({args.processes} proc)"
            try:
                results.append(
                    measure(name, procs, broker.url, store, msgs, mode != "live", args.profile)
                )
            finally:
                stop(procs)
                store.close()
        if not args.no_baseline:
            db = "bench_baseline"
            store = InfluxReadingStore(influx.store_url(db))
            store.ensure_database()
            log = work / "baseline.log"
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "bench" / "baseline_paho_write.py"),
                    "127.0.0.1",
                    str(broker.port),
                    "baseline/salinity/+",
                    influx.http_url,
                    db,
                ],
                stdout=log.open("wb"),
                stderr=subprocess.STDOUT,
            )
            wait_until(lambda: "connected" in log.read_text(), 30, "baseline connect")
            try:
                results.append(
                    measure(
                        "minimal paho → /write drain",
                        [proc],
                        broker.url,
                        store,
                        messages("baseline", args.messages, start),
                        drain=True,
                        profile=args.profile,
                    )
                )
            finally:
                proc.kill()
                store.close()
    finally:
        broker.stop()
        influx.stop()
    print(
        f"\n{'run':<34} {'readings':>8} {'seconds':>8} {'readings/s':>12} {'CPU s/10k':>10} "
        f"{'peak RSS MB':>12}"
    )
    for result in results:
        print(result.row())
    _medians(results)


def _medians(results: list[Result]) -> None:
    """With several rounds: each kind of run's median rate, and serve against ingest alone."""
    rates: dict[str, list[float]] = {}
    for result in results:
        rates.setdefault(result.name, []).append(result.readings / result.seconds)
    if max(len(r) for r in rates.values()) < 2:
        return
    print()
    for name, values in rates.items():
        print(f"{name:<34} median {statistics.median(values):>10,.0f} readings/s of {len(values)}")
    alone = [r for n, r in rates.items() if n.startswith("saltwatch ingest drain")]
    serve = [r for n, r in rates.items() if n.startswith("saltwatch serve drain")]
    if alone and serve:
        ratios = [s / a for s, a in zip(serve[0], alone[0], strict=False)]
        shown = " ".join(f"{r:.0%}" for r in ratios)
        print(
            f"serve / ingest alone, round by round: {shown}; median {statistics.median(ratios):.0%}"
        )


if __name__ == "__main__":
    main()
