"""Alert events on ``{prefix}/alerts/{zone}``: the zone and every ancestor (docs/interface.md
§1)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import orjson
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from saltwatch.core.errors import RetryableError
from saltwatch.core.settings import MqttSettings, default_of
from saltwatch.core.topics import TopicKind, format_topic
from saltwatch.mqtt.connection import Reconnects, configure, parse_mqtt_url

log = logging.getLogger("saltwatch.alerts.mqtt")


class MqttNotifier:
    channel = "mqtt"

    def __init__(
        self,
        url: str,
        topic_prefix: str,
        client_id: str = "saltwatch-alerts-out",
        timeout_s: float = 10.0,
        ca_file: str | Path | None = None,
        login_as_client_id: bool = False,
        keepalive_s: int = default_of(MqttSettings, "keepalive_s"),
    ) -> None:
        address = parse_mqtt_url(url)
        self._prefix = topic_prefix
        self._timeout = timeout_s
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
        # the same credentials and TLS as ingest (its own login when client ids are bound)
        configure(
            self._client, address, ca_file, as_client_id=client_id if login_as_client_id else None
        )
        self._reconnects = Reconnects(self._client)
        self._client.on_connect = self._connected
        self._client.on_disconnect = self._lost
        self._address = address
        self._keepalive_s = keepalive_s
        self._started = False

    def _connected(self, *_: Any) -> None:
        self._reconnects.connected()

    def _lost(self, *_: Any) -> None:
        self._reconnects.lost()

    def start(self) -> None:
        """Connect and run the network loop (the engine's ``start`` calls it; sending before
        starts it too)."""
        if not self._started:
            self._started = True
            self._client.connect_async(self._address.host, self._address.port, self._keepalive_s)
            self._client.loop_start()

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        self.start()
        payload = orjson.dumps(event)
        infos = [
            self._client.publish(format_topic(self._prefix, TopicKind.ALERTS, zone), payload, qos=1)
            for zone in zones
        ]
        for info in infos:
            try:
                info.wait_for_publish(self._timeout)
            except (RuntimeError, ValueError) as exc:
                raise RetryableError(f"MQTT publish failed: {exc}") from None
            if not info.is_published():
                raise RetryableError("MQTT broker did not acknowledge the alert in time")

    def close(self) -> None:
        if self._started:
            self._client.disconnect()
            self._client.loop_stop()


class LogNotifier:
    def __init__(self, channel: str = "log") -> None:
        self.channel = channel

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        log.info(
            "%s %s %s: %s",
            event["state"].upper(),
            event["severity"],
            event["zone"],
            event["message_en"],
        )
