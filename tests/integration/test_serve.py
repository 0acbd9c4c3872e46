"""``saltwatch serve`` as a process: readings in over MQTT, alerts out over the API."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest

from harness.mqtt_tools import Publisher
from harness.services import InfluxServer, MosquittoServer, free_port, wait_until
from saltwatch.core.topics import TopicKind
from saltwatch.storage.influx import InfluxReadingStore
from tests.alert_tools import rivers_alerting_file
from tests.integration.ingest_helpers import serve_process

pytestmark = pytest.mark.integration
VIEWER, OPERATOR = "viewer-token-0123456789", "operator-token-0123456789"


def test_serve_ingests_alerts_and_answers_the_api(
    mosquitto: MosquittoServer, tmp_path: Path, topic_prefix: str
) -> None:
    port = free_port()
    tokens = [{"role": "viewer", "token": VIEWER}, {"role": "operator", "token": OPERATOR}]
    env = {
        **os.environ,
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": orjson.dumps(tokens).decode(),
        "SALTWATCH_ALERTS__RULES_PATH": str(rivers_alerting_file(tmp_path)),
    }
    log = tmp_path / "serve.log"
    base = f"http://127.0.0.1:{port}"
    process = serve_process(env, log, base)
    try:
        publisher = Publisher(mosquitto.url)
        payload = orjson.dumps({"ts": time.time() - 60, "salinity_ppt": 4.8})
        publisher.publish_all([(f"{topic_prefix}/salinity/vam-kenh", payload)])
        publisher.close()
        viewer = {"Authorization": f"Bearer {VIEWER}"}

        def firing() -> list[dict[str, object]]:
            page = httpx.get(
                f"{base}/api/v1/alerts", params={"state": "firing"}, headers=viewer
            ).json()
            return [a for a in page["items"] if a["rule"] == "salinity-river"]

        wait_until(lambda: bool(firing()), 10, "the alert in the API")
        alert_id = firing()[0]["id"]
        ack = httpx.post(
            f"{base}/api/v1/alerts/{alert_id}/ack",
            json={"by": "Lan"},
            headers={"Authorization": f"Bearer {OPERATOR}"},
        )
        assert ack.status_code == 200 and ack.json()["state"] == "acknowledged"
        stations = httpx.get(f"{base}/api/v1/stations", headers=viewer).json()
        latest = next(s for s in stations if s["id"] == "vam-kenh")["latest"]
        assert latest["values"]["salinity_ppt"] == 4.8
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        assert OPERATOR not in log.read_text() and VIEWER not in log.read_text()
    finally:
        if process.poll() is None:
            process.kill()


def test_a_late_backlog_does_not_hold_up_other_devices(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """The attack: 100 messages of 64 KiB stamped 20 days back took 94.5 s to store and held
    another device's reading up by 101 s (the engine judged each late reading on ingest's
    writer thread). Now the backlog is judged in the judge's own paced passes: a fresh reading
    of another station is stored and judged within seconds while the backlog drains."""
    port = free_port()
    store_url = influxd.store_url(influx_db)
    env = {
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
        "SALTWATCH_STORE__URL": store_url,
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": orjson.dumps([{"role": "viewer", "token": VIEWER}]).decode(),
    }
    base = f"http://127.0.0.1:{port}"
    process = serve_process(env, tmp_path / "serve.log", base)
    store = InfluxReadingStore(store_url)
    try:
        start = time.time() - 20 * 86400
        backlog = []
        for m in range(100):  # about 64 KiB each: 1,400 items of one station, a second apart
            items = [
                {"ts": start + m * 1400 + i, "salinity_ppt": round(0.3 + (i % 50) / 100, 2)}
                for i in range(1400)
            ]
            body = orjson.dumps(items)
            assert 60_000 < len(body) <= 65_536
            backlog.append((f"{topic_prefix}/salinity/vam-kenh", body))
        publisher = Publisher(mosquitto.url)
        publisher.publish_all(backlog)
        sent = time.monotonic()
        fresh = orjson.dumps({"ts": time.time(), "salinity_ppt": 9.5})
        publisher.publish_all([(f"{topic_prefix}/salinity/xuan-hoa", fresh)])
        publisher.close()
        viewer = {"Authorization": f"Bearer {VIEWER}"}

        def judged() -> bool:
            page = httpx.get(
                f"{base}/api/v1/alerts", params={"state": "firing"}, headers=viewer
            ).json()
            return any(a["device"] == "xuan-hoa" for a in page["items"])

        wait_until(judged, 20, "the fresh reading's alert while the backlog drains")
        assert time.monotonic() - sent < 20
        wait_until(
            lambda: store.count(TopicKind.SALINITY) >= 140_001, 120, "the backlog stored", 0.5
        )
    finally:
        store.close()
        process.send_signal(signal.SIGTERM)
        process.wait(30)
