"""The production files: docker-compose.yml checked by Compose itself (Debian's docker-compose,
as no Docker engine runs here), .env.example naming every secret without a value, Grafana's
provisioning and dashboard, and deploy/mosquitto/mosquitto.conf run by a real mosquitto with a
generated password file and ACL."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from harness.mqtt_tools import Collector, Publisher
from harness.services import free_port, wait_until
from saltwatch.core.clock import SystemClock
from saltwatch.core.registry import load_registry
from saltwatch.core.schema import MEASUREMENTS
from saltwatch.credentials import BACKEND_USER, Login, generate, write_files
from saltwatch.ingest.intake import Inbound
from saltwatch.ingest.mqtt import MqttConsumer
from tests.conftest import need_binary

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
SECRETS = ("INFLUXDB_ADMIN_PASSWORD", "INFLUXDB_TOKEN", "SALTWATCH_BACKEND_MQTT_PASSWORD")


def env_example() -> dict[str, str]:
    pairs = {}
    for line in (ROOT / ".env.example").read_text().splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            pairs[name] = value
    return pairs


def compose_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    need_binary("docker-compose", "docker-compose")
    exe = shutil.which("docker-compose") or "/usr/bin/docker-compose"
    return subprocess.run(
        [exe, "-f", str(path), "--profile", "sim", "config"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp"), **env},
        cwd=path.parent,
    )


def filled() -> dict[str, str]:
    return {name: value or f"x{i}" for i, (name, value) in enumerate(env_example().items())}


def test_compose_file_is_valid_and_complete() -> None:
    result = compose_config(COMPOSE, filled())
    assert result.returncode == 0, result.stderr
    config = yaml.safe_load(result.stdout)
    services = config["services"]
    assert {"mosquitto", "influxdb", "saltwatch", "grafana", "simulator"} <= set(services)
    assert services["influxdb"]["image"].startswith("influxdb:2.7")
    assert services["influxdb"]["environment"]["DOCKER_INFLUXDB_INIT_BUCKET"] == "saltwatch"
    assert services["simulator"]["profiles"] == ["sim"]
    assert "build" in services["saltwatch"]
    for name, service in services.items():
        mounts = [mount(v) for v in service.get("volumes", [])]
        if name in ("mosquitto", "influxdb", "saltwatch", "grafana", "prometheus"):
            assert any(kind == "volume" for kind, _ in mounts), f"{name} keeps no volume"
        for kind, source in mounts:  # every file it mounts from deploy/ exists
            if kind == "bind" and "/deploy/" in source:
                assert Path(source).exists(), source


def mount(volume: str | dict[str, str]) -> tuple[str, str]:
    """(type, source) of a volume in Compose's short (v1) or long (v2) syntax."""
    if isinstance(volume, dict):
        return volume["type"], str(volume.get("source", ""))
    source = volume.split(":", 1)[0]
    return ("bind" if source.startswith(("/", ".")) else "volume"), source


def test_compose_refuses_to_start_without_secrets_and_catches_typos(tmp_path: Path) -> None:
    env = filled()
    for secret in SECRETS:
        missing = {k: v for k, v in env.items() if k != secret}
        result = compose_config(COMPOSE, missing)
        assert result.returncode != 0 and secret in result.stderr
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE.read_text().replace("    image: influxdb:2.7", "    imagee: influxdb:2.7")
    )
    result = compose_config(broken, env)
    assert result.returncode != 0 and "imagee" in result.stderr


def test_env_example_names_every_variable_and_holds_no_secret() -> None:
    names = env_example()
    used = set(re.findall(r"\$\{([A-Z0-9_]+)", COMPOSE.read_text()))
    assert used <= set(names), used - set(names)
    for secret in (*SECRETS, "SALTWATCH_API_TOKENS", "GRAFANA_ADMIN_PASSWORD"):
        assert names[secret] == "", secret


def test_dockerfile_runs_unprivileged_with_a_health_check() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^USER saltwatch$", text, re.M)
    assert "HEALTHCHECK" in text and "/health" in text
    assert text.count("FROM python:3.11-slim") == 2  # the runtime image has no build tools


def test_grafana_provisioning_and_dashboard_parse_and_agree() -> None:
    grafana = ROOT / "deploy" / "grafana"
    sources = yaml.safe_load((grafana / "provisioning/datasources/saltwatch.yaml").read_text())
    uids = {s["uid"] for s in sources["datasources"]}
    influx = next(s for s in sources["datasources"] if s["type"] == "influxdb")
    assert influx["jsonData"]["dbName"] == "saltwatch"
    providers = yaml.safe_load((grafana / "provisioning/dashboards/saltwatch.yaml").read_text())
    assert providers["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    dashboard = json.loads((grafana / "dashboards/saltwatch.json").read_text())
    titles = " ".join(p["title"] for p in dashboard["panels"])
    for subject in ("Salinity", "Salt front", "wells", "taps", "Alert"):
        assert subject in titles, subject
    fields = {m.name: set(m.fields) for m in MEASUREMENTS.values()}
    fields["saltfront"] = {"km_4ppt", "km_1ppt", "risk_level", "bound"}
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            assert target["datasource"]["uid"] in uids
            query = target.get("query")
            if query:  # InfluxQL: its measurements and fields are the stored schema's
                for measurement in re.findall(r'FROM "(\w+)"', query):
                    assert measurement in fields, measurement
                    aliases = set(re.findall(r'AS "(\w+)"', query))
                    for field in set(re.findall(r'\("(\w+)"\)', query)) - aliases:
                        assert any(field in f for f in fields.values()), field


@dataclass
class ProductionBroker:
    """deploy/mosquitto/mosquitto.conf run by a real mosquitto with generated credentials."""

    port: int
    logins: dict[str, Login]

    def url(self, user: str, as_user: str | None = None) -> str:
        login = self.logins[user]
        return f"mqtt://{as_user or login.username}:{login.password}@127.0.0.1:{self.port}"


@pytest.fixture
def production_broker(tmp_path: Path) -> Iterator[ProductionBroker]:
    need_binary("mosquitto", "mosquitto")
    registry = load_registry()
    outcome = generate([registry.devices["vam-kenh"]], {})
    files = write_files(outcome, tmp_path / "s", "saltwatch")
    port = free_port()
    (tmp_path / "data").mkdir()
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    conf = conf.replace("listener 1883", f"listener {port} 127.0.0.1")
    conf = conf.replace("/mosquitto/config/passwd", str(files["passwd"]))
    conf = conf.replace("/mosquitto/config/acl", str(files["acl"]))
    conf = conf.replace("/mosquitto/data/", f"{tmp_path / 'data'}/")
    (tmp_path / "mosquitto.conf").write_text(f"user {os.environ.get('USER') or 'root'}\n" + conf)
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    process = subprocess.Popen(
        [exe, "-c", str(tmp_path / "mosquitto.conf")],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:

        def listening() -> bool:
            assert process.poll() is None, process.stdout.read() if process.stdout else ""
            try:
                socket.create_connection(("127.0.0.1", port), 0.5).close()
            except OSError:
                return False
            return True

        wait_until(listening, 15, "mosquitto with the production config")
        yield ProductionBroker(port, {x.device: x for x in outcome.logins})
    finally:
        process.terminate()
        process.wait(10)


def test_production_mosquitto_conf_drops_messages_over_ingests_limit(
    production_broker: ProductionBroker,
) -> None:
    # a message over ingest's 64 KiB never reaches the backend; the device's next one does
    backend = Collector(production_broker.url(BACKEND_USER), ["saltwatch/#"])
    device = Publisher(production_broker.url("vam-kenh"), "dev-vam-kenh")
    try:
        big = ("saltwatch/salinity/vam-kenh", b"x" * 100_000)
        small = ("saltwatch/salinity/vam-kenh", b'{"salinity_ppt": 1.0}')
        device.publish_all([big, small])
        wait_until(lambda: small in backend.snapshot(), 15, "the small message")
        assert big not in backend.snapshot()
        # a packet over 1 MiB is refused at its header: the sender is disconnected
        huge = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="vam-kenh")
        huge.username_pw_set("vam-kenh", production_broker.logins["vam-kenh"].password)
        huge.connect("127.0.0.1", production_broker.port)
        huge.loop_start()
        wait_until(huge.is_connected, 10, "the device's connection")
        huge.publish("saltwatch/salinity/vam-kenh", b"x" * 2_000_000, qos=0)
        wait_until(lambda: not huge.is_connected(), 10, "the broker closing the connection")
        huge.loop_stop()
        assert len(backend.snapshot()) == 1
    finally:
        device.close()
        backend.close()


def test_a_device_cannot_take_over_ingests_session(production_broker: ProductionBroker) -> None:
    """The attack: a device's login connecting again and again with ingest's client id once threw
    ingest off and took the readings the broker held for it. With client ids bound to logins the
    device only ever connects as itself, and ingest (logged in as its client id) loses nothing."""
    got: list[Inbound] = []
    consumer = MqttConsumer(
        production_broker.url(BACKEND_USER),
        "saltwatch-ingest",
        "saltwatch",
        got.extend,
        SystemClock(),
        login_as_client_id=True,
    )
    consumer.start()
    device = Publisher(production_broker.url("vam-kenh"), "dev-vam-kenh")
    try:
        wait_until(consumer.connected.is_set, 15, "ingest connected under its own login")
        for i in range(6):  # persistent and clean sessions, each time with ingest's client id
            thief = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id="saltwatch-ingest", clean_session=i % 2 == 0
            )
            thief.username_pw_set("vam-kenh", production_broker.logins["vam-kenh"].password)
            assert thief.connect("127.0.0.1", production_broker.port) == 0
            thief.loop_start()
            wait_until(thief.is_connected, 10, "the device's connection")
            device.publish_all([("saltwatch/salinity/vam-kenh", f'{{"ts": {i}}}'.encode())])
            thief.disconnect()
            thief.loop_stop()
        wait_until(lambda: len(got) >= 6, 15, "every reading at ingest")
        assert sorted(m.payload for m in got) == [f'{{"ts": {i}}}'.encode() for i in range(6)]
        assert consumer.session_lost_at is None and consumer.connected.is_set()
        # ingest's login reads the devices and can write nothing: no forged alert from it
        alerts = Collector(production_broker.url(BACKEND_USER), ["saltwatch/alerts/#"])
        forger = Publisher(production_broker.url(BACKEND_USER, "saltwatch-ingest-3"), "x")
        forger.publish_all([("saltwatch/alerts/dong-thap", b'{"state": "resolved"}')])
        notifier = Publisher(production_broker.url(BACKEND_USER, "saltwatch-alerts-out"), "y")
        notifier.publish_all([("saltwatch/alerts/dong-thap", b'{"state": "firing"}')])
        wait_until(lambda: bool(alerts.snapshot()), 10, "the notifier's alert")
        assert alerts.snapshot() == [("saltwatch/alerts/dong-thap", b'{"state": "firing"}')]
        for client in (forger, notifier, alerts):
            client.close()
    finally:
        device.close()
        consumer.stop()
