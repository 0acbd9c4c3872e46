"""Composition of the alert engine from settings: rules, state, notifiers."""

from __future__ import annotations

from alerts.engine import AlertEngine, StatusSource
from alerts.notifiers import Notifier
from alerts.notifiers.mqtt import LogNotifier, MqttNotifier
from alerts.rules import load_rules
from alerts.state import AlertState
from core.clock import Clock, SystemClock
from core.registry import Registry
from core.settings import Settings


def build_engine(
    settings: Settings,
    registry: Registry,
    clock: Clock | None = None,
    statuses: StatusSource | None = None,
    extra_notifiers: list[Notifier] | None = None,
) -> AlertEngine:
    notifiers: list[Notifier] = [
        MqttNotifier(
            settings.mqtt.url,
            settings.mqtt.topic_prefix,
            client_id=f"{settings.alerts.client_id}-out",
        ),
        LogNotifier(),
        *(extra_notifiers or []),
    ]
    return AlertEngine(
        load_rules(settings.alerts.rules_path),
        registry,
        AlertState(settings.state.path),
        clock or SystemClock(),
        notifiers,
        statuses=statuses,
    )
