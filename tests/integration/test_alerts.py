"""Alerts end to end with a real mosquitto: readings in, events out on the zone topics."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest

from harness.mqtt_tools import Collector, Publisher
from harness.services import MosquittoServer, wait_until
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import Settings
from saltwatch.core.topics import TopicKind
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.sqlite import SqliteReadingStore
from saltwatch.wiring import build_engine, ingest_service
from tests.alert_tools import rivers_alerting_file
from tests.integration.ingest_helpers import ingest_process, settings_from_env

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.integration


def serve_settings(tmp_path: Path, url: str, prefix: str) -> Settings:
    return settings_from_env(
        {
            "SALTWATCH_MQTT__URL": url,
            "SALTWATCH_MQTT__TOPIC_PREFIX": prefix,
            "SALTWATCH_MQTT__CLIENT_ID": f"ingest-{prefix}",
            "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
            "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
            "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
            "SALTWATCH_ALERTS__TICK_S": "3600",
            "SALTWATCH_ALERTS__RULES_PATH": str(rivers_alerting_file(tmp_path)),
        }
    )


class Served:
    """Ingest + alerts in this process, as ``saltwatch serve`` composes them."""

    def __init__(self, settings: Settings) -> None:
        self.registry = load_registry()
        self.store = SqliteReadingStore(settings.store.url.removeprefix("sqlite:///"))
        self.ingest = ingest_service(settings, self.registry, self.store)
        self.engine = build_engine(settings, self.registry, SqliteAlertStore(settings.state.path))
        self.ingest.pipeline.add_listener(self.engine.on_readings)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.ingest.run, args=(self.stop,), daemon=True)

    def __enter__(self) -> Served:
        self.engine.start(3600)
        self.thread.start()
        assert self.ingest.consumer.connected.wait(15)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(20)
        self.engine.stop()
        self.engine.state.close()
        self.store.close()


@pytest.fixture
def alerts_seen(mosquitto: MosquittoServer, topic_prefix: str) -> Iterator[Collector]:
    collector = Collector(mosquitto.url, [f"{topic_prefix}/alerts/+"])
    yield collector
    collector.close()


def process_env(mosquitto: MosquittoServer, tmp_path: Path, prefix: str) -> dict[str, str]:
    """The environment of a ``saltwatch`` process under test."""
    return {
        **os.environ,
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": prefix,
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_ALERTS__RULES_PATH": str(rivers_alerting_file(tmp_path)),
    }


@contextlib.contextmanager
def ingest_beside(env: dict[str, str], folder: Path) -> Iterator[Path]:
    """``saltwatch ingest`` on the same broker and store: the alerts process judges only what
    it stored. Its log."""
    folder.mkdir(parents=True, exist_ok=True)
    log = folder / "ingest.log"
    process = ingest_process({**env, "SALTWATCH_INGEST__SPOOL_PATH": str(folder / "buffer")}, log)
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "ingest connected")
        yield log
    finally:
        process.terminate()
        process.wait(30)


@contextlib.contextmanager
def alerts_process(env: dict[str, str], log: Path) -> Iterator[None]:
    """``saltwatch alerts`` on its own subscription, once connected; stopped after."""
    exe = Path(sys.executable).with_name("saltwatch")
    process = subprocess.Popen(
        [str(exe), "alerts"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "the alerts process")
        yield
    finally:
        process.terminate()
        process.wait(15)


def reading(value: float, minutes_ago: float) -> bytes:
    return orjson.dumps({"ts": round(time.time() - minutes_ago * 60, 3), "salinity_ppt": value})


def river_events(collector: Collector) -> list[tuple[str, dict[str, object]]]:
    out = []
    for topic, payload in collector.snapshot():
        event = orjson.loads(payload)
        if event["rule"] == "salinity-river":
            out.append((topic.rsplit("/", 1)[1], event))
    return out


def test_critical_salinity_fires_once_per_zone_topic_and_resolves(
    mosquitto: MosquittoServer, alerts_seen: Collector, tmp_path: Path, topic_prefix: str
) -> None:
    settings = serve_settings(tmp_path, mosquitto.url, topic_prefix)
    topic = f"{topic_prefix}/salinity/vam-kenh"  # a river station in xã Tân Đông, Gò Công Đông
    with Served(settings):
        publisher = Publisher(mosquitto.url)
        # one reading over the critical level (its first: no QC history to flag it)
        publisher.publish_all([(topic, reading(4.6, 150))])
        wait_until(lambda: len(river_events(alerts_seen)) >= 3, 10, "the firing events")
        fired = river_events(alerts_seen)
        assert sorted(zone for zone, _ in fired) == ["dong-thap", "go-cong-dong", "xa-tan-dong"]
        assert {e["state"] for _, e in fired} == {"firing"}
        assert {e["severity"] for _, e in fired} == {"critical"}
        assert len({e["id"] for _, e in fired}) == 1
        # below the clear level (90 % of 1 ‰) for the 30-minute hold: resolved
        # a fall QC accepts (under 10 ‰/h), then 30 min below 0.9 ‰
        fall = [(3.0, 135), (1.5, 120), (0.6, 105), (0.5, 90), (0.4, 75)]
        publisher.publish_all([(topic, reading(v, m)) for v, m in fall])
        publisher.close()
        wait_until(lambda: len(river_events(alerts_seen)) >= 6, 10, "the resolved events")
        events = river_events(alerts_seen)
        resolved = [(z, e) for z, e in events if e["state"] == "resolved"]
        assert sorted(z for z, _ in resolved) == ["dong-thap", "go-cong-dong", "xa-tan-dong"]
        assert len(events) == 6  # exactly one firing and one resolved per topic


def test_restart_mid_episode_sends_nothing_twice_and_loses_nothing(
    mosquitto: MosquittoServer, alerts_seen: Collector, tmp_path: Path, topic_prefix: str
) -> None:
    settings = serve_settings(tmp_path, mosquitto.url, topic_prefix)
    topic = f"{topic_prefix}/salinity/vam-kenh"
    with Served(settings):
        publisher = Publisher(mosquitto.url)
        publisher.publish_all([(topic, reading(4.6, 150))])
        wait_until(lambda: len(river_events(alerts_seen)) == 3, 10, "firing")
        publisher.close()
    with Served(settings):  # the same state file: a restarted process
        publisher = Publisher(mosquitto.url)
        fall = [(3.0, 135), (1.5, 120), (0.6, 105), (0.5, 90), (0.4, 75)]
        publisher.publish_all([(topic, reading(v, m)) for v, m in fall])
        publisher.close()
        wait_until(lambda: len(river_events(alerts_seen)) >= 6, 10, "resolved after restart")
        # a marker: events go out in order, so once the marker's arrive, any repeat of the
        # episode's would have arrived before it
        marker = Publisher(mosquitto.url)
        marker.publish_all([(f"{topic_prefix}/salinity/xuan-hoa", reading(1.2, 5))])
        marker.close()
        wait_until(
            lambda: any(b'"xuan-hoa"' in p for _, p in alerts_seen.snapshot()),
            10,
            "the marker alert",
        )
    events = river_events(alerts_seen)
    assert sorted(str(e["state"]) for _, e in events) == ["firing"] * 3 + ["resolved"] * 3
    assert len({e["id"] for _, e in events}) == 1


def test_the_alerts_command_judges_on_its_own_subscription(
    mosquitto: MosquittoServer, alerts_seen: Collector, tmp_path: Path, topic_prefix: str
) -> None:
    env = process_env(mosquitto, tmp_path, topic_prefix)
    log = tmp_path / "alerts.log"
    exe = Path(sys.executable).with_name("saltwatch")
    with ingest_beside(env, tmp_path / "ingest"):
        process = subprocess.Popen(
            [str(exe), "alerts"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        judges_on_its_own_subscription(process, mosquitto, alerts_seen, tmp_path, topic_prefix)


def judges_on_its_own_subscription(
    process: subprocess.Popen[bytes],
    mosquitto: MosquittoServer,
    alerts_seen: Collector,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    log = tmp_path / "alerts.log"
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "the alerts process")
        publisher = Publisher(mosquitto.url)
        publisher.publish_all([(f"{topic_prefix}/salinity/xuan-hoa", reading(1.3, 10))])
        publisher.close()
        # Xuân Hòa: xã Bình Ninh (Chợ Gạo) and the Gò Công sweetening scheme it feeds
        expected = {"xa-binh-ninh", "cho-gao", "dong-thap", "ngot-hoa-go-cong"}

        def intake_topics() -> set[str]:
            return {
                t.rsplit("/", 1)[1] for t, p in alerts_seen.snapshot() if b'"salinity-intake"' in p
            }

        wait_until(lambda: intake_topics() >= expected, 15, "the intake alert on every topic")
        assert intake_topics() == expected
        process.send_signal(signal.SIGTERM)
        assert process.wait(15) == 0
        # it only judges: no ingest pipeline, so nothing spooled and no spool folder made
        made = [p for p in tmp_path.rglob("*") if "spool" in p.name]
        assert not made, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()


def test_alerts_process_killed_mid_episode_decides_nothing_twice(
    mosquitto: MosquittoServer, alerts_seen: Collector, tmp_path: Path, topic_prefix: str
) -> None:
    env = process_env(mosquitto, tmp_path, topic_prefix)
    exe = str(Path(sys.executable).with_name("saltwatch"))
    log = tmp_path / "alerts.log"

    def start() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [exe, "alerts"], env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT
        )

    topic = f"{topic_prefix}/salinity/vam-kenh"
    with ingest_beside(env, tmp_path / "ingest"):
        killed_mid_episode(start, log, mosquitto, alerts_seen, topic, topic_prefix)


def killed_mid_episode(
    start: Callable[[], subprocess.Popen[bytes]],
    log: Path,
    mosquitto: MosquittoServer,
    alerts_seen: Collector,
    topic: str,
    topic_prefix: str,
) -> None:
    first = start()
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "first connect")
        publisher = Publisher(mosquitto.url)
        publisher.publish_all([(topic, reading(4.6, 150))])
        wait_until(lambda: len(river_events(alerts_seen)) == 3, 15, "firing")
        first.kill()  # SIGKILL mid-episode
        first.wait(10)
        second = start()
        try:
            wait_until(lambda: log.read_text().count("connected to MQTT") >= 2, 20, "reconnect")
            fall = [(3.0, 135), (1.5, 120), (0.6, 105), (0.5, 90), (0.4, 75)]
            publisher.publish_all([(topic, reading(v, m)) for v, m in fall])
            wait_until(lambda: len(river_events(alerts_seen)) >= 6, 15, "resolved")
            publisher.publish_all([(f"{topic_prefix}/salinity/xuan-hoa", reading(1.2, 5))])
            wait_until(
                lambda: any(b'"xuan-hoa"' in p for _, p in alerts_seen.snapshot()),
                15,
                "the marker alert",
            )
            events = river_events(alerts_seen)
            # at-least-once (README, Guarantees): a kill between a publish and its record sends
            # the same event again, same id, state and at, which a receiver drops; nothing is
            # decided twice and nothing is missing
            told = {(topic, str(e["state"]), str(e["at"])) for topic, e in events}
            assert sorted(state for _, state, _ in told) == ["firing"] * 3 + ["resolved"] * 3
            assert len({e["id"] for _, e in events}) == 1
        finally:
            second.terminate()
            second.wait(15)
        publisher.close()
    finally:
        if first.poll() is None:
            first.kill()


def test_the_alerts_process_judges_only_what_ingest_accepted(
    mosquitto: MosquittoServer, alerts_seen: Collector, tmp_path: Path, topic_prefix: str
) -> None:
    """The attack: with ``saltwatch ingest`` and ``saltwatch alerts``, Xuân Hòa sent 0.95 ‰ and
    then 1.05 ‰ for the same, already stored time; ingest kept 0.95, yet a critical
    salinity-intake alert at 1.05 went out. The alerts process judged the raw broker stream;
    it judges what the store accepted now."""
    env = process_env(mosquitto, tmp_path, topic_prefix)
    log = tmp_path / "alerts.log"
    exe = Path(sys.executable).with_name("saltwatch")
    topic = f"{topic_prefix}/salinity/xuan-hoa"
    at = round(time.time() - 120)
    with ingest_beside(env, tmp_path / "ingest"):
        process = subprocess.Popen(
            [str(exe), "alerts"], env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT
        )
        try:
            wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "the alerts process")
            publisher = Publisher(mosquitto.url)
            first = orjson.dumps({"ts": at, "salinity_ppt": 0.95})
            publisher.publish_all([(topic, first)])
            store = SqliteReadingStore(tmp_path / "readings.db")
            wait_until(
                lambda: store.count(TopicKind.SALINITY, device="xuan-hoa") == 1, 15, "stored"
            )
            forged = orjson.dumps({"ts": at, "salinity_ppt": 1.05})
            marker = (f"{topic_prefix}/salinity/vam-kenh", reading(4.6, 1))
            publisher.publish_all([(topic, forged), marker])
            publisher.close()
            wait_until(
                lambda: any(b'"vam-kenh"' in p for _, p in alerts_seen.snapshot()),
                30,
                "the marker alert, judged after the forgery",
            )
            told = [p for _, p in alerts_seen.snapshot() if b'"salinity-intake"' in p]
            assert told == [], told[:1]
            kept = store.at_times(TopicKind.SALINITY, "xuan-hoa", [at * 10**9])
            assert kept[at * 10**9].fields["salinity_ppt"] == 0.95
            store.close()
        finally:
            process.terminate()
            process.wait(15)


def api_process(env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> TestClient:
    """The API app as ``saltwatch api`` builds it (saltwatch/api_process.py), from ``env``'s
    settings, the same ones the processes beside it were started with."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from saltwatch.api_process import app_from_environment  # noqa: PLC0415

    for name, value in env.items():
        if name.startswith("SALTWATCH_"):
            monkeypatch.setenv(name, value)
    return TestClient(app_from_environment())


def assert_xuan_hoa_alerted(alerts_seen: Collector, value: float) -> None:
    """Waits for the Xuân Hòa intake's critical alert at ``value``."""

    def intake_alerts() -> list[dict[str, object]]:
        events = [orjson.loads(p) for _, p in alerts_seen.snapshot()]
        return [e for e in events if e["rule"] == "salinity-intake"]

    wait_until(lambda: intake_alerts() != [], 40, "the intake's alert")
    (event, *_) = intake_alerts()
    assert event["device"] == "xuan-hoa" and event["severity"] == "critical"
    assert event["value"] == value


def test_a_handheld_reading_entered_through_an_api_process_is_judged_by_the_alerts_process(
    mosquitto: MosquittoServer,
    alerts_seen: Collector,
    tmp_path: Path,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The split layout: ``saltwatch ingest``, ``saltwatch alerts`` and ``saltwatch api``. Commune
    staff enter 1.3 ‰ measured at the Xuân Hòa intake; the alerts process never hears it from
    the broker and judged it only after a restart. It reads the landed log the API process
    writes: the intake's critical alert goes out within seconds."""
    env = process_env(mosquitto, tmp_path, topic_prefix)
    with ingest_beside(env, tmp_path / "ingest"), alerts_process(env, tmp_path / "alerts.log"):
        token = [{"role": "operator", "token": "op-token-for-the-split-test", "name": "ut-b"}]
        monkeypatch.setenv("SALTWATCH_API__TOKENS", orjson.dumps(token).decode())
        with api_process(env, monkeypatch) as api:
            entered = api.post(
                "/api/v1/stations/xuan-hoa/readings",
                json={"value": 1.3, "note": "cống Xuân Hòa"},
                headers={"Authorization": "Bearer op-token-for-the-split-test"},
            )
        assert entered.status_code == 201, entered.text
        assert_xuan_hoa_alerted(alerts_seen, 1.3)


def test_a_vendor_clouds_reading_polled_by_ingest_is_judged_by_the_alerts_process(
    mosquitto: MosquittoServer, alerts_seen: Collector, tmp_path: Path, topic_prefix: str
) -> None:
    """The split layout with a vendor cloud (docs/sources.md §5): ``saltwatch ingest`` polls the
    buoy at the Xuân Hòa intake and stores its 1.4 ‰; the alerts process, which hears only the
    broker, judged it only after a restart. Ingest logs it for the alerts process."""
    from harness.documented import documented_sources  # noqa: PLC0415
    from saltwatch.sim.vendor import VendorCloud  # noqa: PLC0415

    cloud = VendorCloud("tg-salinity", "s3cret", "key-123")
    now = int(time.time())
    for minutes_ago, salinity in ((40, 0.3), (20, 0.4), (5, 1.4)):
        cloud.add("BUOY-02", now - minutes_ago * 60, {"do_man": salinity, "nhiet_do": 29.5})
    with cloud.serving() as url:
        source = documented_sources()["vendor-buoys"].model_dump(mode="json") | {
            "url": url,
            "every_s": 1.0,
            "lookback_s": 3600.0,
        }
        env = process_env(mosquitto, tmp_path, topic_prefix) | {
            "SALTWATCH_SOURCES": orjson.dumps([source]).decode(),
            "VENDOR_USER": "tg-salinity",
            "VENDOR_PASSWORD": "s3cret",
            "VENDOR_API_KEY": "key-123",
        }
        with alerts_process(env, tmp_path / "alerts.log"), ingest_beside(env, tmp_path / "ingest"):
            assert_xuan_hoa_alerted(alerts_seen, 1.4)


def test_a_vendor_cloud_gone_quiet_beside_the_alerts_process_is_a_system_alert(
    mosquitto: MosquittoServer,
    alerts_seen: Collector,
    tmp_path: Path,
    topic_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The split layout: the vendor never answers. The alerts process does not run the poller,
    and said nothing; it reads the polled sources ingest keeps and raises ``source-stale``. The
    API process's ``/health`` listed no source; it reads them too."""
    import socket  # noqa: PLC0415

    from harness.documented import documented_sources  # noqa: PLC0415

    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = documented_sources()["vendor-buoys"].model_dump(mode="json") | {
        "url": f"http://127.0.0.1:{port}/api/v1",
        "every_s": 1.0,
        "stale_after_s": 2.0,
    }
    env = process_env(mosquitto, tmp_path, topic_prefix) | {
        "SALTWATCH_SOURCES": orjson.dumps([source]).decode(),
        "SALTWATCH_ALERTS__TICK_S": "0.5",
    }

    def stale() -> list[dict[str, object]]:
        events = [orjson.loads(p) for _, p in alerts_seen.snapshot()]
        return [e for e in events if e["rule"] == "source-stale"]

    with alerts_process(env, tmp_path / "alerts.log"), ingest_beside(env, tmp_path / "ingest"):
        wait_until(lambda: stale() != [], 30, "the source-stale system alert")
        with api_process(env, monkeypatch) as api:
            # ingest writes what it polled every 15 s, when it changed (a failed poll did)
            failing = {"name": "vendor-buoys", "lag_s": None, "stale": True, "failing": True}
            wait_until(lambda: failing in api.get("/health").json()["sources"], 40, "/health")
            health = api.get("/health").json()
    assert health["status"] == "degraded", health
    assert health["sources"] == [
        {"name": "vendor-buoys", "lag_s": None, "stale": True, "failing": True}
    ]
    (event, *_) = stale()
    assert event["fingerprint"] == "source-stale:vendor-buoys" and event["severity"] == "warning"
