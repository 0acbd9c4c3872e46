"""API latency under 50 concurrent clients: ``saltwatch api`` on a real influxd holding the bundled
registry's simulated readings for 90 days.

    python -m bench.api_latency [--clients 50] [--requests 20] [--days 90]

Endpoints: /api/v1/zones, /api/v1/stations, and a 7-day hourly readings query. Prints p50/p99
per endpoint. Target: p99 under 100 ms for all three. The load comes from ``wrk`` (Debian package
``wrk``) when installed, else from Python (which then competes with the server for the 2 cores).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from harness.services import InfluxServer, free_port, wait_until
from saltwatch.core.codec import CodecLimits
from saltwatch.core.registry import load_registry
from saltwatch.core.types import Reading
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.influx import InfluxReadingStore

TOKEN = "bench-viewer-token-000000"


def load(store: InfluxReadingStore, days: int) -> int:
    registry = load_registry()
    end = time.time()
    start = end - days * 86400
    scenario = SCENARIOS["2024"]
    shift = epoch("2024-04-01") - end  # play Jan–Mar 2024, stamped as the last 90 days
    fleet = Fleet(
        registry,
        SimConfig(scenario, seed=3, interval_s=900, faults=FaultRates.none(), ts_offset_s=-shift),
    )
    judge = MessageValidator(
        registry, ValidationConfig(limits=CodecLimits(max_backfill_s=400 * 86400))
    )
    batch: list[Reading] = []
    total = 0
    for message in fleet.messages(start + shift, end + shift):
        if "/status/" in message.topic:
            continue
        batch.extend(judge.validate(message.topic, message.payload, int(end * 1e9)).readings)
        if len(batch) >= 5000:
            store.write(batch)
            total += len(batch)
            batch = []
    store.write(batch)
    return total + len(batch)


async def hammer(base: str, path: str, clients: int, per_client: int) -> list[float]:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    latencies: list[float] = []
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:

        async def one() -> None:
            for _ in range(per_client):
                began = time.perf_counter()
                response = await client.get(path)
                latencies.append((time.perf_counter() - began) * 1000)
                response.raise_for_status()

        await asyncio.gather(*(one() for _ in range(clients)))
    return latencies


def run_wrk(wrk: str, url: str, clients: int, seconds: int) -> tuple[float, float, int]:
    """wrk's latency distribution: (p50 ms, p99 ms, requests)."""
    out = subprocess.run(
        [
            wrk,
            "-t2",
            f"-c{clients}",
            f"-d{seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {TOKEN}",
            url,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    found: dict[str, float] = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "99%"):
            value = parts[1]
            scale = 1000.0 if value.endswith("s") and not value.endswith(("ms", "us")) else 1.0
            scale = 0.001 if value.endswith("us") else scale
            found[parts[0]] = float(value.rstrip("msu")) * scale
    requests = next(int(line.split()[0]) for line in out.splitlines() if "requests in" in line)
    return found["50%"], found["99%"], requests


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=20, help="per client and endpoint")
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--seconds", type=int, default=10, help="per endpoint, with wrk")
    parser.add_argument("--workers", type=int, default=2, help="saltwatch api --workers")
    parser.add_argument(
        "--python-client", action="store_true", help="load from httpx even when wrk is installed"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-api-"))
    influx = InfluxServer(work / "influxd")
    influx.start()
    store = InfluxReadingStore(influx.store_url("api"))
    began = time.monotonic()
    points = load(store, args.days)
    print(f"loaded {points:,} readings ({args.days} days) in {time.monotonic() - began:.0f} s")
    port = free_port()
    env = {
        **os.environ,
        "SALTWATCH_STORE__URL": influx.store_url("api"),
        "SALTWATCH_STATE__PATH": str(work / "state.db"),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": f'[{{"role": "viewer", "token": "{TOKEN}"}}]',
    }
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("saltwatch")), "api", "--workers", str(args.workers)],
        env=env,
        stdout=(work / "api.log").open("wb"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _up(base), 30, "saltwatch api")
        week_end = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        week_start = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7 * 86400))
        paths = {
            "/api/v1/zones": "/api/v1/zones",
            "/api/v1/stations": "/api/v1/stations",
            "7-day hourly readings": f"/api/v1/stations/xuan-hoa/readings?start={week_start}"
            f"&end={week_end}&every=1h",
        }
        wrk = shutil.which("wrk")
        use_wrk = wrk is not None and not args.python_client
        tool = "wrk (C)" if use_wrk else "httpx (Python, on the same 2 cores)"
        print(f"{args.clients} concurrent clients, load from {tool}")
        for name, path in paths.items():
            asyncio.run(hammer(base, path, 5, 2))  # warm up
            if wrk is not None and use_wrk:
                p50, p99, count = run_wrk(wrk, base + path, args.clients, args.seconds)
            else:
                latencies = asyncio.run(hammer(base, path, args.clients, args.requests))
                p50, p99, count = pct(latencies, 50), pct(latencies, 99), len(latencies)
            print(f"  {name:<24} p50 {p50:6.1f} ms   p99 {p99:6.1f} ms   ({count} requests)")
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(15)
        store.close()
        influx.stop()


def _up(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


if __name__ == "__main__":
    main()
