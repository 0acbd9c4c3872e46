"""A simulated week of every bundled device through a real mosquitto, counted at a subscriber."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from harness.mqtt_tools import Collector
from harness.services import MosquittoServer, wait_until
from saltwatch.core.registry import load_registry
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.publisher import SimPublisher
from saltwatch.sim.salinity import SCENARIOS, epoch

pytestmark = pytest.mark.integration


def test_a_week_of_every_device_arrives_as_the_simulator_counted(
    mosquitto: MosquittoServer, topic_prefix: str
) -> None:
    registry = load_registry()
    fleet = Fleet(
        registry,
        SimConfig(
            SCENARIOS["2024"],
            seed=5,
            interval_s=900,
            faults=FaultRates().scaled(3),
            topic_prefix=topic_prefix,
        ),
    )
    collector = Collector(mosquitto.url, [f"{topic_prefix}/#"])
    threads = threading.active_count()
    publisher = SimPublisher(mosquitto.url, fleet.devices, topic_prefix)
    publisher.connect()
    # every device its own connection (its login, its last will), all on one network thread
    assert threading.active_count() - threads == 1
    start, end = epoch("2024-03-06"), epoch("2024-03-13")
    stats = publisher.publish(fleet.messages(start, end), start, end, speed=None, progress=None)
    publisher.close()
    expected = sum(fleet.tally.messages.values())
    assert stats.published == expected
    wait_until(lambda: len(collector.snapshot()) >= expected, 60, "every message", interval=0.2)
    received = collector.snapshot()
    collector.close()
    by_device = Counter(topic.rsplit("/", 1)[1] for topic, _ in received)
    assert by_device == fleet.tally.messages
    assert len(by_device) == len(registry.devices)
    # faults made it through too
    kinds = Counter(fault for _, fault in fleet.tally.faults)
    assert {"silent", "store_forward", "flatline", "spike", "clock"} <= set(kinds)
    batches = [p for topic, p in received if p.startswith(b"[")]
    assert batches, "store-and-forward uploads arrive as batches"
    statuses = Counter(p for topic, p in received if "/status/" in topic)
    assert statuses[b"offline"] > 0 and statuses[b"online"] >= len(registry.devices)


def test_accelerated_time_paces_the_publishing(
    mosquitto: MosquittoServer, topic_prefix: str
) -> None:
    registry = load_registry()
    fleet = Fleet(
        registry,
        SimConfig(
            SCENARIOS["2024"], interval_s=900, faults=FaultRates.none(), topic_prefix=topic_prefix
        ),
        list(registry.devices.values())[:4],
    )
    publisher = SimPublisher(mosquitto.url, fleet.devices, topic_prefix)
    publisher.connect()
    start = epoch("2024-03-12")
    end = start + 2 * 3600  # two simulated hours at 3600x: about two seconds
    stats = publisher.publish(fleet.messages(start, end), start, end, speed=3600, progress=None)
    publisher.close()
    assert stats.published == 4 + 4 * 8  # the greetings, then 8 readings each
    assert 1.5 <= stats.seconds < 10
