"""The demo's embedded broker (amqtt) holds the same lines as the production Mosquitto config:
client ids bound to logins, and no packet larger than ingest accepts."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.mqtt_tools import Collector
from harness.services import wait_until
from saltwatch.broker import EmbeddedBroker, free_port
from saltwatch.core.registry import load_registry
from saltwatch.credentials import BACKEND_USER, Login, generate, write_files

pytestmark = pytest.mark.integration


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[tuple[EmbeddedBroker, dict[str, Login]]]:
    registry = load_registry()
    outcome = generate([registry.devices["vam-kenh"]], {})
    files = write_files(outcome, tmp_path / "s", "saltwatch")
    embedded = EmbeddedBroker(free_port(), files["passwd"], max_packet_bytes=4096)
    embedded.start()
    yield embedded, {x.device: x for x in outcome.logins}
    embedded.stop()


def client(broker: EmbeddedBroker, login: Login, client_id: str) -> tuple[mqtt.Client, list[str]]:
    """A connected (or refused) paho client and the CONNACK / disconnect reasons it saw."""
    seen: list[str] = []
    paho = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    paho.username_pw_set(login.username, login.password)
    paho.on_connect = lambda c, u, f, reason, p: seen.append(f"connect:{reason.getName()}")
    paho.on_disconnect = lambda c, u, f, reason, p: seen.append("disconnect")
    paho.reconnect_delay_set(30, 30)  # no retry while the test looks
    paho.connect("127.0.0.1", broker.port)
    paho.loop_start()
    wait_until(lambda: bool(seen), 10, "the broker's answer")
    return paho, seen


def url(broker: EmbeddedBroker, login: Login) -> str:
    return broker.url.replace("mqtt://", f"mqtt://{login.username}:{login.password}@")


def test_a_device_cannot_use_another_client_id(
    broker: tuple[EmbeddedBroker, dict[str, Login]],
) -> None:
    embedded, logins = broker
    backend = Collector(url(embedded, logins[BACKEND_USER]), ["saltwatch/#"])
    try:
        thief, seen = client(embedded, logins["vam-kenh"], "saltwatch-ingest")
        assert seen[0] != "connect:Success"
        thief.loop_stop()
        own, seen = client(embedded, logins["vam-kenh"], "vam-kenh")
        assert seen == ["connect:Success"]
        own.publish("saltwatch/salinity/vam-kenh", b'{"salinity_ppt": 1.0}', qos=1)
        wait_until(lambda: bool(backend.snapshot()), 10, "the device's own reading")
        own.disconnect()
        own.loop_stop()
    finally:
        backend.close()


def test_a_packet_over_the_limit_is_refused_at_its_header(
    broker: tuple[EmbeddedBroker, dict[str, Login]],
) -> None:
    embedded, logins = broker
    backend = Collector(url(embedded, logins[BACKEND_USER]), ["saltwatch/#"])
    try:
        big, seen = client(embedded, logins["vam-kenh"], "vam-kenh")
        big.publish("saltwatch/salinity/vam-kenh", b"x" * 100_000, qos=0)
        wait_until(lambda: "disconnect" in seen, 10, "the broker closing the connection")
        big.loop_stop()
        small, _ = client(embedded, logins["vam-kenh"], "vam-kenh")
        small.publish("saltwatch/salinity/vam-kenh", b'{"salinity_ppt": 1.0}', qos=1)
        wait_until(lambda: bool(backend.snapshot()), 10, "the next, small reading")
        assert backend.snapshot() == [("saltwatch/salinity/vam-kenh", b'{"salinity_ppt": 1.0}')]
        small.disconnect()
        small.loop_stop()
    finally:
        backend.close()
