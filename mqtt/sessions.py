"""Ending a client's persistent session on the broker: for members of ``saltwatch ingest
--workers N`` that a smaller fleet no longer runs (saltwatch/ingest_workers.py)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import MQTTv5
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from saltwatch.mqtt.connection import configure, parse_mqtt_url

log = logging.getLogger("saltwatch.mqtt")


def end_sessions(
    url: str,
    client_ids: list[str],
    ca_file: Path | None = None,
    login_as_client_id: bool = False,
    timeout_s: float = 10.0,
) -> None:
    """Ask the broker to forget the persistent sessions of ``client_ids`` (each connects once,
    clean, with a session that ends with the connection). A broker that cannot be reached or
    refuses is logged, not fatal: the session then stays, holding copies for no one."""
    address = parse_mqtt_url(url)
    for client_id in client_ids:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=MQTTv5)
        configure(client, address, ca_file, as_client_id=client_id if login_as_client_id else None)
        answered = threading.Event()
        outcome: list[str] = []

        def on_connect(
            *args: Any, ok: threading.Event = answered, out: list[str] = outcome
        ) -> None:
            out.append(args[3].getName())
            ok.set()

        client.on_connect = on_connect
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 0
        try:
            client.connect(address.host, address.port, 10, clean_start=True, properties=properties)
            client.loop_start()
            answered.wait(timeout_s)
            client.disconnect()
            client.loop_stop()
        except OSError as exc:
            outcome.append(str(exc))
        if outcome == ["Success"]:
            log.info("MQTT session of %s ended (that member no longer runs)", client_id)
        else:
            why = outcome or "no answer"
            log.warning("could not end the MQTT session of %s: %s", client_id, why)
