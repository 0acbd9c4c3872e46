"""Who hears about an event: silences first, then the contract's MQTT topics and every receiver
whose zones, minimum severity and kind (normal or escalation-only) match. Pure functions."""

from __future__ import annotations

from saltwatch.alerts.model import SOON_RULE, Alert, Event, Silence
from saltwatch.core.registry import Registry
from saltwatch.core.rules import SEVERITY_RANK
from saltwatch.core.settings import ReceiverSettings

MQTT_CHANNEL = "mqtt"
LOG_CHANNEL = "log"


def receiver_zones_match(receiver: ReceiverSettings, zones: list[str]) -> bool:
    return not receiver.zones or bool(set(receiver.zones) & set(zones))


def receiver_channel(name: str) -> str:
    return f"receiver:{name}"


def alert_zones(alert: Alert, registry: Registry) -> list[str]:
    """The alert's zones: its device's zones and all their ancestors (or its own zone's)."""
    device = registry.device(alert.device) if alert.device else None
    if device is not None:
        return registry.alert_zones(device)
    if alert.zone in registry.zones:
        return [alert.zone, *registry.ancestors(alert.zone)]
    return [alert.zone]


def channels_for(
    event: Event,
    receivers: list[ReceiverSettings],
    registry: Registry,
    silences: list[Silence],
    now_ns: int,
    *,
    escalation: bool = False,
    reminder: bool = False,
) -> list[str]:
    alert = event.alert
    zones = alert_zones(alert, registry)
    if any(s.mutes(alert, zones, now_ns) for s in silences):
        return []
    channels = [] if (escalation or reminder) else [MQTT_CHANNEL, LOG_CHANNEL]
    rank = SEVERITY_RANK[alert.severity]
    for receiver in receivers:
        if alert.rule == SOON_RULE:  # a reminder: only for who asked, whatever their severity
            if receiver.windows_soon and not escalation and receiver_zones_match(receiver, zones):
                channels.append(receiver_channel(receiver.name))
            continue
        if rank < SEVERITY_RANK[receiver.min_severity]:
            continue
        if receiver.escalation_only != escalation:
            continue
        if not receiver_zones_match(receiver, zones):
            continue
        channels.append(receiver_channel(receiver.name))
    return channels
