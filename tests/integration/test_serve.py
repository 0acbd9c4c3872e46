"""``saltwatch serve`` as a process: readings in over MQTT, alerts out over the API."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.ingest_helpers import serve_process
from tests.mqtt_tools import Publisher
from tests.services import MosquittoServer, free_port, wait_until

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
