"""The demo's readings by every path (docs/sources.md): one station speaks through a LoRaWAN network
server (ChirpStack uplinks on the embedded broker, with the network server's own login), one is a
vendor's buoy in a simulated vendor cloud that ingest polls, and one has last season's archive,
imported as a file when the demo starts from nothing. The rest publish on their own topics."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from saltwatch.broker import EmbeddedBroker, free_port
from saltwatch.core.clock import FakeClock
from saltwatch.core.codec import CodecLimits, decode_payload
from saltwatch.core.qc import QcFlag, QualityControl
from saltwatch.core.registry import Device, Registry
from saltwatch.core.settings import Settings
from saltwatch.core.sources import SourceSettings
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind
from saltwatch.credentials import NETWORK_SERVER_PREFIX, generate, load_logins, write_files
from saltwatch.ingest.importer import Importer
from saltwatch.ingest.uplinks import topics_of
from saltwatch.mqtt.connection import configure, parse_mqtt_url
from saltwatch.sim.fleet import Fleet, Message, SimConfig
from saltwatch.sim.lorawan import uplink_topic, uplinks
from saltwatch.sim.vendor import VendorCloud

LORAWAN_STATION, DEV_EUI = "vam-giong", "a84041000181c5f1"
VENDOR_STATION, SERIAL = "phu-phong", "PP-BUOY-01"
ARCHIVE_STATION = "vam-kenh"
VENDOR_LOGIN = ("demo-vendor", "demo-vendor-password", "demo-vendor-key")
_ENV = ("SALTWATCH_DEMO_VENDOR_USER", "SALTWATCH_DEMO_VENDOR_PASSWORD", "SALTWATCH_DEMO_VENDOR_KEY")


def demo_sources(vendor_url: str) -> list[SourceSettings]:
    """The three sources, mapped as docs/sources.md shows."""
    for name, value in zip(_ENV, VENDOR_LOGIN, strict=True):
        os.environ.setdefault(name, value)  # the vendor's credentials come from the environment
    quantities = ("salinity_ppt", "ec_us_cm", "ec25_us_cm", "temp_c", "level_m", "battery_v")
    return [
        SourceSettings.model_validate(
            {
                "name": "chirpstack",
                "kind": "chirpstack",
                "device": {"field": "deviceInfo.devEui", "ids": {DEV_EUI: LORAWAN_STATION}},
                "time": {"field": "time"},
                "values": [{"field": f"object.{q}", "to": q} for q in quantities]
                + [{"field": "fCnt", "to": "seq"}],
            }
        ),
        SourceSettings.model_validate(
            {
                "name": "vendor-buoys",
                "kind": "http",
                "url": vendor_url,
                "user_env": _ENV[0],
                "password_env": _ENV[1],
                "api_key_env": _ENV[2],
                "every": "20s",  # 40 simulated minutes at the demo's speed
                "lookback": "1d",
                "stale_after": "6h",
                "device": {"field": "so_serial", "ids": {SERIAL: VENDOR_STATION}},
                "time": {"field": "ngay_gui", "zone": "+07:00"},
                "values": [
                    {"field": "do_man", "to": "salinity_ppt", "unit": "g/L"},
                    {"field": "nhiet_do", "to": "temp_c"},
                ],
            }
        ),
        SourceSettings.model_validate(
            {
                "name": "archive",
                "kind": "file",
                "device": {"fixed": ARCHIVE_STATION},
                "time": {"field": "thoi_gian", "format": "%d/%m/%Y %H:%M", "zone": "+07:00"},
                "values": [{"field": "do_man", "to": "salinity_ppt", "unit": "g/L"}],
                "decimal": ",",
            }
        ),
    ]


def broker_with_logins(
    data: Path, devices: list[Device], base: Settings, sources: list[SourceSettings], port: int
) -> tuple[EmbeddedBroker, dict[str, Path], dict[str, tuple[str, str]]]:
    """The embedded broker with every device's login and the network servers' (kept across
    runs of the same folder), the files written, and the logins by device."""
    servers = {NETWORK_SERVER_PREFIX + s.name: topics_of(s) for s in sources if topics_of(s)}
    old = load_logins(data / "broker" / "devices.csv")
    logins = generate(devices, old, network_servers=[s.name for s in sources if topics_of(s)])
    files = write_files(logins, data / "broker", base.mqtt.topic_prefix, uplinks=servers)
    broker = EmbeddedBroker(
        port or free_port(),
        files["passwd"],
        base.mqtt.topic_prefix,
        max_packet_bytes=base.ingest.max_payload_bytes + 1024,  # the payload, its topic, ids
        uplinks=servers,
    )
    return broker, files, {x.device: (x.username, x.password) for x in logins.logins}


def vendor_cloud() -> VendorCloud:
    """The buoy vendor's cloud, serving on loopback."""
    cloud = VendorCloud(*VENDOR_LOGIN)
    cloud.start()
    return cloud


class Router:
    """Takes the LoRaWAN station's and the vendor buoy's messages out of the simulator's stream:
    the first go out as ChirpStack uplinks with the network server's login, the second into the
    vendor's cloud; every other message passes on to the devices' own publisher."""

    def __init__(self, broker_url: str, login: tuple[str, str], cloud: VendorCloud) -> None:
        self._cloud = cloud
        self._fcnt = 0
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=login[0])
        configure(self._client, parse_mqtt_url(broker_url), None, login)
        self._broker = broker_url
        self._lock = threading.Lock()

    def start(self) -> None:
        address = parse_mqtt_url(self._broker)
        self._client.connect_async(address.host, address.port, 60)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def route(self, messages: Iterator[Message]) -> Iterator[Message]:
        for message in messages:
            if message.device == LORAWAN_STATION:
                if "/status/" not in message.topic:  # a network server forwards no last will
                    self._uplink(message)
            elif message.device == VENDOR_STATION:
                if "/status/" not in message.topic:
                    for ts, values in vendor_items(message.payload):
                        self._cloud.add(SERIAL, ts, values)
            else:
                yield message

    def _uplink(self, message: Message) -> None:
        with self._lock:
            for body in uplinks(DEV_EUI, "SALINITY-VG", message.payload, message.t_s, self._fcnt):
                self._fcnt += 1
                self._client.publish(uplink_topic(DEV_EUI), body, qos=1)


def vendor_items(payload: bytes) -> list[tuple[int, dict[str, Any]]]:
    """What a vendor's buoy keeps of one message: time, salinity and temperature, as the payload
    codec reads the item (a bad one: nothing; a vendor's cloud stores what its buoy decoded)."""
    result = decode_payload(TopicKind.SALINITY, VENDOR_STATION, payload, 0, _ANY_AGE)
    return [
        (r.ts_ns // NS_PER_S, {"do_man": round(float(salinity), 3), "nhiet_do": r.value("temp_c")})
        for r in result.readings
        if not r.qc & QcFlag.SERVER_TIME and (salinity := r.value("salinity_ppt")) is not None
    ]


#: the simulator's items of any season: their own times, however far from "now"
_ANY_AGE = CodecLimits(max_future_s=1e10, max_backfill_s=1e10)


def import_archive(
    registry: Registry, config: SimConfig, settings: Settings, store: ReadingStore, start_ns: int
) -> int:
    """Last season's month at the archive station, as a staff spreadsheet would keep it (local
    times, decimal commas), written to ``archive/`` beside the state and imported through the
    source ``archive``. Returns the readings stored."""
    data = settings.state.path.parent
    start_s = start_ns / NS_PER_S
    device = registry.devices[ARCHIVE_STATION]
    year_ago = start_s - 365 * 86_400
    folder = data / "archive"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{ARCHIVE_STATION}-mua-kho-truoc.csv"
    lines = ["thoi_gian,do_man"]
    for message in Fleet(registry, config, [device]).messages(year_ago - 30 * 86_400, year_ago):
        for ts, values in vendor_items(message.payload):
            when = datetime.fromtimestamp(ts, VN_TZ).strftime("%d/%m/%Y %H:%M")
            lines.append(f"{when},{str(values['do_man']).replace('.', ',')}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    importer = Importer(
        settings.source("archive"),
        registry,
        store,
        QualityControl(settings.qc.to_config()),
        FakeClock(start_ns),  # "now" is the demo's start
        data / "imports",
        max_future_s=settings.ingest.max_future_s,
    )
    return importer.run(path).stored
