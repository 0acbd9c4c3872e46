"""Chaos soak: every reading a simulated device sent, accounted for, while things break.

    python -m bench.soak [--duration 600] [--devices 2000] [--seed 1] [--layout serve|split]

Starts a real mosquitto, a real influxd and ``saltwatch serve`` (or, ``--layout split``,
``saltwatch ingest --workers 2``, ``saltwatch alerts`` and ``saltwatch api``), then plays the
registry's devices cloned up to ``--devices`` (one reading each every 10 s of real time, the 2024
season's 12 March stamped as now, fault rates raised so that faults happen within minutes), plus
bursts of backlog uploads. At random moments drawn from the seed it restarts the broker, stops
influxd for 60 s, SIGKILLs ``saltwatch serve`` and starts it again (split: an ingest member and the
alerts process), publishes duplicates and malformed payloads. Then it accounts per device:
published, stored, rejected (by reason), lost, stored twice; critical salinity episodes the readings
imply (the same rules replayed offline over what was sent) against those the live system raised;
notifications: each raised critical alert told on MQTT, none told twice as two different
notifications (the same alert and state at another time), and the repeats of one notification
counted (the guarantee is at-least-once with the key id + state + at, README "Guarantees": a SIGKILL
or broker restart between a publish and its record sends it again); publish → stored and publish →
alert latency; peak RSS and CPU of each process.
Prints one table; exits 1 on any loss, duplicate, missed or spurious critical episode,
critical alert never told, or notification decided twice.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from bench._common import cpu_seconds, peak_rss_mb
from bench.soak_layouts import Layout, Serve, Split
from harness.services import InfluxServer, MosquittoServer, free_port, wait_until
from saltwatch.alerts.engine import AlertEngine
from saltwatch.core.clock import FakeClock
from saltwatch.core.codec import CodecLimits
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import Device, Registry, bundled_registry_path, load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.schema import MEASUREMENTS, measurement_for
from saltwatch.core.settings import QcSettings
from saltwatch.core.topics import READING_KINDS, TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, SimConfig, select_devices
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.alert_sqlite import SqliteAlertStore

NS = 1_000_000_000
PREFIX = "saltwatch"
TOKEN = "soak-viewer-token-0000000"
SIM_START = "2024-03-12T06:00:00+07:00"


# ------------------------------------------------------------------ the system under test
def registry_file(path: Path, registry: Registry, devices: list[Device]) -> Path:
    """The bundled registry plus the clones, as TOML ``saltwatch serve`` reads."""
    bundled = bundled_registry_path().read_text(encoding="utf-8")
    blocks = []
    for device in devices:
        if device.id in load_registry().devices:
            continue
        blocks.append("\n[[device]]")
        for key, value in device.model_dump(mode="json", exclude_none=True).items():
            if isinstance(value, list) and not value:
                continue
            blocks.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    path.write_text(bundled + "\n".join(blocks) + "\n", encoding="utf-8")
    return path


# ------------------------------------------------------------------ the devices' side
class Publisher:
    """QoS 1 on persistent sessions; each device always on the same client, so its messages
    keep their order. Counts the broker's acknowledgements."""

    def __init__(self, url: str, clients: int = 2) -> None:
        port = int(url.rsplit(":", 1)[1])
        self.clients = []
        self._lock = threading.Lock()
        self.sent = 0
        self.acked = 0
        for n in range(clients):
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=f"soak-pub-{n}", clean_session=False
            )
            client.max_inflight_messages_set(1000)
            client.on_publish = self._on_publish
            client.reconnect_delay_set(1, 2)
            client.connect_async("127.0.0.1", port, 30)
            client.loop_start()
            self.clients.append(client)
        wait_until(lambda: all(c.is_connected() for c in self.clients), 15, "publishers")

    def _on_publish(self, *args: Any) -> None:
        with self._lock:
            self.acked += 1

    def publish(self, device: str, topic: str, payload: bytes, retain: bool = False) -> None:
        client = self.clients[hash(device) % len(self.clients)]
        with self._lock:
            self.sent += 1
        client.publish(topic, payload, qos=1, retain=retain)

    def close(self) -> None:
        for client in self.clients:
            client.disconnect()
            client.loop_stop()


class AlertListener:
    """Every alert event published, with the time it arrived (a persistent session, so the
    broker keeps what comes while it restarts)."""

    def __init__(self, url: str) -> None:
        port = int(url.rsplit(":", 1)[1])
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="soak-alerts", clean_session=False
        )
        self.client.on_connect = lambda c, *a: c.subscribe(f"{PREFIX}/alerts/#", qos=1)
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 2)
        self.client.connect_async("127.0.0.1", port, 30)
        self.client.loop_start()
        wait_until(self.client.is_connected, 15, "the alert listener")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.events.append((time.time(), msg.topic, json.loads(msg.payload)))

    def last_event_at(self) -> float:
        """When the last event arrived (0 when none has)."""
        with self._lock:
            return self.events[-1][0] if self.events else 0.0

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@dataclass
class Ledger:
    """What was sent and what the codec makes of it, message by message."""

    expected: dict[tuple[str, int], float] = field(default_factory=dict)  # (device, ts) → sent at
    newest: tuple[str, int] | None = None
    salinity: dict[str, list[tuple[float, float]]] = field(default_factory=dict)  # (value, sent)
    sent_readings: list[tuple[int, list[Reading]]] = field(default_factory=list)  # for the replay
    rejected: Counter[str] = field(default_factory=Counter)
    messages: int = 0
    duplicates: int = 0
    malformed: int = 0
    backlog: int = 0

    def record(self, judge: MessageValidator, topic: str, payload: bytes, now: float) -> None:
        result = judge.validate(topic, payload, int(now * NS))
        for reading in result.readings:
            self.expected.setdefault((reading.device, reading.ts_ns), now)
            self.newest = (reading.device, reading.ts_ns)
            value = reading.fields.get("salinity_ppt")
            if reading.kind is TopicKind.SALINITY and isinstance(value, float):
                self.salinity.setdefault(reading.device, []).append((value, now))
        if result.readings:
            self.sent_readings.append((int(now * NS), result.readings))
        for rejection in result.rejections:
            self.rejected[rejection.reason] += 1


# ------------------------------------------------------------------ faults
def schedule(duration: float, rng: random.Random) -> list[tuple[float, str]]:
    """One of each fault at a random moment, not in the first 15 s nor the last 75 s."""
    kinds = ["broker-restart", "influxd-outage", "serve-kill", "duplicates", "malformed"]
    latest = max(20.0, duration - 75.0)
    return sorted((rng.uniform(15.0, latest), kind) for kind in kinds)


@dataclass(frozen=True)
class SoakOptions:
    duration: float = 600.0  # seconds of publishing
    devices: int = 2000
    interval: float = 10.0  # seconds between a device's readings
    seed: int = 1
    outage: float = 60.0  # seconds influxd stays down
    faults: float = 20.0  # scale of the device fault rates
    layout: str = "serve"  # or "split": ingest --workers N, alerts and api (bench/soak_layouts.py)
    workers: int = 2  # ingest members in the split layout


@dataclass(frozen=True)
class SoakOutcome:
    """What the soak found, as counts (the test asserts them) and as the printed table."""

    lost: int
    stored_twice: int
    missed: int
    spurious: int
    decided_twice: int
    never_told: int
    critical_implied: int
    faults: tuple[str, ...]
    table: tuple[tuple[str, str], ...]

    @property
    def failed(self) -> bool:
        return bool(
            self.lost
            or self.stored_twice
            or self.missed
            or self.spurious
            or self.decided_twice
            or self.never_told
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of publishing")
    parser.add_argument("--devices", type=int, default=2000)
    parser.add_argument(
        "--interval", type=float, default=10.0, help="s between a device's readings"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--outage", type=float, default=60.0, help="s influxd stays down")
    parser.add_argument("--faults", type=float, default=20.0, help="scale the device fault rates")
    parser.add_argument(
        "--layout",
        choices=["serve", "split"],
        default="serve",
        help="serve: one process; split: ingest --workers N + alerts + api",
    )
    parser.add_argument("--workers", type=int, default=2, help="ingest members (split layout)")
    a = parser.parse_args()
    outcome = run_soak(
        SoakOptions(
            a.duration, a.devices, a.interval, a.seed, a.outage, a.faults, a.layout, a.workers
        )
    )
    print("\nRESULT:", "FAIL" if outcome.failed else "PASS")
    sys.exit(1 if outcome.failed else 0)


def run_soak(args: SoakOptions) -> SoakOutcome:
    """One soak from start to finish: servers started and stopped, the table printed."""
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="soak-"))
    print(f"work folder {work}", flush=True)

    registry, devices = select_devices(load_registry(), args.devices)
    influx = InfluxServer(work / "influxd")
    broker = MosquittoServer(work / "mosquitto")
    influx.start()
    broker.start()
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "SALTWATCH_MQTT__URL": broker.url,
        "SALTWATCH_STORE__URL": influx.store_url("soak"),
        "SALTWATCH_STATE__PATH": str(work / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(work / "spool"),
        "SALTWATCH_REGISTRY__PATH": str(registry_file(work / "registry.toml", registry, devices)),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": json.dumps([{"role": "viewer", "token": TOKEN}]),
        "SALTWATCH_ALERTS__REPEAT": "0",  # no reminders: every notification is news
    }
    serve: Layout = (
        Split(env, work, base, args.workers) if args.layout == "split" else Serve(env, work, base)
    )
    serve.start()
    listener = AlertListener(broker.url)
    publisher = Publisher(broker.url)
    judge = MessageValidator(
        registry, ValidationConfig(limits=CodecLimits(max_backfill_s=30 * 86400))
    )
    ledger = Ledger()
    start_s = epoch(SIM_START)
    offset = time.time() - start_s
    fleet = Fleet(
        registry,
        SimConfig(
            SCENARIOS["2024"],
            args.seed,
            args.interval,
            FaultRates().scaled(args.faults),
            PREFIX,
            ts_offset_s=offset,
        ),
        devices,
    )
    faults = schedule(args.duration, rng)
    done: list[tuple[float, str]] = []
    latencies_store: list[float] = []
    stop_probe = threading.Event()

    def inject(kind: str) -> None:
        if kind == "broker-restart":
            broker.restart()
        elif kind == "influxd-outage":
            influx.stop()
            time.sleep(args.outage)
            influx.start()
        elif kind == "serve-kill":
            serve.crash()

    def probe() -> None:
        """publish → stored: now and then, one fresh reading is looked for until it is there."""
        http = httpx.Client(base_url=influx.http_url, timeout=2)
        while not stop_probe.wait(1.0):
            if not ledger.newest:
                continue
            device, ts = ledger.newest  # the reading published last: its wait starts now
            sent = ledger.expected[(device, ts)]
            kind = registry.devices[device].topic_kind
            m = measurement_for(kind)
            q = (
                f'SELECT count(*) FROM "{m.name}" WHERE "{m.device_tag}" = \'{device}\' '
                f"AND time = {ts}"
            )
            deadline = time.time() + 180  # an outage delays it: that is measured too
            while time.time() < deadline and not stop_probe.is_set():
                try:
                    body = http.post("/query", data={"db": "soak", "q": q}).json()
                    if body["results"][0].get("series"):
                        latencies_store.append(time.time() - sent)
                        break
                except (httpx.HTTPError, KeyError, ValueError):
                    pass
                time.sleep(0.02)

    threading.Thread(target=probe, daemon=True).start()
    began = time.time()
    fault_threads: list[threading.Thread] = []
    last_backlog = began
    print(
        f"{len(devices)} devices, one reading each every {args.interval:g} s for "
        f"{args.duration:g} s; faults at " + ", ".join(f"{kind} {at:.0f}s" for at, kind in faults),
        flush=True,
    )
    for message in fleet.messages(start_s, start_s + args.duration, chunk_s=60):
        due = began + (message.t_s - start_s)
        pause = due - time.time()
        if pause > 0:
            time.sleep(pause)
        now = time.time()
        publisher.publish(message.device, message.topic, message.payload, message.retain)
        ledger.messages += 1
        if "/status/" not in message.topic:
            ledger.record(judge, message.topic, message.payload, now)
        while faults and now - began >= faults[0][0]:
            _, kind = faults.pop(0)
            done.append((now - began, kind))
            if kind == "duplicates":  # 200 earlier messages again, as a device resending would
                for device_ts in rng.sample(list(ledger.sent_readings), 200):
                    reading = device_ts[1][0]
                    kind_name = reading.kind.value
                    payload = json.dumps({**reading.fields, "ts": reading.ts_ns / NS}).encode()
                    topic = f"{PREFIX}/{kind_name}/{reading.device}"
                    publisher.publish(reading.device, topic, payload)
                    ledger.record(judge, topic, payload, time.time())
                    ledger.duplicates += 1
            elif kind == "malformed":  # 200 payloads no device should send
                for n in range(200):
                    device = rng.choice(devices)
                    topic = f"{PREFIX}/{device.topic_kind.value}/{device.id}"
                    payload = [b"{broken", b'{"salinity_ppt": "x"}', b"\xff\xfe", b"[]"][n % 4]
                    publisher.publish(device.id, topic, payload)
                    ledger.record(judge, topic, payload, time.time())
                    ledger.malformed += 1
            else:
                thread = threading.Thread(target=inject, args=(kind,), daemon=True)
                thread.start()
                fault_threads.append(thread)
        if now - last_backlog >= 30:  # a burst: 20 stations upload 5 minutes kept offline
            last_backlog = now
            for device in rng.sample([d for d in devices if d.kind == "salinity"], 20):
                items = [
                    {"salinity_ppt": round(rng.uniform(0.1, 0.3), 3), "ts": now - 300 + k * 10 + 5}
                    for k in range(30)
                ]
                topic = f"{PREFIX}/salinity/{device.id}"
                payload = json.dumps(items).encode()
                publisher.publish(device.id, topic, payload)
                ledger.record(judge, topic, payload, now)
                ledger.backlog += len(items)
    publishing = time.time() - began
    for thread in fault_threads:
        thread.join(args.outage + 120)
    wait_until(lambda: publisher.acked >= publisher.sent, 300, "the broker's acknowledgements")

    stored: dict[tuple[str, int], int] = {}

    def count_stored() -> int:
        stored.clear()
        http = httpx.Client(base_url=influx.http_url, timeout=60)
        for kind in READING_KINDS:
            m = MEASUREMENTS[kind]
            q = f'SELECT "qc" FROM "{m.name}" GROUP BY "{m.device_tag}"'
            body = http.post("/query", data={"db": "soak", "q": q, "epoch": "ns"}).json()
            for series in body["results"][0].get("series", []):
                device = series["tags"][m.device_tag]
                for row in series["values"]:
                    key = (device, int(row[0]))
                    stored[key] = stored.get(key, 0) + 1
        return len(stored)

    expected_n = len(ledger.expected)
    with contextlib.suppress(TimeoutError):  # what is missing is reported below
        wait_until(lambda: count_stored() >= expected_n, 300, "every reading stored", 1.0)
    ticks = serve.ticks()
    if ticks is not None:
        wait_until(lambda: (serve.ticks() or 0) > ticks, 60, "an alert tick on what arrived last")
    else:  # the alert engine runs apart: wait until its announcements have been quiet a while
        quiet_s = 40.0  # more than two ticks of 15 s
        wait_until(
            lambda: time.time() - listener.last_event_at() > quiet_s, 300, "the alerts quiet", 1.0
        )
    stop_probe.set()
    count_stored()
    serve.stop()
    mosquitto_stats = (
        (peak_rss_mb(broker._proc.pid), cpu_seconds(broker._proc.pid))
        if broker._proc
        else (0.0, 0.0)
    )
    influx_stats = (
        (peak_rss_mb(influx._proc.pid), cpu_seconds(influx._proc.pid))
        if influx._proc
        else (0.0, 0.0)
    )
    listener.close()
    publisher.close()

    # ------------------------------------------------------------------ accounting
    lost = [k for k in ledger.expected if k not in stored]
    extra = [k for k in stored if k not in ledger.expected]
    twice = sum(n - 1 for n in stored.values() if n > 1)
    per_device_lost = Counter(device for device, _ in lost)

    live = SqliteAlertStore(work / "state.db")
    every_alert = live.all(1_000_000)
    critical_live = _episodes(every_alert)
    raised_critical = {
        a.id for a in every_alert if a.severity == "critical" and a.state != "pending"
    }
    live.close()
    replay_clock = FakeClock(ledger.sent_readings[0][0] if ledger.sent_readings else 0)
    offline_state = SqliteAlertStore(work / "replay.db")
    offline = AlertEngine(load_rules(), registry, offline_state, replay_clock, {})
    qc = QualityControl(QcSettings().to_config())
    for sent_ns, readings in ledger.sent_readings:
        replay_clock.set(sent_ns)
        offline.on_readings([qc.apply(r, measurement_for(r.kind).primary) for r in readings])
    critical_expected = _episodes(offline_state.all(1_000_000))
    offline_state.close()
    missed = critical_expected - critical_live
    spurious = critical_live - critical_expected

    told = Counter((topic, e["id"], e["state"], e["at"]) for _, topic, e in listener.events)
    repeats = sum(n - 1 for n in told.values() if n > 1)  # at-least-once: the same key again
    (work / "alert-events.json").write_text(json.dumps(listener.events))
    # a rise in severity, or a new value at the same severity after a fall, is news
    decided: dict[tuple[str, str, str, str, object], set[str]] = {}
    for _, topic, e in listener.events:
        said = (topic, e["id"], e["state"], e["severity"], e["value"])
        decided.setdefault(said, set()).add(e["at"])
    told_twice = sum(len(ats) - 1 for ats in decided.values() if len(ats) > 1)
    told_ids = {e["id"] for _, _, e in listener.events if e["state"] == "firing"}
    untold = [a for a in raised_critical if a not in told_ids]
    alert_latency = []  # from the publishing of the reading whose value the alert reports
    for arrived, topic, e in listener.events:
        if (
            e["state"] != "firing"
            or e["rule"]
            not in (
                "salinity-river",
                "salinity-intake",
                "salinity-rice",
                "salinity-fruit",
                "salinity-domestic",
            )
            or topic != f"{PREFIX}/alerts/{e['zone']}"
            or e.get("late")
        ):
            continue
        sent = [
            t for v, t in ledger.salinity.get(e["device"], []) if v == e["value"] and t <= arrived
        ]
        if sent:
            alert_latency.append(arrived - sent[-1])

    rows = [
        ("devices", f"{len(devices):,}"),
        ("messages published (acked)", f"{publisher.acked:,} in {publishing:.0f} s"),
        ("  of which duplicates / malformed", f"{ledger.duplicates} / {ledger.malformed}"),
        ("  backlog readings in bursts", f"{ledger.backlog:,}"),
        ("faults injected", ", ".join(f"{k} @{t:.0f}s" for t, k in done)),
        ("valid readings sent (distinct)", f"{expected_n:,}"),
        ("readings stored", f"{len(stored):,}"),
        (
            "rejected items, by reason",
            ", ".join(f"{r} {n}" for r, n in ledger.rejected.most_common()),
        ),
        (
            "LOST",
            f"{len(lost)}" + (f" (devices {dict(per_device_lost.most_common(5))})" if lost else ""),
        ),
        ("stored but never sent", f"{len(extra)}"),
        ("STORED TWICE", f"{twice}"),
        (
            "critical salinity episodes implied / raised",
            f"{len(critical_expected)} / {len(critical_live)}",
        ),
        ("MISSED / SPURIOUS critical episodes", f"{len(missed)} / {len(spurious)}"),
        ("alert events received", f"{len(listener.events):,}"),
        ("CRITICAL ALERTS NEVER TOLD", f"{len(untold)}"),
        ("NOTIFICATIONS DECIDED TWICE (same alert, state, other time)", f"{told_twice}"),
        ("notification repeats (same id, state, at: at-least-once)", f"{repeats}"),
        ("publish → stored p50/p95/p99 s", _pcts(latencies_store)),
        ("publish → alert p50/p95/p99 s", _pcts(alert_latency)),
        (
            f"saltwatch ({serve.name}) peak RSS MB / CPU s",
            ", ".join(f"{name} {r:.0f}/{c:.0f}" for name, r, c in serve.stats),
        ),
        ("mosquitto peak RSS MB / CPU s", f"{mosquitto_stats[0]:.0f}/{mosquitto_stats[1]:.0f}"),
        ("influxd peak RSS MB / CPU s", f"{influx_stats[0]:.0f}/{influx_stats[1]:.0f}"),
    ]
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    if missed or spurious:
        print(f"missed {sorted(missed)[:5]} spurious {sorted(spurious)[:5]}")
    broker.stop()
    influx.stop()
    return SoakOutcome(
        lost=len(lost),
        stored_twice=twice,
        missed=len(missed),
        spurious=len(spurious),
        decided_twice=told_twice,
        never_told=len(untold),
        critical_implied=len(critical_expected),
        faults=tuple(k for _, k in done),
        table=tuple(rows),
    )


def _episodes(alerts: list[Any]) -> set[tuple[str, int]]:
    """Critical episodes of the instantaneous salinity rules that were raised: (fingerprint,
    start). A pending alert (its hold not over when the soak ended) was never raised: its start
    is where the run stood when first seen, which depends on how readings were grouped, and
    when it fires it takes the run's start at that moment."""
    return {
        (a.fingerprint, a.started_at_ns)
        for a in alerts
        if a.state != "pending"
        and a.kind == "salinity"
        and a.severity == "critical"
        and a.rule.startswith("salinity-")
        and not a.rule.endswith("-tidal-day")
        and a.rule != "salinity-rise"
    }


def _pcts(values: list[float]) -> str:
    if not values:
        return "–"
    ordered = sorted(values)

    def at(p: float) -> float:
        return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]

    return f"{at(50):.2f} / {at(95):.2f} / {at(99):.2f}  ({len(values)} samples)"


if __name__ == "__main__":
    main()
