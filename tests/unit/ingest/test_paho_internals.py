"""The paho-mqtt internals ingest's consumer builds on (ingest/mqtt.py): these fail first when a
paho upgrade changes them, and the bulk PUBLISH reader is checked packet by packet."""

from __future__ import annotations

import inspect
import struct
from importlib.metadata import version

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from saltwatch.ingest.mqtt import _BufferedClient
from saltwatch.ingest.wire import publishes


def test_the_paho_internals_used_are_still_there() -> None:
    assert version("paho-mqtt").split(".")[0] == "2"
    params = list(inspect.signature(mqtt.Client._packet_queue).parameters)
    assert params == ["self", "command", "packet", "mid", "qos", "info"]
    assert list(inspect.signature(mqtt.Client._sock_recv).parameters) == ["self", "bufsize"]
    assert list(inspect.signature(mqtt.Client._packet_read).parameters) == ["self"]
    client = _BufferedClient(CallbackAPIVersion.VERSION2, client_id="t", manual_ack=True)
    assert client._in_packet["command"] == 0
    assert hasattr(client, "_msgtime_mutex") and hasattr(client, "_last_bytes_received")
    assert client._protocol == mqtt.MQTTv311
    assert mqtt.time_func is not None


def publish(topic: bytes, payload: bytes, mid: int, qos: int = 1, v5: bool = False) -> bytes:
    body = struct.pack("!H", len(topic)) + topic
    if qos:
        body += struct.pack("!H", mid)
    if v5:
        props = b"\x01\x01"  # payload format indicator = 1
        body += bytes([len(props)]) + props
    body += payload
    length, n = b"", len(body)
    while True:
        byte, n = n & 0x7F, n >> 7
        length += bytes([byte | (0x80 if n else 0)])
        if not n:
            break
    return bytes([0x30 | (qos << 1)]) + length + body


def test_complete_publishes_are_read_in_one_pass() -> None:
    big = b"x" * 300  # a two-byte remaining length
    buf = publish(b"a/b", b"{}", 1) + publish(b"c", big, 2) + publish(b"r", b"1", 0, qos=0)
    batch, pos = publishes(buf, 0, v5=False)
    assert batch == [
        (b"a/b", b"{}", 1, 1, False),
        (b"c", big, 2, 1, False),
        (b"r", b"1", 0, 0, False),
    ]
    assert pos == len(buf)


def test_v5_properties_are_skipped() -> None:
    buf = publish(b"t/x", b"payload", 7, v5=True)
    assert publishes(buf, 0, v5=True) == ([(b"t/x", b"payload", 7, 1, False)], len(buf))


@pytest.mark.parametrize(
    "tail",
    [
        b"\x20\x02\x00\x00",  # a CONNACK: paho's
        publish(b"q2", b"{}", 3, qos=2),  # QoS 2: paho's (it keeps state for those)
        publish(b"part", b"{}", 4)[:-1],  # not complete yet
    ],
)
def test_the_reader_stops_at_what_paho_must_read(tail: bytes) -> None:
    head = publish(b"a", b"{}", 1)
    batch, pos = publishes(head + tail, 0, v5=False)
    assert batch == [(b"a", b"{}", 1, 1, False)] and pos == len(head)


def test_acks_of_a_batch_are_one_packet_write() -> None:
    client = _BufferedClient(
        CallbackAPIVersion.VERSION2,
        client_id="t",
        manual_ack=True,
        protocol=MQTTProtocolVersion.MQTTv311,
    )
    client.ack_many([1, 2, 258])
    (queued,) = list(client._out_packet)
    assert queued["packet"] == b"\x40\x02\x00\x01" + b"\x40\x02\x00\x02" + b"\x40\x02\x01\x02"
