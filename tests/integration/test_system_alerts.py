"""System alerts, inhibition and grouped notifications (docs/interface.md) on ``saltwatch serve``
with
a real mosquitto that is stopped and started again."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.mqtt_tools import Collector
from harness.services import MosquittoServer, free_port, wait_until
from tests.integration.ingest_helpers import serve_process

pytestmark = pytest.mark.integration
VIEWER = "viewer-token-0123456789"
DEVICES = ("d1", "d2", "d3")


def write_registry(path: Path) -> Path:
    """Three stations reporting every second in one commune (no-data after 3 s of silence)."""
    lines = [
        'name = "test"',
        '[[zone]]\nid = "prov"\nname = "Tỉnh"\nkind = "province"',
        '[[zone]]\nid = "xa"\nname = "Xã Thử"\nkind = "commune"\nparent = "prov"',
    ]
    for device in DEVICES:
        lines.append(
            f'[[device]]\nid = "{device}"\nkind = "salinity"\nname = "Trạm {device}"\n'
            'zone = "xa"\nprofile = "river"\ninterval_s = 1'
        )
    path.write_text("\n\n".join(lines) + "\n")
    return path


class Field:
    """Devices publishing a fresh low reading every 0.2 s; ``silent`` ones publish nothing."""

    def __init__(self, url: str, prefix: str) -> None:
        self.silent: set[str] = set()
        self.prefix = prefix
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="field")
        host, port = url.removeprefix("mqtt://").split(":")
        self.client.reconnect_delay_set(1, 1)  # back as soon as the broker is
        self.client.connect(host, int(port))
        self.client.loop_start()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            for device in DEVICES:
                if device not in self.silent and self.client.is_connected():
                    payload = orjson.dumps({"ts": time.time(), "salinity_ppt": 0.2})
                    self.client.publish(f"{self.prefix}/salinity/{device}", payload, qos=1)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def serve(mosquitto: MosquittoServer, tmp_path: Path, topic_prefix: str) -> Iterator[str]:
    port = free_port()
    env = {
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_REGISTRY__PATH": str(write_registry(tmp_path / "registry.toml")),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TOKENS": orjson.dumps([{"role": "viewer", "token": VIEWER}]).decode(),
        "SALTWATCH_ALERTS__TICK_S": "0.3",
        # longer than a device's no-data limit (3 s): when it fires, no-data would have too
        "SALTWATCH_ALERTS__SYSTEM_AFTER": "5s",
    }
    base = f"http://127.0.0.1:{port}"
    process = serve_process(env, tmp_path / "serve.log", base)
    try:
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)


def open_alerts(base: str) -> list[dict[str, Any]]:
    page = httpx.get(
        f"{base}/api/v1/alerts",
        params={"limit": 500},
        headers={"Authorization": f"Bearer {VIEWER}"},
        timeout=5,
    ).json()
    return [a for a in page["items"] if a["state"] in ("firing", "acknowledged")]


def told(collector: Collector, rule: str) -> list[dict[str, Any]]:
    return [m for m in map(orjson.loads, (p for _, p in collector.messages)) if m["rule"] == rule]


def test_devices_silent_together_are_one_notification_naming_how_many(
    mosquitto: MosquittoServer, serve: str, topic_prefix: str
) -> None:
    collector = Collector(mosquitto.url, [f"{topic_prefix}/alerts/#"])
    field = Field(mosquitto.url, topic_prefix)
    try:
        wait_until(lambda: httpx.get(f"{serve}/health").json()["broker"], 10, "serve subscribed")
        field.silent |= {"d2", "d3"}
        wait_until(lambda: len(told(collector, "nodata")) >= 2, 60, "no-data notifications")
        for message in told(collector, "nodata"):  # one per zone topic (xa, prov), not per device
            assert message["group"] == "nodata:xa" and message["group_size"] == 2
            assert "Mất dữ liệu từ 2 thiết bị tại Xã Thử" in message["message_vi"]
            assert sorted(message["devices"]) == ["d2", "d3"]
        assert len(told(collector, "nodata")) == 2
        listed = [a for a in open_alerts(serve) if a["rule"] == "nodata"]
        assert sorted(a["device"] for a in listed) == ["d2", "d3"]
        assert {a["group"] for a in listed} == {"nodata:xa"}
    finally:
        field.close()
        collector.close()


def test_a_lost_broker_is_one_system_alert_and_no_device_goes_no_data(
    mosquitto: MosquittoServer, serve: str, topic_prefix: str
) -> None:
    field = Field(mosquitto.url, topic_prefix)
    try:
        wait_until(lambda: httpx.get(f"{serve}/health").json()["broker"], 10, "serve subscribed")
        mosquitto.stop()

        def system() -> list[dict[str, Any]]:
            return [a for a in open_alerts(serve) if a["kind"] == "system"]

        wait_until(lambda: bool(system()), 30, "the broker-disconnected alert")
        (alert,) = system()
        assert alert["rule"] == "broker-disconnected" and alert["severity"] == "critical"
        assert alert["zone"] == "prov" and alert["group"] == "ingest:broker"
        assert "mất kết nối với máy chủ MQTT" in alert["message_vi"]
        # 5 s blind, past every device's 3 s limit: their no-data alerts are held back
        assert not [a for a in open_alerts(serve) if a["rule"] == "nodata"]
        mosquitto.start()
        wait_until(lambda: not system(), 30, "the system alert resolved")
        # sight regained: the backlog and the fresh readings keep every device in view
        assert not [a for a in open_alerts(serve) if a["rule"] == "nodata"]
        resolved = httpx.get(
            f"{serve}/api/v1/alerts",
            params={"kind": "system", "state": "resolved"},
            headers={"Authorization": f"Bearer {VIEWER}"},
        ).json()["items"]
        assert [a["rule"] for a in resolved] == ["broker-disconnected"]
    finally:
        field.close()
