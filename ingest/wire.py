"""The MQTT wire format where ingest reads it itself: complete PUBLISH packets taken in bulk
from a receive buffer, and the PUBACKs of a batch built in one piece (ingest/mqtt.py hands both
to paho)."""

from __future__ import annotations

import struct

#: One PUBLISH as the fast path hands it over: topic, payload, packet id, QoS, retained.
RawPublish = tuple[bytes, bytes, int, int, bool]

PUBACK = 0x40


_PUBACK = struct.Struct("!BBH")


def puback_packets(mids: list[int]) -> bytes:
    """The PUBACK packets (MQTT 3.1.1 and 5: success) of ``mids``, end to end."""
    return b"".join([_PUBACK.pack(PUBACK, 2, mid) for mid in mids])


def publishes(buf: bytes, pos: int, v5: bool) -> tuple[list[RawPublish], int]:
    """The complete QoS 0/1 PUBLISH packets from ``pos`` on, and where the first other packet
    (or an incomplete one) begins."""
    out: list[RawPublish] = []
    end = len(buf)
    while pos < end:
        first = buf[pos]
        qos = (first >> 1) & 3
        if first & 0xF0 != 0x30 or qos == 2:
            break
        length, i = _varint(buf, pos + 1, end)
        if length < 0:
            break  # the length runs past the buffer (or past 4 bytes: paho says malformed)
        body_end = i + length
        if body_end > end or length < 2:
            break
        topic_end = i + 2 + ((buf[i] << 8) | buf[i + 1])
        j = topic_end
        mid = 0
        if qos:
            mid = (buf[j] << 8) | buf[j + 1]
            j += 2
        if v5:  # the properties: skipped (no topic aliases are allowed to the broker)
            plen, j = _varint(buf, j, body_end)
            j = body_end + 1 if plen < 0 else j + plen
        if j > body_end:
            break  # malformed: paho's path says so
        out.append((buf[i + 2 : topic_end], buf[j:body_end], mid, qos, bool(first & 1)))
        pos = body_end
    return out, pos


def _varint(buf: bytes, i: int, end: int) -> tuple[int, int]:
    """MQTT's variable byte integer at ``i`` (at most 4 bytes, before ``end``): its value and
    where it ends; value -1 when it does not end in time."""
    value, shift = 0, 0
    while i < end and shift <= 21:
        byte = buf[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, i
    return -1, i
