"""Generated device credentials on a real mosquitto: its own password file format and the ACL."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.mqtt_tools import Collector, Publisher
from harness.services import MosquittoServer, wait_until
from saltwatch.core.registry import load_registry
from saltwatch.credentials import BACKEND_USER, Login, generate, write_files
from tests.conftest import need_binary

pytestmark = pytest.mark.integration


@pytest.fixture
def secured(
    tmp_path: Path, topic_prefix: str
) -> Iterator[tuple[MosquittoServer, dict[str, Login]]]:
    need_binary("mosquitto", "mosquitto")
    registry = load_registry()
    devices = [registry.devices["vam-kenh"], registry.devices["xuan-hoa"]]
    outcome = generate(devices, {})
    files = write_files(outcome, tmp_path / "secrets", topic_prefix)
    server = MosquittoServer(tmp_path / "mq", password_file=files["passwd"], acl_file=files["acl"])
    server.start()
    yield server, {x.device: x for x in outcome.logins}
    server.stop()


def login_url(server: MosquittoServer, login: Login) -> str:
    return server.url.replace("mqtt://", f"mqtt://{login.username}:{login.password}@")


def test_devices_publish_only_their_own_topics(
    secured: tuple[MosquittoServer, dict[str, Login]], topic_prefix: str
) -> None:
    server, logins = secured
    backend = Collector(login_url(server, logins[BACKEND_USER]), [f"{topic_prefix}/#"])
    vam_kenh = Publisher(login_url(server, logins["vam-kenh"]), "dev-vam-kenh")
    xuan_hoa = Publisher(login_url(server, logins["xuan-hoa"]), "dev-xuan-hoa")
    try:
        forged = (f"{topic_prefix}/salinity/xuan-hoa", b'{"salinity_ppt": 9.9}')
        alerts = (f"{topic_prefix}/alerts/go-cong-dong", b"{}")
        # a device's own id under a topic kind that is not its own: a forged "resolved" alert
        # on alerts/<its id> once reached every subscriber of alerts/#
        own_alert = (f"{topic_prefix}/alerts/vam-kenh", b'{"state": "resolved"}')
        own_front = (f"{topic_prefix}/saltfront/vam-kenh", b"{}")
        own = (f"{topic_prefix}/salinity/vam-kenh", b'{"salinity_ppt": 1.0}')
        status = (f"{topic_prefix}/status/vam-kenh", b"online")
        # the forged and the alert publishes go first: once the own ones (same client, QoS 1,
        # ordered) have arrived, the others would have too
        vam_kenh.publish_all([forged, alerts, own_alert, own_front, own, status])
        xuan_hoa.publish_all([(f"{topic_prefix}/salinity/xuan-hoa", b'{"salinity_ppt": 2.0}')])
        wait_until(lambda: len(backend.snapshot()) >= 3, 15, "the permitted messages")
        received = backend.snapshot()
        assert own in received and status in received
        assert (f"{topic_prefix}/salinity/xuan-hoa", b'{"salinity_ppt": 2.0}') in received
        assert forged not in received and alerts not in received
        assert own_alert not in received and own_front not in received
        assert len(received) == 3
    finally:
        vam_kenh.close()
        xuan_hoa.close()
        backend.close()


def connect_result(server: MosquittoServer, user: str | None, password: str | None) -> str:
    """The broker's answer to a login: the CONNACK reason, as text."""
    answered = threading.Event()
    result: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{user}")
    if user is not None:
        client.username_pw_set(user, password)

    def on_connect(c: mqtt.Client, u: object, flags: object, reason: object, p: object) -> None:
        result.append(str(reason))
        answered.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", server.port, 10)
    client.loop_start()
    try:
        wait_until(answered.is_set, 10, "the broker's answer")
    finally:
        client.disconnect()
        client.loop_stop()
    return result[0]


def test_wrong_password_and_anonymous_are_refused(
    secured: tuple[MosquittoServer, dict[str, Login]],
) -> None:
    server, logins = secured
    good = logins["vam-kenh"]
    assert connect_result(server, good.username, good.password) == "Success"
    assert connect_result(server, good.username, good.password + "x") == "Not authorized"
    assert connect_result(server, "xuan-hoa", good.password) == "Not authorized"
    assert connect_result(server, None, None) == "Not authorized"


def test_zone_readers_hear_their_zone_alone(tmp_path: Path, topic_prefix: str) -> None:
    need_binary("mosquitto", "mosquitto")
    registry = load_registry()
    outcome = generate([registry.devices["vam-kenh"]], {}, readers=["xa-tan-dong"])
    files = write_files(outcome, tmp_path / "secrets", topic_prefix)
    logins = {x.device: x for x in outcome.logins}
    assert logins["zone-xa-tan-dong"].kind == "zone-reader"
    server = MosquittoServer(tmp_path / "mq", password_file=files["passwd"], acl_file=files["acl"])
    server.start()
    reader = Collector(login_url(server, logins["zone-xa-tan-dong"]), [f"{topic_prefix}/#"])
    device = Collector(login_url(server, logins["vam-kenh"]), [f"{topic_prefix}/alerts/#"])
    backend = Publisher(login_url(server, logins[BACKEND_USER]), "backend-out")
    try:
        other = (f"{topic_prefix}/alerts/go-cong-tay", b'{"zone": "go-cong-tay"}')
        reading = (f"{topic_prefix}/salinity/vam-kenh", b'{"salinity_ppt": 1}')
        mine = (f"{topic_prefix}/alerts/xa-tan-dong", b'{"zone": "xa-tan-dong"}')
        backend.publish_all([other, reading, mine])  # in order: once "mine" is in, so are they
        wait_until(lambda: bool(reader.snapshot()), 15, "the reader's alert")
        assert reader.snapshot() == [mine]  # not the other zone, not the device's reading
        # a device hears no alerts at all: publish one more and wait for the reader to get it
        backend.publish_all([mine])
        wait_until(lambda: len(reader.snapshot()) == 2, 15, "the second alert")
        assert device.snapshot() == []
    finally:
        backend.close()
        reader.close()
        device.close()
        server.stop()
