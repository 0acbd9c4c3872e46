"""Publishes the fleet's messages over MQTT, one client (and client id, and login) per device, all
on one network thread (``mqtt.connection.SharedLoop``).

Each device connects as ``sim-<device id>`` with its last will (``offline``, retained, on its status
topic), and publishes with QoS 1. Pacing: real time (``speed=1``), accelerated (``speed=600``: ten
simulated minutes a second) or replay (``speed=None``: as fast as the broker acknowledges).
"""

from __future__ import annotations

import csv
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from saltwatch.core.registry import Device
from saltwatch.core.timeutil import VN_TZ, to_rfc3339
from saltwatch.core.topics import TopicKind, format_topic
from saltwatch.mqtt.connection import SharedLoop, configure, parse_mqtt_url
from saltwatch.sim.fleet import Message


def load_credentials(path: Path) -> dict[str, tuple[str, str]]:
    """``device,username,password`` rows (the installers' CSV) to a lookup by device."""
    with path.open(newline="") as handle:
        return {row["device"]: (row["username"], row["password"]) for row in csv.DictReader(handle)}


@dataclass
class PublishStats:
    published: int = 0
    seconds: float = 0.0


class SimPublisher:
    def __init__(
        self,
        url: str,
        devices: Iterable[Device],
        topic_prefix: str = "saltwatch",
        credentials: dict[str, tuple[str, str]] | None = None,
        window: int = 2_000,
        ca_file: str | None = None,
    ) -> None:
        address = parse_mqtt_url(url)
        self._host, self._port = address.host, address.port
        self._window = window
        self._outstanding = 0
        self._cond = threading.Condition()
        self._clients: dict[str, mqtt.Client] = {}
        self._loop = SharedLoop()
        for device in devices:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=device.id, clean_session=True
            )
            configure(client, address, ca_file, (credentials or {}).get(device.id))
            status = format_topic(topic_prefix, TopicKind.STATUS, device.id)
            client.will_set(status, b"offline", qos=1, retain=True)
            client.on_publish = self._on_publish
            self._loop.add(client)
            self._clients[device.id] = client

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, *rest: object) -> None:
        with self._cond:
            self._outstanding -= 1
            self._cond.notify_all()

    def connect(self, timeout: float = 30.0) -> None:
        for client in self._clients.values():
            client.connect_async(self._host, self._port, 60)
        self._loop.start()
        deadline = time.monotonic() + timeout
        for device, client in self._clients.items():
            while not client.is_connected():
                if time.monotonic() > deadline:
                    raise TimeoutError(f"simulated device {device} could not connect")
                time.sleep(0.01)

    def publish(
        self,
        messages: Iterable[Message],
        start_s: float,
        end_s: float,
        speed: float | None = None,
        progress: TextIO | None = sys.stderr,
        flush_timeout: float = 120.0,
    ) -> PublishStats:
        """Publish in time order; ``speed`` simulated seconds per real second, None: no waiting.
        Then wait up to ``flush_timeout`` for the broker's acknowledgements (TimeoutError)."""
        stats = PublishStats()
        began = time.monotonic()
        shown = 0.0
        for message in messages:
            if speed is not None:
                due = began + (message.t_s - start_s) / speed
                pause = due - time.monotonic()
                if pause > 0:
                    time.sleep(pause)
            with self._cond:
                self._cond.wait_for(lambda: self._outstanding < self._window, 60)
                self._outstanding += 1
            self._clients[message.device].publish(
                message.topic, message.payload, qos=1, retain=message.retain
            )
            stats.published += 1
            now = time.monotonic()
            if progress is not None and now - shown >= 1.0:
                shown = now
                _progress(progress, message.t_s, start_s, end_s, now - began, stats.published)
        self.flush(flush_timeout)
        stats.seconds = time.monotonic() - began
        if progress is not None:
            _progress(progress, end_s, start_s, end_s, stats.seconds, stats.published)
            progress.write("\n")
        return stats

    def flush(self, timeout: float = 120.0) -> None:
        """Wait until the broker acknowledged everything published."""
        with self._cond:
            if not self._cond.wait_for(lambda: self._outstanding <= 0, timeout):
                raise TimeoutError("the broker did not acknowledge every message in time")

    def close(self) -> None:
        self._loop.close()  # a clean goodbye: the broker does not send the last wills


def _progress(out: TextIO, t_s: float, start: float, end: float, elapsed: float, n: int) -> None:
    done = min(1.0, max(0.0, (t_s - start) / max(end - start, 1e-9)))
    eta = elapsed / done - elapsed if done > 0 else float("nan")
    bar = "=" * int(done * 30)
    when = to_rfc3339(int(t_s * 1e9), VN_TZ)[:16].replace("T", " ")
    rate = n / elapsed if elapsed > 0 else 0.0
    eta_text = f"{eta:5.0f}s" if done > 0 else "    ?"
    out.write(f"\r[{bar:<30}] {done:4.0%} {when}  {n:,} msgs  {rate:,.0f}/s  ETA {eta_text}")
    out.flush()
