"""LoRaWAN uplinks (docs/sources.md): messages a network server publishes on its own topics, in
its own envelope, read by ingest beside the devices' own topics.

ChirpStack v4 publishes each uplink on ``application/<app id>/device/<DevEUI>/event/up`` with the
device in ``deviceInfo``, the time in ``time`` and, when the device profile has a codec, the
decoded values in ``object``; The Things Stack v3 on ``v3/<app>@<tenant>/devices/<id>/up`` with
``end_device_ids``, ``received_at`` and ``uplink_message.decoded_payload``. The source's mapping
(core/mapping.py) finds the registry device and the quantities in the envelope; an uplink
without decoded values is refused (``not_decoded``): SaltWatch does not guess a payload's bytes.
From there an uplink is a message like any other: QC, conflicts, spool, acknowledged only once
durable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from paho.mqtt.client import topic_matches_sub

from saltwatch.core.codec import DecodeResult
from saltwatch.core.mapping import RecordMapper, lookup
from saltwatch.core.reasons import Reason
from saltwatch.core.registry import Registry
from saltwatch.core.sources import SourceSettings
from saltwatch.core.types import Rejection

#: each network server's uplink topics, when a source names none
DEFAULT_TOPICS = {
    "chirpstack": ("application/+/device/+/event/up",),
    "tts": ("v3/+/devices/+/up",),
}
#: where each envelope carries the values its codec decoded
DECODED = {"chirpstack": "object", "tts": "uplink_message.decoded_payload"}


def topics_of(source: SourceSettings) -> tuple[str, ...]:
    return tuple(source.topics) or DEFAULT_TOPICS.get(source.kind, ())


def uplink_topics(sources: Sequence[SourceSettings]) -> tuple[str, ...]:
    """Every topic filter ingest subscribes to for the configured network servers."""
    return tuple(t for s in sources if s.kind in DECODED for t in topics_of(s))


class Uplinks:
    """Judges a network server's message into readings of the mapped registry device."""

    def __init__(
        self,
        sources: Sequence[SourceSettings],
        registry: Registry,
        max_future_s: float,
        max_age_s: float,
        max_payload_bytes: int,
    ) -> None:
        self._routes = [
            (topic, source.kind, RecordMapper(source, registry, max_future_s, max_age_s))
            for source in sources
            if source.kind in DECODED
            for topic in topics_of(source)
        ]
        self._max_bytes = max_payload_bytes

    def __bool__(self) -> bool:
        return bool(self._routes)

    def owns(self, topic: str) -> bool:
        return any(topic_matches_sub(sub, topic) for sub, _, _ in self._routes)

    def judge(self, topic: str, payload: bytes, now_ns: int) -> DecodeResult:
        route = next((r for r in self._routes if topic_matches_sub(r[0], topic)), None)
        if route is None:
            return _refused(Reason.BAD_TOPIC, "no source reads this topic")
        _, kind, mapper = route
        if len(payload) > self._max_bytes:
            return _refused(Reason.PAYLOAD_TOO_LARGE, f"{len(payload)} bytes")
        try:
            envelope: Any = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return _refused(Reason.NOT_JSON, "the uplink is not JSON")
        if not isinstance(envelope, dict):
            return _refused(Reason.BAD_SHAPE, "the uplink is not a JSON object")
        decoded = lookup(envelope, DECODED[kind])
        if not isinstance(decoded, dict) or not decoded:
            detail = f"no decoded values ({DECODED[kind]}): give the device profile a codec"
            return _refused(Reason.NOT_DECODED, detail)
        result = mapper.map(envelope, now_ns)
        if isinstance(result, Rejection):
            return DecodeResult(rejections=[result])
        return DecodeResult(readings=[result])


def _refused(reason: Reason, detail: str) -> DecodeResult:
    return DecodeResult(rejections=[Rejection(reason.value, detail)])
