"""LoRaWAN uplinks (docs/sources.md) through a real mosquitto: ChirpStack v4 and The Things Stack
v3 envelopes, published with each network server's own login on its own topics (the generated
ACL), land as readings of the mapped registry devices; an uplink without decoded values is
refused with its reason; a network server cannot publish as a device."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest

from harness.documented import documented_sources
from harness.mqtt_tools import Publisher
from harness.services import MosquittoServer, wait_until
from saltwatch.core.registry import load_registry
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.credentials import BACKEND_USER, NETWORK_SERVER_PREFIX, generate, write_files
from saltwatch.ingest.uplinks import topics_of
from tests.conftest import need_binary
from tests.integration.ingest_helpers import running_ingest, settings_from_env

pytestmark = pytest.mark.integration

CHIRPSTACK = documented_sources()["chirpstack"]
TTS = documented_sources()["ttn"]


BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
BASE_NS = int(BASE.timestamp()) * 10**9


def iso(seconds: int, fraction: str = "") -> str:
    """A time ``seconds`` after an hour ago, as the network servers write it (UTC)."""
    return (BASE + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S") + fraction + "Z"


def chirpstack_up(dev_eui: str, when: str, fcnt: int, decoded: dict[str, Any] | None) -> bytes:
    envelope: dict[str, Any] = {
        "deduplicationId": f"3ac7e3c4-4401-4b8d-9386-a5c902f9{fcnt:04d}",
        "time": when,
        "deviceInfo": {
            "tenantName": "Tiền Giang",
            "applicationName": "salinity",
            "deviceName": "sensor-1",
            "devEui": dev_eui,
        },
        "devAddr": "00189440",
        "fCnt": fcnt,
        "fPort": 2,
        "data": "AQID",
        "rxInfo": [{"gatewayId": "0016c001ff10a235", "rssi": -57, "snr": 10.0}],
    }
    if decoded is not None:
        envelope["object"] = decoded
    return orjson.dumps(envelope)


def tts_up(device_id: str, when: str, decoded: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {
            "end_device_ids": {
                "device_id": device_id,
                "application_ids": {"application_id": "saltwatch"},
                "dev_eui": "70B3D57ED0000001",
            },
            "received_at": when,
            "uplink_message": {"f_port": 1, "frm_payload": "AQI=", "decoded_payload": decoded},
        }
    )


def test_uplinks_of_both_network_servers_become_readings_of_the_mapped_devices(
    tmp_path: Path, topic_prefix: str, store: ReadingStore, request: pytest.FixtureRequest
) -> None:
    need_binary("mosquitto", "mosquitto")
    registry = load_registry()
    servers = {NETWORK_SERVER_PREFIX + s.name: topics_of(s) for s in (CHIRPSTACK, TTS)}
    outcome = generate(
        [registry.devices["vam-kenh"]], {}, network_servers=[CHIRPSTACK.name, TTS.name]
    )
    files = write_files(outcome, tmp_path / "secrets", topic_prefix, uplinks=servers)
    logins = {x.username: x for x in outcome.logins}
    broker = MosquittoServer(tmp_path / "mq", password_file=files["passwd"], acl_file=files["acl"])
    broker.start()
    request.addfinalizer(broker.stop)

    def url(user: str) -> str:
        return broker.url.replace("mqtt://", f"mqtt://{user}:{logins[user].password}@")

    settings = settings_from_env(
        {
            "SALTWATCH_MQTT__URL": url(BACKEND_USER),
            "SALTWATCH_MQTT__TOPIC_PREFIX": topic_prefix,
            "SALTWATCH_MQTT__CLIENT_ID": "ingest-" + topic_prefix,
            "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
            "SALTWATCH_SOURCES": orjson.dumps([CHIRPSTACK.model_dump(), TTS.model_dump()]).decode(),
        }
    )
    chirpstack = Publisher(url("lns-chirpstack"), "chirpstack-ns")
    ttn = Publisher(url("lns-ttn"), "tts-ns")
    cs_topic = "application/7c1c5c2e/device/a84041000181c5f1/event/up"
    try:
        with running_ingest(settings, registry, store) as service:
            chirpstack.publish_all(
                [
                    (
                        cs_topic,
                        chirpstack_up(
                            "a84041000181c5f1", iso(0), 41, {"salinity": 1.2, "temperature": 29.0}
                        ),
                    ),
                    (cs_topic, chirpstack_up("a84041000181c5f1", iso(900), 42, None)),
                    # a network server may not speak for a device on SaltWatch's own topics
                    (f"{topic_prefix}/salinity/vam-kenh", b'{"salinity_ppt": 9.9}'),
                    (
                        "application/7c1c5c2e/device/ffffffffffffffff/event/up",
                        chirpstack_up("ffffffffffffffff", iso(900), 1, {"salinity": 3.0}),
                    ),
                ]
            )
            ttn.publish_all(
                [
                    (
                        "v3/saltwatch@ttn/devices/sal-xuan-hoa/up",
                        tts_up("sal-xuan-hoa", iso(300, ".123456789"), {"ec_mS_cm": 3.0}),
                    )
                ]
            )

            def refused() -> dict[str, int]:
                out: dict[str, int] = {}
                for rejection in service.pipeline.intake.recent_rejections():
                    out[rejection.reason] = out.get(rejection.reason, 0) + 1
                return out

            def arrived() -> bool:
                got = store.latest(TopicKind.SALINITY, ["vam-kenh", "xuan-hoa"])
                return len(got) == 2 and refused().get("not_decoded") == 1

            wait_until(arrived, 20, "the decoded uplinks stored, the undecoded refused")
            wait_until(lambda: refused().get("unknown_device") == 1, 10, "the unmapped DevEUI")
    finally:
        chirpstack.close()
        ttn.close()
    vam_kenh = store.query(TopicKind.SALINITY, "vam-kenh", 0, 2**62)
    assert [(r.ts_ns, r.fields["salinity_ppt"], r.fields["seq"]) for r in vam_kenh] == [
        (BASE_NS, 1.2, 41)
    ]  # 9.9 ‰ on the device's own topic never arrived: the ACL refused it
    assert vam_kenh[0].fields["source"] == "chirpstack"
    assert vam_kenh[0].fields["temp_c"] == 29.0
    xuan_hoa = store.query(TopicKind.SALINITY, "xuan-hoa", 0, 2**62)
    assert len(xuan_hoa) == 1 and xuan_hoa[0].fields["source"] == "ttn"
    assert xuan_hoa[0].fields["ec25_us_cm"] == 3000.0
    assert xuan_hoa[0].ts_ns == BASE_NS + 300 * 10**9 + 123_456_000
