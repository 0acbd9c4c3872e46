"""Validate one MQTT message: topic, device, payload → readings placed in their zones, or
rejections.

This is the whole validation path of ingest; time comes in as ``now_ns``. ``MessageValidator``
remembers what it learnt about each topic (kind, device, zone), since a fleet publishes on few
topics.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from saltwatch.core.codec import CodecLimits, DecodeResult, decode_payload
from saltwatch.core.errors import BadInputError
from saltwatch.core.reasons import Reason
from saltwatch.core.registry import Registry
from saltwatch.core.topics import READING_KINDS, TopicKind, parse_topic
from saltwatch.core.types import Rejection

UNASSIGNED_ZONE = "unassigned"
_TOPIC_CACHE_LIMIT = 100_000


@dataclass(frozen=True, slots=True)
class ValidationConfig:
    topic_prefix: str = "saltwatch"
    accept_unknown: bool = False
    limits: CodecLimits = field(default_factory=CodecLimits)


@dataclass(frozen=True, slots=True)
class _Place:
    kind: TopicKind
    device: str
    zone: str
    river: str


class MessageValidator:
    def __init__(self, registry: Registry, cfg: ValidationConfig) -> None:
        self.registry = registry
        self.cfg = cfg
        self._topics: dict[str, _Place | Rejection] = {}

    def validate(self, topic: str, payload: bytes, now_ns: int) -> DecodeResult:
        """Readings (with zone and river from the registry) and rejections for one message."""
        place = self._topics.get(topic)
        if place is None:
            place = self._place(topic)
            if len(self._topics) >= _TOPIC_CACHE_LIMIT:
                self._topics.clear()
            self._topics[topic] = place
        if isinstance(place, Rejection):
            return DecodeResult(rejections=[place])
        return decode_payload(
            place.kind, place.device, payload, now_ns, self.cfg.limits, place.zone, place.river
        )

    def _place(self, topic: str) -> _Place | Rejection:
        try:
            parsed = parse_topic(self.cfg.topic_prefix, topic)
        except BadInputError as exc:
            return Rejection(Reason.BAD_TOPIC.value, str(exc))
        if parsed.kind not in READING_KINDS:
            return Rejection(Reason.BAD_TOPIC.value, "not a reading topic")
        device = self.registry.device(parsed.ident)
        if device is not None and device.kind != parsed.kind.value:
            detail = f"device {parsed.ident!r} is a {device.kind}, not a {parsed.kind.value}"
            return Rejection(Reason.UNKNOWN_DEVICE.value, detail)
        if device is None:
            if not self.cfg.accept_unknown:
                detail = f"device {parsed.ident!r} is not in the registry"
                return Rejection(Reason.UNKNOWN_DEVICE.value, detail)
            return _Place(parsed.kind, parsed.ident, UNASSIGNED_ZONE, "")
        return _Place(parsed.kind, parsed.ident, device.zone, device.river or "")


def validate_message(
    topic: str, payload: bytes, now_ns: int, registry: Registry, cfg: ValidationConfig
) -> DecodeResult:
    """One-off form of ``MessageValidator.validate``."""
    return MessageValidator(registry, cfg).validate(topic, payload, now_ns)
