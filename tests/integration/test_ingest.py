"""Ingest against a real mosquitto and real stores: nothing valid lost, nothing stored twice."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path

import orjson
import pytest

from harness.mqtt_tools import Publisher
from harness.registries import write_registry
from harness.services import InfluxServer, MosquittoServer, wait_until
from saltwatch.core.qc import QcFlag
from saltwatch.core.registry import Registry
from saltwatch.core.settings import Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.ingest.service import IngestService
from saltwatch.storage.influx import InfluxReadingStore
from saltwatch.storage.sqlite import SqliteReadingStore
from saltwatch.wiring import ingest_service
from tests.integration.ingest_helpers import (
    Mix,
    ingest_process,
    ingest_settings,
    make_mix,
    make_registry,
    running_ingest,
)

pytestmark = pytest.mark.integration
KINDS = (TopicKind.SALINITY, TopicKind.WELL, TopicKind.TAP)


def stored_by_device(store: ReadingStore) -> dict[str, int]:
    out: dict[str, int] = {}
    for kind in KINDS:
        out.update(store.counts_by_device(kind))
    return out


def stored_total(store: ReadingStore) -> int:
    return sum(store.count(kind) for kind in KINDS)


def rejected_by_reason(service_metrics: object) -> dict[str, int]:
    registry = service_metrics.registry  # type: ignore[attr-defined]
    out: dict[str, int] = {}
    for metric in registry.collect():
        if metric.name == "saltwatch_ingest_rejected":
            for sample in metric.samples:
                if sample.name.endswith("_total") and sample.value:
                    out[sample.labels["reason"]] = int(sample.value)
    return out


@pytest.fixture(params=["sqlite", "influxdb"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/readings.db"
    server: InfluxServer = request.getfixturevalue("influxd")
    return server.store_url(request.getfixturevalue("influx_db"))


def open_store(url: str) -> ReadingStore:
    if url.startswith("sqlite:///"):
        return SqliteReadingStore(url.removeprefix("sqlite:///"))
    return InfluxReadingStore(url)


@pytest.fixture
def store(store_url: str) -> Iterator[ReadingStore]:
    adapter = open_store(store_url)
    yield adapter
    adapter.close()


def assert_exactly(store: ReadingStore, mix: Mix, timeout: float = 60) -> None:
    wait_until(
        lambda: stored_total(store) >= mix.valid_total, timeout, "every valid reading", interval=0.2
    )
    assert stored_by_device(store) == dict(mix.valid)


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "paho-path"])
def test_ten_thousand_mixed_readings_stored_exactly_once(
    mosquitto: MosquittoServer,
    store: ReadingStore,
    store_url: str,
    tmp_path: Path,
    topic_prefix: str,
    fast_path: bool,
) -> None:
    registry_path = write_registry(tmp_path / "registry.toml")
    settings = ingest_settings(
        tmp_path, mosquitto.url, store_url, topic_prefix, registry_path, fast_path
    )
    mix = make_mix(topic_prefix)
    assert mix.valid_total + sum(mix.rejected.values()) == 10_000
    with running_ingest(settings, make_registry(tmp_path), store) as service:
        publisher = Publisher(mosquitto.url)
        publisher.publish_all(mix.messages)
        publisher.close()
        assert_exactly(store, mix)
        wait_until(lambda: service.pipeline.unacked == 0, 10, "all acknowledged")
        assert rejected_by_reason(service.pipeline.metrics) == dict(mix.rejected)
        # redeliver everything (as a device resending would): nothing is stored twice
        publisher = Publisher(mosquitto.url)
        publisher.publish_all(mix.messages)
        publisher.close()
        wait_until(
            lambda: (
                service.pipeline.unacked == 0
                and sum(rejected_by_reason(service.pipeline.metrics).values())
                == 2 * sum(mix.rejected.values())
            ),
            30,
            "second pass judged",
        )
        assert stored_by_device(store) == dict(mix.valid)


def test_hostile_payloads_are_rejected_and_ingest_goes_on(
    mosquitto: MosquittoServer, tmp_path: Path, topic_prefix: str
) -> None:
    store_url = f"sqlite:///{tmp_path}/r.db"
    store = open_store(store_url)
    settings = ingest_settings(
        tmp_path, mosquitto.url, store_url, topic_prefix, write_registry(tmp_path / "registry.toml")
    )
    topic = f"{topic_prefix}/salinity/d000"
    hostile = {
        "payload_too_large": b'{"salinity_ppt": 1.0, "x": "' + b"a" * 65_536 + b'"}',
        "not_utf8": b'{"salinity_ppt": 1.0, "n": "\xc3\x28"}',
        "too_deep": b"[" * 5_000 + b"]" * 5_000,
        "not_finite": b'{"salinity_ppt": NaN}',
    }
    big_array = b"[" + b",".join([b"{}"] * 100_000) + b"]"
    with running_ingest(settings, make_registry(tmp_path), store) as service:
        publisher = Publisher(mosquitto.url)
        publisher.publish_all([(topic, p) for p in [*hostile.values(), big_array]])
        publisher.publish_all([(topic, orjson.dumps({"salinity_ppt": 2.5}))])
        publisher.close()
        wait_until(lambda: store.count(TopicKind.SALINITY) == 1, 20, "the valid reading")
        wait_until(lambda: service.pipeline.unacked == 0, 10, "all acknowledged")
        rejected = rejected_by_reason(service.pipeline.metrics)
        expected = {reason: 1 for reason in hostile}
        expected["payload_too_large"] += 1  # the 100,000-item array is far over 64 KiB
        assert rejected == expected
        recent = service.pipeline.recent_rejections()
        assert {r.reason for r in recent} == set(hostile)
        assert all(r.topic == topic for r in recent)
    store.close()


@pytest.mark.parametrize("fast_path", [True, False], ids=["fast-path", "paho-path"])
def test_broker_restart_mid_run_loses_nothing(
    mosquitto: MosquittoServer,
    store: ReadingStore,
    store_url: str,
    tmp_path: Path,
    topic_prefix: str,
    fast_path: bool,
) -> None:
    registry = write_registry(tmp_path / "registry.toml")
    settings = ingest_settings(
        tmp_path, mosquitto.url, store_url, topic_prefix, registry, fast_path
    )
    mix = make_mix(topic_prefix, per_device=20, bad_share=0.0)
    half = len(mix.messages) // 2
    with running_ingest(settings, make_registry(tmp_path), store) as service:
        publisher = Publisher(mosquitto.url, client_id="pub-restart")
        publisher.publish_all(mix.messages[:half])
        mosquitto.restart()
        publisher.publish_all(mix.messages[half:])
        publisher.close()
        assert_exactly(store, mix)
        assert service.consumer.connected.is_set()


def test_store_outage_spools_and_drains(
    mosquitto: MosquittoServer, tmp_path: Path, topic_prefix: str
) -> None:
    influx = InfluxServer(tmp_path / "influxd-outage")
    influx.start()
    store_url = influx.store_url("outage")
    store = InfluxReadingStore(store_url, timeout_s=2)
    settings = ingest_settings(
        tmp_path,
        mosquitto.url,
        store_url,
        topic_prefix,
        write_registry(tmp_path / "registry.toml"),
        batch_size=200,
        batch_interval="1s",
    )
    mix = make_mix(topic_prefix, per_device=30, bad_share=0.0)
    third = len(mix.messages) // 3
    try:
        with running_ingest(settings, make_registry(tmp_path), store) as service:
            publisher = Publisher(mosquitto.url)
            publisher.publish_all(mix.messages[:third])
            influx.stop()
            acked_before = (
                service.pipeline.metrics.registry.get_sample_value(
                    "saltwatch_ingest_messages_acked_total"
                )
                or 0
            )
            publisher.publish_all(mix.messages[third : 2 * third])  # during the outage
            wait_until(lambda: service.pipeline.unacked == 0, 30, "acks during the outage")
            acked_during = (
                service.pipeline.metrics.registry.get_sample_value(
                    "saltwatch_ingest_messages_acked_total"
                )
                or 0
            ) - acked_before
            # the ingester kept acknowledging while the store was down: the spool took the batches
            assert acked_during >= len(mix.messages[third : 2 * third])
            assert service.pipeline.spool_depth > 0
            assert not service.pipeline.store_up
            outage_ends = threading.Event()
            threading.Timer(30, outage_ends.set).start()
            wait_until(outage_ends.is_set, 40, "a 30 s outage")
            influx.start()
            publisher.publish_all(mix.messages[2 * third :])
            publisher.close()
            assert_exactly(store, mix, timeout=90)
            wait_until(lambda: service.pipeline.spool_depth == 0, 30, "the spool to drain")
    finally:
        store.close()
        influx.stop()


def test_sigkill_and_restart_loses_nothing_and_stores_nothing_twice(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    store_url = influxd.store_url(influx_db)
    store = InfluxReadingStore(store_url)
    env = {
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
        "SALTWATCH_MQTT__CLIENT_ID": "ingest-crash",
        "SALTWATCH_STORE__URL": store_url,
        "SALTWATCH_REGISTRY__PATH": str(write_registry(tmp_path / "registry.toml")),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_INGEST__BATCH_SIZE": "500",
    }
    mix = make_mix(topic_prefix, per_device=40, bad_share=0.0)
    log = tmp_path / "ingest.log"
    first = ingest_process(env, log)
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "ingest to connect")
        publisher = Publisher(mosquitto.url)
        done = threading.Event()

        def publish() -> None:
            publisher.publish_all(mix.messages)
            done.set()

        threading.Thread(target=publish, daemon=True).start()
        wait_until(lambda: stored_total(store) > mix.valid_total // 4, 60, "a quarter stored")
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        killed_at = stored_total(store)
        assert killed_at < mix.valid_total, "the kill came too late to prove anything"
        second = ingest_process(env, log)
        try:
            wait_until(done.is_set, 120, "the publisher")
            assert_exactly(store, mix, timeout=60)
            second.send_signal(signal.SIGTERM)
            assert second.wait(15) == 0
        finally:
            if second.poll() is None:
                second.kill()
        publisher.close()
    finally:
        if first.poll() is None:
            first.kill()
        store.close()


def test_qc_remembers_through_a_restart_while_the_store_is_away(
    mosquitto: MosquittoServer, tmp_path: Path, topic_prefix: str
) -> None:
    """The soak's finding: ingest SIGKILLed one second after influxd went down started QC with no
    history, and a spike passed as a good reading. QC's memory is kept on local disk too, so the
    restarted ingest still flags it, though the store cannot tell it anything."""
    influx = InfluxServer(tmp_path / "influxd-qc")
    influx.start()
    store_url = influx.store_url("qc")
    store = InfluxReadingStore(store_url, timeout_s=2)
    env = {
        "SALTWATCH_MQTT__URL": mosquitto.url,
        "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
        "SALTWATCH_MQTT__CLIENT_ID": "ingest-qc",
        "SALTWATCH_STORE__URL": store_url,
        "SALTWATCH_REGISTRY__PATH": str(write_registry(tmp_path / "registry.toml")),
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
    }
    now = time.time()
    steady = [
        (
            f"{topic_prefix}/salinity/d000",
            orjson.dumps({"ts": now - 3000 + 60 * i, "salinity_ppt": 1.0}),
        )
        for i in range(20)
    ]
    spike = (
        f"{topic_prefix}/salinity/d000",
        orjson.dumps({"ts": now - 1500, "salinity_ppt": 25.0}),
    )
    memory = tmp_path / "spool" / "qc-history.json"
    log = tmp_path / "ingest.log"
    first = ingest_process(env, log)
    second = None
    try:
        wait_until(lambda: "connected to MQTT" in log.read_text(), 20, "ingest to connect")
        publisher = Publisher(mosquitto.url)
        publisher.publish_all(steady)
        wait_until(lambda: stored_total(store) == 20, 30, "the steady readings stored")
        wait_until(lambda: memory.exists() and b"d000" in memory.read_bytes(), 30, "QC memory")
        influx.stop()
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        second = ingest_process(env, log)  # the store is away: only the local memory can help
        wait_until(lambda: log.read_text().count("connected to MQTT") >= 2, 20, "the restart")
        publisher.publish_all([spike])
        publisher.close()
        influx.start()
        wait_until(lambda: stored_total(store) == 21, 60, "the spike stored, once drained")
        (stored,) = [
            r
            for r in store.query(TopicKind.SALINITY, "d000", 0, 2**62)
            if r.fields["salinity_ppt"] == 25.0
        ]
        assert stored.qc & QcFlag.SPIKE, "the spike passed as a good reading"
        assert "QC history of 1 devices read from" in log.read_text()
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.kill()
        store.close()
        influx.stop()


def rejected(service: IngestService) -> list[str]:
    return [r.reason for r in service.pipeline.recent_rejections()]


def on_influx(
    mosquitto: MosquittoServer, influxd: InfluxServer, db: str, tmp_path: Path, prefix: str
) -> tuple[InfluxReadingStore, Settings, Registry]:
    """A store on the test's influxd, ingest's settings for it, and the test registry."""
    url = influxd.store_url(db)
    registry_path = write_registry(tmp_path / "registry.toml")
    settings = ingest_settings(tmp_path, mosquitto.url, url, prefix, registry_path)
    return InfluxReadingStore(url), settings, make_registry(tmp_path)


def has_rejections(service: IngestService) -> bool:
    return bool(rejected(service))


def run_to_end(
    service: IngestService,
    mosquitto: MosquittoServer,
    messages: list[tuple[str, bytes]],
    until: Callable[[], bool] = lambda: True,
    extra: int = 0,
) -> None:
    """Run ``service`` until every one of ``messages`` (published in order) and ``extra`` more
    (the broker's own, such as a retained message) are handled, and ``until`` holds."""
    stop = threading.Event()
    thread = threading.Thread(target=service.run, args=(stop,), daemon=True)
    thread.start()
    try:
        wait_until(service.consumer.connected.is_set, 15, "ingest connected")
        publisher = Publisher(mosquitto.url)
        publisher.publish_all(messages)
        publisher.close()
        count = len(messages) + extra  # taken and finished, not merely none in flight
        wait_until(lambda: min(service.pipeline.progress()) >= count, 60, "all handled")
        wait_until(until, 30, "the run's condition")
    finally:
        stop.set()
        thread.join(30)


def test_a_second_value_for_a_stored_time_is_refused_and_the_first_stays(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """The attack: the same device and time with another value overwrote the first and merged
    their fields (12.0 ‰ kept the first message's temperature), as far back as 30 days."""
    store = InfluxReadingStore(influxd.store_url(influx_db))
    settings = ingest_settings(
        tmp_path,
        mosquitto.url,
        influxd.store_url(influx_db),
        topic_prefix,
        write_registry(tmp_path / "registry.toml"),
    )
    registry = make_registry(tmp_path)
    topic = f"{topic_prefix}/salinity/d000"
    now = int(time.time())
    old = now - 10 * 86400  # ten days back

    def reading(ts: int, ppt: float, temp: float = 29.0) -> tuple[str, bytes]:
        return topic, orjson.dumps({"ts": ts, "salinity_ppt": ppt, "temp_c": temp})

    def run(service: IngestService, messages: list[tuple[str, bytes]]) -> None:
        run_to_end(service, mosquitto, messages)

    first = ingest_service(settings, registry, store, history=store)
    same = reading(now - 60, 1.0)  # twice: an identical copy is a redelivery, not a conflict
    run(first, [reading(old, 1.0), same, same, reading(now - 60, 12.0, 31.0)])
    assert rejected(first) == ["conflict"]
    # after a restart only the newest stored reading is remembered: the old time is asked of
    # the store, and the rewrite ten days back is refused too
    second = ingest_service(settings, registry, store, history=store)
    run(second, [reading(old, 9.0), reading(now - 30, 2.0)])
    assert rejected(second) == ["conflict"]
    assert "d000 already has other values" in second.pipeline.recent_rejections()[0].detail
    kept = {r.ts_ns // 10**9: r.fields for r in store.query(TopicKind.SALINITY, "d000", 0, 2**62)}
    assert kept[old]["salinity_ppt"] == 1.0
    assert kept[now - 60] == {"salinity_ppt": 1.0, "temp_c": 29.0}  # nothing merged in
    assert kept[now - 30]["salinity_ppt"] == 2.0
    store.close()


def test_no_amount_of_stored_history_hides_a_stored_time(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """The second attack: the check read at most 10,000 rows of the range a batch touched, so
    one message holding an old time (new value) and a far one, with more than 10,000 rows
    stored between them, replaced the stored value. It is checked at exactly its times now; and
    of two values for one old, unstored time in one batch the first is kept (it was the later)."""
    store, settings, registry = on_influx(mosquitto, influxd, influx_db, tmp_path, topic_prefix)
    topic = f"{topic_prefix}/salinity/d000"
    s = 10**9
    t0 = (int(time.time()) - 3 * 86400) * s
    old = [
        Reading(TopicKind.SALINITY, "d000", t0 + i * 60 * s, {"salinity_ppt": 1.0})
        for i in range(200)
    ]
    dense = [
        Reading(TopicKind.SALINITY, "d000", t0 + 1_000_000 * i, {"salinity_ppt": 2.0})
        for i in range(1, 10_051)
    ]
    store.write(old + dense)
    far = t0 + 3630 * s  # between two of the old minutes
    forged = orjson.dumps(
        [
            {"ts": t0 // s, "salinity_ppt": 30.0},  # the stored 1.0 at t0
            {"ts": far // s, "salinity_ppt": 3.0},  # a time after the dense rows, not stored
        ]
    )
    unstored = t0 + 120 * 60 * s + 30 * s  # an old time nothing is stored at
    pair = orjson.dumps(
        [
            {"ts": unstored / s, "salinity_ppt": 4.0},
            {"ts": unstored / s, "salinity_ppt": 40.0},
        ]
    )
    service = ingest_service(settings, registry, store, history=store)
    run_to_end(service, mosquitto, [(topic, forged), (topic, pair)])
    details = [r.detail for r in service.pipeline.recent_rejections()]
    assert sorted(rejected(service)) == ["conflict", "conflict"], details
    kept = store.at_times(TopicKind.SALINITY, "d000", [t0, far, unstored])
    assert kept[t0].fields["salinity_ppt"] == 1.0, "the forgery replaced the stored value"
    assert kept[far].fields["salinity_ppt"] == 3.0
    assert kept[unstored].fields["salinity_ppt"] == 4.0, "the later of the pair was stored"
    store.close()


def test_a_retained_reading_is_refused_at_every_restart(
    mosquitto: MosquittoServer,
    influxd: InfluxServer,
    influx_db: str,
    tmp_path: Path,
    topic_prefix: str,
) -> None:
    """A device published {"salinity_ppt": 9.0} retained: after each restart of ingest or of the
    broker the broker gave it again, and one more 9.0 ‰ row was stored at its arrival time."""
    store, settings, registry = on_influx(mosquitto, influxd, influx_db, tmp_path, topic_prefix)
    topic = f"{topic_prefix}/salinity/d001"
    publisher = Publisher(mosquitto.url)
    publisher.client.publish(topic, b'{"salinity_ppt": 9.0}', qos=1, retain=True).wait_for_publish(
        15
    )
    publisher.close()
    fresh = (
        f"{topic_prefix}/salinity/d002",
        orjson.dumps({"ts": time.time(), "salinity_ppt": 1.0}),
    )
    for round_ in range(3):  # start, an ingest restart, a broker restart
        if round_ == 2:
            mosquitto.restart()
        service = ingest_service(settings, registry, store, history=store)
        run_to_end(service, mosquitto, [fresh], partial(has_rejections, service), extra=1)
        assert rejected(service) == ["retained"], f"round {round_}"
    assert store.count(TopicKind.SALINITY, device="d001") == 0
    assert store.count(TopicKind.SALINITY, device="d002") == 1
    store.close()
