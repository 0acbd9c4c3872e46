"""Judge one MQTT message: topic, device, payload → readings placed in their zones, or rejections.

This is the whole validation path of ingest as one pure function (time comes in as ``now_ns``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core.codec import CodecLimits, DecodeResult, Reason, decode_payload
from core.errors import BadInputError
from core.registry import Registry
from core.topics import READING_KINDS, parse_topic
from core.types import Rejection

UNASSIGNED_ZONE = "unassigned"


@dataclass(frozen=True, slots=True)
class JudgeConfig:
    topic_prefix: str = "saltwatch"
    accept_unknown: bool = False
    limits: CodecLimits = field(default_factory=CodecLimits)


def judge_message(
    topic: str, payload: bytes, now_ns: int, registry: Registry, cfg: JudgeConfig
) -> DecodeResult:
    """Readings (with zone and river from the registry) and rejections for one reading message."""
    try:
        parsed = parse_topic(cfg.topic_prefix, topic)
    except BadInputError as exc:
        return DecodeResult(rejections=[Rejection(Reason.BAD_TOPIC.value, str(exc))])
    if parsed.kind not in READING_KINDS:
        return DecodeResult(rejections=[Rejection(Reason.BAD_TOPIC.value, "not a reading topic")])
    device = registry.device(parsed.ident)
    if device is not None and device.kind != parsed.kind.value:
        detail = f"device {parsed.ident!r} is a {device.kind}, not a {parsed.kind.value}"
        return DecodeResult(rejections=[Rejection(Reason.UNKNOWN_DEVICE.value, detail)])
    if device is None and not cfg.accept_unknown:
        detail = f"device {parsed.ident!r} is not in the registry"
        return DecodeResult(rejections=[Rejection(Reason.UNKNOWN_DEVICE.value, detail)])
    result = decode_payload(parsed.kind, parsed.ident, payload, now_ns, cfg.limits)
    zone = device.zone if device else UNASSIGNED_ZONE
    river = (device.river or "") if device else ""
    result.readings = [replace(r, zone=zone, river=river) for r in result.readings]
    return result
