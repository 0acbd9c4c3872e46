"""``saltwatch ingest --workers 2`` on a real mosquitto and a real influxd: two members, each
handling its own devices, supervised; a member killed is started again under its client id and
no reading is lost, nor through a broker restart or a change of the fleet's size."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import orjson
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.client import MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from harness.mqtt_tools import Publisher
from harness.registries import write_registry
from harness.services import InfluxServer, MosquittoServer, wait_until
from saltwatch.core.topics import TopicKind
from saltwatch.mqtt.connection import parse_mqtt_url
from saltwatch.storage.influx import InfluxReadingStore

pytestmark = pytest.mark.integration


def members(supervisor: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    return [int(c) for c in children]


def workers_env(
    mosquitto: MosquittoServer, influxd: InfluxServer, influx_db: str, tmp_path: Path, prefix: str
) -> dict[str, str]:
    registry = write_registry(tmp_path / "registry.toml", 20, ["salinity"])
    return {
        **os.environ,
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": prefix,
        "SALTWATCH_MQTT__CLIENT_ID": "race",
        "SALTWATCH_STORE__URL": influxd.store_url(influx_db),
        "SALTWATCH_REGISTRY__PATH": str(registry),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
    }


def test_workers_share_the_load_and_a_killed_member_comes_back(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    env = workers_env(mosquitto, influxd, influx_db, tmp_path, topic_prefix)
    log = tmp_path / "ingest.log"
    supervisor = fleet(env, log)
    store = InfluxReadingStore(influxd.store_url(influx_db))
    publisher = Publisher(mosquitto.url)
    now = time.time()

    def send(start: int, count: int) -> None:
        publisher.publish_all(
            [
                (
                    f"{topic_prefix}/salinity/d{i % 20:03d}",
                    orjson.dumps({"ts": now - 7200 + i, "salinity_ppt": 0.5, "seq": i}),
                )
                for i in range(start, start + count)
            ]
        )

    try:
        wait_until(lambda: log.read_text().count("connected to MQTT") == 2, 30, "two members")
        send(0, 2000)
        wait_until(lambda: store.count(TopicKind.SALINITY) == 2000, 30, "the first 2,000")
        first = members(supervisor.pid)
        assert len(first) == 2
        os.kill(first[0], signal.SIGKILL)  # a member dies mid-flight
        send(2000, 2000)
        wait_until(lambda: log.read_text().count("connected to MQTT") == 3, 30, "the restart")
        wait_until(lambda: store.count(TopicKind.SALINITY) == 4000, 30, "all 4,000")
        assert "ingest member 0 ended" in log.read_text()
        # the same client id again: the broker kept its session (and what it held for it)
        assert "session present: True" in log.read_text()
        again = members(supervisor.pid)
        assert len(again) == 2 and first[0] not in again and first[1] in again
        # both members' spools: the same folders across the restart
        assert {p.name for p in (tmp_path / "spool").iterdir()} >= {"member-0", "member-1"}
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
        assert all(not Path(f"/proc/{pid}").exists() for pid in again)
    finally:
        publisher.close()
        store.close()
        if supervisor.poll() is None:
            supervisor.kill()


def fleet(env: dict[str, str], log: Path, workers: int = 2) -> subprocess.Popen[bytes]:
    """``saltwatch ingest --workers N`` (one process when N is 1), its output appended to
    ``log``."""
    exe = Path(sys.executable).with_name("saltwatch")
    return subprocess.Popen(
        [str(exe), "ingest", "--workers", str(workers)], env=env, stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip


def session_kept(url: str, client_id: str) -> bool:
    """Whether the broker still keeps a session for ``client_id`` (asked without ending it)."""
    answer: list[bool] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTv5)
    client.on_connect = lambda c, u, flags, *rest: answer.append(flags.session_present)
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = 0xFFFFFFFF
    address = parse_mqtt_url(url)
    client.connect(address.host, address.port, clean_start=False, properties=properties)
    client.loop_start()
    try:
        wait_until(lambda: bool(answer), 10, "the broker's answer")
    finally:
        client.disconnect()
        client.loop_stop()
    return answer[0]


def test_nothing_published_while_the_fleet_is_down_is_lost(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """Mosquitto 2.0 does not restore shared subscriptions after a restart: what devices sent
    between the broker's return and the members' was lost (10 readings in a split-layout soak).
    Each member now keeps a plain subscription in its session. Also across changes of layout:
    two members, then one process, then three: each time the readings sent while ingest was
    down are stored, and the session of a member that no longer runs is ended."""
    env = workers_env(mosquitto, influxd, influx_db, tmp_path, topic_prefix)
    log = tmp_path / "ingest.log"
    store = InfluxReadingStore(influxd.store_url(influx_db))
    publisher = Publisher(mosquitto.url)
    now = time.time()
    sent = 0

    def send(count: int, ppt: float) -> None:
        nonlocal sent
        body = {"ts": 0.0, "salinity_ppt": ppt}
        messages = []
        for i in range(sent, sent + count):
            body["ts"] = now - 7200 + i
            messages.append((f"{topic_prefix}/salinity/d{i % 20:03d}", orjson.dumps(body)))
        sent += publisher.publish_all(messages)

    def start(workers: int) -> subprocess.Popen[bytes]:
        before = log.read_text().count("connected to MQTT") if log.exists() else 0
        run = fleet(env, log, workers)
        wait_until(
            lambda: log.read_text().count("connected to MQTT") == before + workers, 30, "connected"
        )
        return run

    def stop(run: subprocess.Popen[bytes]) -> None:
        run.send_signal(signal.SIGTERM)
        assert run.wait(30) == 0

    run = start(2)
    try:
        stop(run)
        send(200, 0.5)  # while the fleet is down
        mosquitto.restart()
        send(20, 0.4)  # as the broker comes back, before any member does
        run = start(2)
        wait_until(lambda: store.count(TopicKind.SALINITY) == sent, 30, "all stored")
        for workers in (1, 3):
            stop(run)
            send(200, 0.3)
            run = start(workers)
            wait_until(lambda: store.count(TopicKind.SALINITY) == sent, 30, f"all {sent} stored")
            if workers == 1:  # one process now: the session of member 1 is gone
                assert not session_kept(mosquitto.url, "race-1")
        assert "ingest runs as 3 process(es), before as 1" in log.read_text()
        stop(run)
    finally:
        publisher.close()
        store.close()
        if run.poll() is None:
            run.kill()


def stored_once(store: InfluxReadingStore, device: str) -> bool:
    return store.count(TopicKind.SALINITY, device=device) == 1


def test_two_workers_keep_the_first_value_of_a_time(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """The attack: with --workers 2, a reading and a second value for the same device and time
    0.6 s later; 9 of 10 second values were stored, since the member that got the second had
    never seen the first. Each device is handled by one member now, and the members claim each
    time in one shared file (for when a resized fleet reads a device twice)."""
    env = workers_env(mosquitto, influxd, influx_db, tmp_path, topic_prefix)
    log = tmp_path / "ingest.log"
    supervisor = fleet(env, log)
    store = InfluxReadingStore(influxd.store_url(influx_db))
    publisher = Publisher(mosquitto.url)
    now = round(time.time())

    def message(device: int, ts: int, ppt: float) -> tuple[str, bytes]:
        body = orjson.dumps({"ts": ts, "salinity_ppt": ppt})
        return f"{topic_prefix}/salinity/d{device:03d}", body

    try:
        wait_until(lambda: log.read_text().count("connected to MQTT") == 2, 30, "two members")
        for k in range(10):
            publisher.publish_all([message(k, now - 60, 0.5)])
            wait_until(partial(stored_once, store, f"d{k:03d}"), 15, "the first value stored")
            publisher.publish_all([message(k, now - 60, 9.5)])
        # after the second values, on each member's queue: once all are stored, both members
        # have decided every second value
        publisher.publish_all([message(10 + k, now - 30, 0.1) for k in range(10)])
        wait_until(lambda: store.count(TopicKind.SALINITY) == 20, 30, "the markers")
        kept = [
            store.at_times(TopicKind.SALINITY, f"d{k:03d}", [(now - 60) * 10**9]) for k in range(10)
        ]
        values = [next(iter(found.values())).fields["salinity_ppt"] for found in kept]
        assert values == [0.5] * 10, values
        assert (tmp_path / "spool" / "claims.db").exists()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
        # the same first values again, into an empty database, by a new fleet on the same
        # claims: copies of what was claimed, so stored (each member hashed values with its own
        # salt, and refused every copy: the race's second drain stored nothing)
        fresh_db = f"{influx_db}_again"
        env["SALTWATCH_STORE__URL"] = influxd.store_url(fresh_db)
        supervisor = fleet(env, log)
        wait_until(lambda: log.read_text().count("connected to MQTT") == 4, 30, "a new fleet")
        publisher.publish_all([message(k, now - 60, 0.5) for k in range(10)])
        again = InfluxReadingStore(influxd.store_url(fresh_db))
        wait_until(lambda: again.count(TopicKind.SALINITY) == 10, 30, "the copies stored")
        again.close()
        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(30) == 0
    finally:
        publisher.close()
        store.close()
        if supervisor.poll() is None:
            supervisor.kill()


def state_of(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


def alive(pid: int) -> bool:
    try:
        return state_of(pid) not in ("Z", "X")  # an ended process its new parent has not reaped
    except OSError:
        return False


def test_a_member_stopped_while_its_supervisor_runs_is_continued(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """A member that saw its supervisor paused could stop itself just after the supervisor's
    SIGCONT went out, and stayed stopped for good (the race's second drain stored nothing in
    600 s). The supervisor now continues any member it finds stopped while it runs. And a member
    whose supervisor is gone ends."""
    env = workers_env(mosquitto, influxd, influx_db, tmp_path, topic_prefix)
    log = tmp_path / "ingest.log"
    supervisor = fleet(env, log)
    try:
        wait_until(lambda: log.read_text().count("connected to MQTT") == 2, 30, "two members")
        member = members(supervisor.pid)[0]
        os.kill(member, signal.SIGSTOP)  # as the lost race leaves it
        wait_until(
            lambda: f"(pid {member}) found stopped: continued" in log.read_text(),
            10,
            "the supervisor continuing the member",
        )
        wait_until(lambda: state_of(member) != "T", 5, "the member running")
        # a supervisor killed outright: its members end too (they did not, and held their
        # sessions against the next fleet)
        both = members(supervisor.pid)
        supervisor.kill()
        supervisor.wait(10)
        wait_until(lambda: not any(alive(p) for p in both), 15, "the members ending")
        assert "is gone: this member stops" in log.read_text()
    finally:
        if supervisor.poll() is None:
            supervisor.kill()
