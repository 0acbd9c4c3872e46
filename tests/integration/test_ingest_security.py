"""Ingest's broker login and TLS against a real mosquitto."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.mqtt_tools import Publisher
from harness.registries import write_registry
from harness.services import MosquittoServer, tls_listener, wait_until
from saltwatch.core.clock import SystemClock
from saltwatch.core.errors import AuthError
from saltwatch.core.topics import TopicKind
from saltwatch.ingest.mqtt import MqttConsumer
from saltwatch.storage.sqlite import SqliteReadingStore
from saltwatch.wiring import ingest_service
from tests.conftest import need_binary
from tests.integration.ingest_helpers import ingest_settings, make_registry

pytestmark = pytest.mark.integration


def password_file(folder: Path, users: dict[str, str]) -> Path:
    path = folder / "passwd"
    path.touch()
    for user, password in users.items():
        subprocess.run(["mosquitto_passwd", "-b", str(path), user, password], check=True)
    return path


@pytest.fixture
def secured_broker(tmp_path: Path) -> Iterator[MosquittoServer]:
    need_binary("mosquitto", "mosquitto")
    passwd = password_file(tmp_path, {"backend": "b4ckend-pw", "vam-kenh": "dev-pw"})
    server = MosquittoServer(tmp_path / "mq", password_file=passwd)
    server.start()
    yield server
    server.stop()


def with_credentials(url: str, user: str, password: str) -> str:
    return url.replace("mqtt://", f"mqtt://{user}:{password}@")


def test_ingest_logs_in_with_url_credentials(
    secured_broker: MosquittoServer, tmp_path: Path, topic_prefix: str
) -> None:
    store = SqliteReadingStore(tmp_path / "r.db")
    url = with_credentials(secured_broker.url, "backend", "b4ckend-pw")
    settings = ingest_settings(
        tmp_path,
        url,
        f"sqlite:///{tmp_path}/r.db",
        topic_prefix,
        write_registry(tmp_path / "registry.toml"),
    )
    service = ingest_service(settings, make_registry(tmp_path), store)
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert service.consumer.connected.wait(15)
        publisher = Publisher(with_credentials(secured_broker.url, "vam-kenh", "dev-pw"))
        publisher.publish_all(
            [
                (
                    f"{topic_prefix}/salinity/d000",
                    orjson.dumps({"salinity_ppt": 1.5, "ts": time.time() - 5}),
                )
            ]
        )
        publisher.close()
        wait_until(lambda: store.count(TopicKind.SALINITY) == 1, 15, "the reading")
    finally:
        stop.set()
        thread.join(20)
        store.close()


@pytest.mark.parametrize("credentials", [("backend", "wrong"), ("nobody", "x"), None])
def test_refused_login_stops_with_a_clear_error(
    secured_broker: MosquittoServer,
    tmp_path: Path,
    topic_prefix: str,
    credentials: tuple[str, str] | None,
) -> None:
    url = with_credentials(secured_broker.url, *credentials) if credentials else secured_broker.url
    settings = ingest_settings(
        tmp_path,
        url,
        f"sqlite:///{tmp_path}/r.db",
        topic_prefix,
        write_registry(tmp_path / "registry.toml"),
    )
    store = SqliteReadingStore(tmp_path / "r.db")
    service = ingest_service(settings, make_registry(tmp_path), store)
    started = time.monotonic()
    with pytest.raises(AuthError, match="refused the login"):
        service.run(threading.Event())
    assert time.monotonic() - started < 10  # no retry loop
    store.close()


def test_ingest_over_tls(tmp_path: Path, topic_prefix: str) -> None:
    need_binary("mosquitto", "mosquitto")
    ca_file, listener = tls_listener(tmp_path)
    tls_port = int(listener.split()[1])
    broker = MosquittoServer(tmp_path / "mq-tls", extra=listener)
    broker.start()
    store = SqliteReadingStore(tmp_path / "r.db")
    try:
        settings = ingest_settings(
            tmp_path,
            f"mqtts://127.0.0.1:{tls_port}",
            f"sqlite:///{tmp_path}/r.db",
            topic_prefix,
            write_registry(tmp_path / "registry.toml"),
        )
        mqtt_tls = settings.mqtt.model_copy(update={"ca_file": ca_file})
        service = ingest_service(
            settings.model_copy(update={"mqtt": mqtt_tls}), make_registry(tmp_path), store
        )
        stop = threading.Event()
        thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
        thread.start()
        try:
            assert service.consumer.connected.wait(15), "no TLS connection"
            publisher = Publisher(broker.url)  # the plain listener, for the device side
            publisher.publish_all(
                [
                    (
                        f"{topic_prefix}/salinity/d000",
                        orjson.dumps({"salinity_ppt": 2.0, "ts": time.time() - 5}),
                    )
                ]
            )
            publisher.close()
            wait_until(lambda: store.count(TopicKind.SALINITY) == 1, 15, "the reading over TLS")
        finally:
            stop.set()
            thread.join(20)
    finally:
        store.close()
        broker.stop()


def test_a_takeover_of_ingests_client_id_is_said_loudly(
    mosquitto: MosquittoServer, topic_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    """On a broker that does not bind client ids to logins, another client connecting with
    ingest's client id throws it off and can take what the broker held for it: ingest cannot
    prevent that, but it says so (an error in the log, and ``session_lost_at`` for the
    ``broker-session-lost`` system alert) instead of a quiet "session present: False"."""
    consumer = MqttConsumer(
        mosquitto.url, "saltwatch-ingest", topic_prefix, lambda batch: None, SystemClock()
    )
    consumer.start()
    try:
        wait_until(consumer.connected.is_set, 15, "ingest connected")
        assert consumer.session_lost_at is None
        for _ in range(3):  # clean sessions: each discards the one the broker kept for ingest
            thief = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="saltwatch-ingest")
            thief.connect("127.0.0.1", mosquitto.port)
            thief.loop_start()
            wait_until(thief.is_connected, 10, "the thief's connection")
            thief.disconnect()
            thief.loop_stop()
            wait_until(consumer.connected.is_set, 15, "ingest back")
        assert consumer.session_lost_at is not None
        assert any("lost or taken over" in r.getMessage() for r in caplog.records)
    finally:
        consumer.stop()
