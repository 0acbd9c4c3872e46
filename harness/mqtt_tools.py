"""MQTT helpers for tests and benchmarks: a reliable QoS-1 publisher and a collecting subscriber."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from harness.services import wait_until


def _client(
    url: str, client_id: str, setup: Callable[[mqtt.Client], None], clean: bool = True
) -> mqtt.Client:
    parts = urlsplit(url)
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean)
    if parts.username:
        client.username_pw_set(parts.username, parts.password)
    setup(client)
    client.reconnect_delay_set(1, 2)
    client.connect_async(parts.hostname or "127.0.0.1", parts.port or 1883, 30)
    client.loop_start()
    return client


class Publisher:
    """QoS-1 publisher on a persistent session that survives broker restarts.

    Publishes in chunks and waits for each chunk's acknowledgements (paho's queue is quadratic
    when flooded: the harness never queues more than a chunk).
    """

    def __init__(self, url: str, client_id: str | None = None, chunk: int = 500) -> None:
        self.chunk = chunk
        self._acked: set[int] = set()
        self._cond = threading.Condition()

        def setup(client: mqtt.Client) -> None:
            client.on_publish = self._on_publish

        self.client = _client(url, client_id or "pub-" + uuid.uuid4().hex[:8], setup, clean=False)
        wait_until(self.client.is_connected, 15, "publisher connection")

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, *rest: object) -> None:
        with self._cond:
            self._acked.add(mid)
            self._cond.notify_all()

    def publish_all(self, messages: Iterable[tuple[str, bytes]], timeout: float = 120) -> int:
        """Publish every message and return once the broker acknowledged each (reconnects too:
        paho keeps QoS-1 messages published while disconnected and sends them on reconnect)."""
        count = 0
        pending: set[int] = set()
        for topic, payload in messages:
            pending.add(self.client.publish(topic, payload, qos=1).mid)
            count += 1
            if len(pending) >= self.chunk:
                self._wait(pending, timeout)
                pending = set()
        self._wait(pending, timeout)
        return count

    def _wait(self, pending: set[int], timeout: float) -> None:
        with self._cond:
            if not self._cond.wait_for(lambda: pending <= self._acked, timeout):
                raise TimeoutError("QoS-1 publishes were not acknowledged in time")
            self._acked.clear()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Collector:
    """Subscribes and keeps every message received."""

    def __init__(self, url: str, topics: list[str]) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        subscribed = threading.Event()

        def setup(client: mqtt.Client) -> None:
            client.on_message = self._on_message
            client.on_subscribe = lambda *args: subscribed.set()
            client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics])

        self.client = _client(url, "col-" + uuid.uuid4().hex[:8], setup)
        wait_until(subscribed.is_set, 15, "collector subscription")

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def snapshot(self) -> list[tuple[str, bytes]]:
        with self._lock:
            return list(self.messages)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
