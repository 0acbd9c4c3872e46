"""ingest's MQTT consumer on a real mosquitto, on both of its paths: the fast one (PUBLISH packets
read in bulk, a batch acknowledged in one write: paho internals, ingest/mqtt.py) and paho's own
(``mqtt.fast_path = false``), with MQTT 3.1.1 and with a v5 shared subscription. Whatever paho
changes inside, these say whether every message still arrives once, intact, and whether an
acknowledgement still reaches the broker (nothing is delivered again to the same session)."""

from __future__ import annotations

import threading
import uuid

import pytest

from harness.mqtt_tools import Publisher
from harness.services import MosquittoServer, wait_until
from saltwatch.core.clock import SystemClock
from saltwatch.ingest.intake import Inbound
from saltwatch.ingest.mqtt import MqttConsumer

pytestmark = pytest.mark.integration


class Inbox:
    """Keeps what arrives and acknowledges it at once, as the pipeline does once durable."""

    def __init__(self) -> None:
        self.got: list[Inbound] = []
        self.consumer: MqttConsumer | None = None
        self.lock = threading.Lock()

    def take(self, messages: list[Inbound]) -> None:
        assert self.consumer is not None
        # acknowledged before it is counted as got: a test that stops the consumer once all has
        # arrived must not stop it between the two (CI saw the last 12 delivered again so)
        self.consumer.ack_many([(m.mid, m.qos, m.epoch) for m in messages])
        with self.lock:
            self.got.extend(messages)

    def payloads(self) -> list[bytes]:
        with self.lock:
            return [m.payload for m in self.got]


def consumer(url: str, client_id: str, prefix: str, fast: bool, v5: bool) -> Inbox:
    inbox = Inbox()
    inbox.consumer = MqttConsumer(
        url,
        client_id,
        prefix,
        inbox.take,
        SystemClock(),
        share_group="canary" if v5 else None,
        fast_path=fast,
    )
    inbox.consumer.start()
    wait_until(inbox.consumer.connected.is_set, 15, "the consumer subscribed")
    return inbox


def messages(prefix: str, count: int) -> list[tuple[str, bytes]]:
    """Small readings, and every 250th one large enough to span several socket reads."""
    out = []
    for i in range(count):
        pad = b"x" * (100_000 if i % 250 == 0 else i % 40)
        payload = b'{"seq": %d, "salinity_ppt": 0.5, "pad": "%s"}' % (i, pad)
        out.append((f"{prefix}/salinity/d{i % 7}", payload))
    return out


@pytest.mark.parametrize("v5", [False, True], ids=["mqtt311", "mqtt5-shared"])
@pytest.mark.parametrize("fast", [True, False], ids=["fast-path", "paho-path"])
def test_every_message_arrives_once_intact_and_its_acknowledgement_counts(
    mosquitto: MosquittoServer, topic_prefix: str, fast: bool, v5: bool
) -> None:
    client_id = "canary-" + uuid.uuid4().hex[:8]
    sent = messages(topic_prefix, 3_000)
    inbox = consumer(mosquitto.url, client_id, topic_prefix, fast, v5)
    publisher = Publisher(mosquitto.url)
    try:
        publisher.publish_all(sent)
        wait_until(lambda: len(inbox.payloads()) >= len(sent), 60, "every message")
        assert sorted(inbox.payloads()) == sorted(p for _, p in sent)  # each once, intact
        assert {m.topic for m in inbox.got} == {t for t, _ in sent[:7]}
        assert inbox.consumer is not None
        inbox.consumer.stop()
        # the same session again: an acknowledged message is never delivered twice; a marker
        # published now arrives after anything the broker still held for us
        again = consumer(mosquitto.url, client_id, topic_prefix, fast, v5)
        marker = b'{"seq": -1, "salinity_ppt": 0.1}'
        publisher.publish_all([(f"{topic_prefix}/salinity/d0", marker)])
        wait_until(lambda: marker in again.payloads(), 30, "the marker")
        assert again.payloads() == [marker]
        assert again.consumer is not None
        again.consumer.stop()
    finally:
        publisher.close()
