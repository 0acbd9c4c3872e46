"""Shared pieces of the ingest integration tests: a 200-device registry, a message mix, runners."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson

from harness.registries import device_ids, write_registry
from harness.services import wait_until
from saltwatch.core.registry import Registry, load_registry
from saltwatch.core.settings import Settings, load_settings
from saltwatch.core.store import ReadingStore
from saltwatch.ingest.service import IngestService
from saltwatch.wiring import ingest_service


def make_registry(tmp_path: Path, count: int = 200) -> Registry:
    return load_registry(write_registry(tmp_path / "registry.toml", count))


def good_item(kind: str, ts: float, seq: int, rng: random.Random) -> dict[str, Any]:
    if kind == "salinity":
        return {
            "ts": ts,
            "seq": seq,
            "salinity_ppt": round(rng.uniform(0.1, 12.0), 3),
            "temp_c": 29.0,
        }
    if kind == "well":
        return {
            "ts": ts,
            "seq": seq,
            "running": rng.random() < 0.8,
            "flow_m3h": round(rng.uniform(0, 40), 2),
        }
    return {"ts": ts, "seq": seq, "open": True, "flow_lpm": round(rng.uniform(0, 60), 2)}


BAD_ITEMS: list[tuple[dict[str, Any], str]] = [
    (
        {"salinity_ppt": 99.0, "running": True, "open": True, "tank_pct": 150.0, "flow_m3h": -3.0},
        "out_of_range",
    ),
    ({"salinity_ppt": "x", "running": "on", "open": "yes"}, "wrong_type"),
    ({"temp_c": 20.0}, "missing_field"),
    ({"salinity_ppt": 1.0, "running": True, "open": True, "ts": "not a time"}, "bad_timestamp"),
]


@dataclass
class Mix:
    """Messages to publish and what must come of them."""

    messages: list[tuple[str, bytes]] = field(default_factory=list)
    valid: Counter[str] = field(default_factory=Counter)  # device -> valid items
    rejected: Counter[str] = field(default_factory=Counter)  # reason -> items

    @property
    def valid_total(self) -> int:
        return sum(self.valid.values())


def make_mix(
    prefix: str,
    per_device: int = 50,
    devices: int = 200,
    bad_share: float = 0.05,
    seed: int = 7,
    start_s: float | None = None,
) -> Mix:
    """``per_device`` items for each device, as singles, batches of 5 and SenML packs of 2."""
    rng = random.Random(seed)
    mix = Mix()
    base = start_s if start_s is not None else time.time() - 2 * 86400
    for ident, kind in device_ids(devices):
        items: list[tuple[dict[str, Any], str | None]] = []
        for n in range(per_device):
            if rng.random() < bad_share:
                bad, reason = rng.choice(BAD_ITEMS)
                items.append((dict(bad, ts=bad.get("ts", base + n * 60)), reason))
            else:
                items.append((good_item(kind, base + n * 60, n, rng), None))
        topic = f"{prefix}/{kind}/{ident}"
        i = 0
        while i < len(items):
            shape = rng.choice(["single", "single", "batch", "senml"])
            size = {"single": 1, "batch": 5, "senml": 2}[shape]
            chunk = items[i : i + size]
            i += size
            if shape == "senml" and all(reason is None for _, reason in chunk):
                mix.messages.append((topic, orjson.dumps(senml(chunk_items(chunk)))))
            elif shape == "single" and len(chunk) == 1:
                mix.messages.append((topic, orjson.dumps(chunk[0][0])))
            else:
                mix.messages.append((topic, orjson.dumps([item for item, _ in chunk])))
            for _, why in chunk:
                if why is None:
                    mix.valid[ident] += 1
                else:
                    mix.rejected[why] += 1
    return mix


def chunk_items(chunk: list[tuple[dict[str, Any], str | None]]) -> list[dict[str, Any]]:
    return [item for item, _ in chunk]


def senml(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    for item in items:
        first = True
        for name, value in item.items():
            if name == "ts":
                continue
            record: dict[str, Any] = {"n": name, "t": item["ts"]}
            record["vb" if isinstance(value, bool) else "v"] = value
            if first and not records:
                record["bn"] = "urn:dev:x:"
            first = False
            records.append(record)
    return records


def ingest_settings(
    tmp_path: Path,
    mqtt_url: str,
    store_url: str,
    prefix: str,
    registry: Path,
    fast_path: bool = True,
    **ingest: Any,
) -> Settings:
    env = {
        "SALTWATCH_MQTT__URL": mqtt_url,
        "SALTWATCH_MQTT__FAST_PATH": str(fast_path).lower(),
        "SALTWATCH_MQTT__TOPIC_PREFIX": prefix,
        "SALTWATCH_MQTT__CLIENT_ID": "ingest-" + prefix,
        "SALTWATCH_STORE__URL": store_url,
        "SALTWATCH_REGISTRY__PATH": str(registry),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        **{f"SALTWATCH_INGEST__{k.upper()}": str(v) for k, v in ingest.items()},
    }
    return settings_from_env(env)


def settings_from_env(env: dict[str, str]) -> Settings:
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@contextmanager
def running_ingest(
    settings: Settings, registry: Registry, store: ReadingStore
) -> Iterator[IngestService]:
    service = ingest_service(settings, registry, store, report_every_s=5)
    stop = threading.Event()
    failure: list[BaseException] = []

    def run() -> None:
        try:
            service.run(stop)
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        service.consumer.connected.wait(15)
        yield service
    finally:
        stop.set()
        thread.join(30)
    if failure:
        raise failure[0]


def ingest_process(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """``saltwatch ingest`` as its own process (for SIGKILL tests)."""
    exe = Path(sys.executable).with_name("saltwatch")
    handle = log.open("ab")
    return subprocess.Popen(
        [str(exe), "ingest"], env={**os.environ, **env}, stdout=handle, stderr=subprocess.STDOUT
    )


def serve_process(env: dict[str, str], log: Path, base: str) -> subprocess.Popen[bytes]:
    """``saltwatch serve`` as its own process, once its API at ``base`` says ok."""
    exe = Path(sys.executable).with_name("saltwatch")
    process = subprocess.Popen(
        [str(exe), "serve"],
        env={**os.environ, **env},
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )

    def healthy() -> bool:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            return bool(httpx.get(f"{base}/health", timeout=1).json()["status"] == "ok")
        except httpx.HTTPError:
            return False

    wait_until(healthy, 30, "saltwatch serve's /health")
    return process
