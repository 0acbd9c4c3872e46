"""Publish → alert latency with ingest and alerts running (``saltwatch serve``) against a real
mosquitto and a real influxd, under a background load of ordinary readings.

    python -m bench.alert_latency [--load 2000] [--probes 60] [--seconds 40]

Background: ``--load`` readings/s from 150 stations, all below every threshold. Probes: at random
moments a reading over the river critical level from a station that has not fired yet; the clock
runs from its publish to the firing event arriving on the station's alert topic. Prints p50, p95,
p99 and the worst. Target: p99 under 1 s.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import orjson

from harness.mqtt_tools import Collector, Publisher
from harness.registries import write_registry
from harness.services import InfluxServer, MosquittoServer, wait_until

PREFIX = "lat"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--load", type=int, default=2000, help="background readings per second")
    parser.add_argument("--probes", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    broker, influx = MosquittoServer(work / "mq"), InfluxServer(work / "influxd")
    broker.start()
    influx.start()
    registry = write_registry(work / "registry.toml", 150 + args.probes, ["salinity"])
    env = {
        **os.environ,
        "SALTWATCH_MQTT__URL": broker.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": PREFIX,
        "SALTWATCH_STORE__URL": influx.store_url("latency"),
        "SALTWATCH_REGISTRY__PATH": str(registry),
        "SALTWATCH_STATE__PATH": str(work / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(work / "spool"),
    }
    log = work / "serve.log"
    serve = subprocess.Popen(
        [str(Path(sys.executable).with_name("saltwatch")), "serve"],
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    arrived: dict[str, float] = {}
    collector = Collector(broker.url, [f"{PREFIX}/alerts/z"])

    def on_alert(client: object, userdata: object, message: Any) -> None:
        event = orjson.loads(message.payload)
        if event["rule"] == "salinity-river" and event["state"] == "firing":
            arrived.setdefault(event["device"], time.monotonic())

    collector.client.on_message = on_alert
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 30, "saltwatch serve")
        stop = threading.Event()
        sent = [0]

        def background() -> None:
            publisher = Publisher(broker.url, chunk=200)
            began = time.monotonic()
            while not stop.is_set():
                ahead = began + sent[0] / args.load - time.monotonic()
                if ahead > 0:  # pacing the load (not synchronisation)
                    time.sleep(min(0.01, ahead))
                    continue
                batch = [
                    (
                        f"{PREFIX}/salinity/d{(sent[0] + i) % 150:03d}",
                        orjson.dumps(
                            {"ts": time.time() - 1, "salinity_ppt": 0.3, "seq": sent[0] + i}
                        ),
                    )
                    for i in range(100)
                ]
                publisher.publish_all(batch)
                sent[0] += len(batch)
            publisher.close()

        loader = threading.Thread(target=background, daemon=True)
        load_began = time.monotonic()
        loader.start()
        probe = Publisher(broker.url, chunk=1)
        published: dict[str, float] = {}
        gap = args.seconds / args.probes
        for n in range(args.probes):
            time.sleep(rng.uniform(0.2 * gap, 1.8 * gap))  # random moments (pacing the load)
            device = f"d{150 + n:03d}"
            payload = orjson.dumps({"ts": time.time(), "salinity_ppt": 5.2})
            published[device] = time.monotonic()
            probe.publish_all([(f"{PREFIX}/salinity/{device}", payload)])
        wait_until(lambda: all(d in arrived for d in published), 30, "every probe's alert")
        stop.set()
        loader.join(30)
        probe.close()
        latencies = [(arrived[d] - published[d]) * 1000 for d in published]
        rate = sent[0] / (time.monotonic() - load_began)
        print(f"background load ≈ {rate:,.0f} readings/s; {len(latencies)} probes")
        print(
            f"publish → alert event: p50 {percentile(latencies, 50):.0f} ms, "
            f"p95 {percentile(latencies, 95):.0f} ms, p99 {percentile(latencies, 99):.0f} ms, "
            f"worst {max(latencies):.0f} ms, mean {statistics.mean(latencies):.0f} ms"
        )
    finally:
        collector.close()
        serve.send_signal(signal.SIGTERM)
        serve.wait(30)
        broker.stop()
        influx.stop()


if __name__ == "__main__":
    main()
