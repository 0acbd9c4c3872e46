"""Composition of the alert engine from settings: rules, state, notifiers, receivers."""

from __future__ import annotations

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.judging import StatusSource
from saltwatch.alerts.notifiers import Notifier
from saltwatch.alerts.notifiers.email import EmailNotifier
from saltwatch.alerts.notifiers.mqtt import LogNotifier, MqttNotifier
from saltwatch.alerts.notifiers.template import BodyTemplate
from saltwatch.alerts.notifiers.webhook import WebhookNotifier
from saltwatch.alerts.routing import LOG_CHANNEL, MQTT_CHANNEL, receiver_channel
from saltwatch.alerts.store import AlertStore
from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.errors import ConfigError
from saltwatch.core.registry import Registry
from saltwatch.core.rules import rules_in_force
from saltwatch.core.settings import ReceiverSettings, Settings


def receiver_notifier(receiver: ReceiverSettings, settings: Settings) -> Notifier:
    if receiver.type != "webhook" and (receiver.template or receiver.template_path):
        raise ConfigError(f"alerts.receivers {receiver.name!r}: only a webhook takes a template")
    if receiver.type == "webhook":
        if not receiver.url:
            raise ConfigError(f"alerts.receivers {receiver.name!r}: a webhook needs a url")
        return WebhookNotifier(
            receiver.name,
            receiver.url,
            receiver.secret,
            template=BodyTemplate.load(receiver.name, receiver.template, receiver.template_path),
            content_type=receiver.content_type,
            headers=receiver.headers,
        )
    if receiver.type == "email":
        if not receiver.to:
            raise ConfigError(f"alerts.receivers {receiver.name!r}: e-mail needs 'to' addresses")
        return EmailNotifier(receiver.name, settings.alerts.smtp, receiver.to)
    return LogNotifier(receiver_channel(receiver.name))


def build_engine(
    settings: Settings,
    registry: Registry,
    state: AlertStore,
    clock: Clock | None = None,
    statuses: StatusSource | None = None,
) -> AlertEngine:
    """The engine with its notifiers from ``settings``, over ``state`` (opened by the caller)."""
    a = settings.alerts
    notifiers: dict[str, Notifier] = {
        MQTT_CHANNEL: MqttNotifier(
            settings.mqtt.url,
            settings.mqtt.topic_prefix,
            client_id=f"{a.client_id}-out",
            ca_file=settings.mqtt.ca_file,
            login_as_client_id=settings.mqtt.login_as_client_id,
            keepalive_s=settings.mqtt.keepalive_s,
        ),
        LOG_CHANNEL: LogNotifier(),
    }
    for receiver in a.receivers:
        notifiers[receiver_channel(receiver.name)] = receiver_notifier(receiver, settings)
    saved = state.saved_rules()  # rules an admin changed through the API outlive a restart
    rules = rules_in_force(saved, a.rules_path)
    return AlertEngine(
        rules,
        registry,
        state,
        clock or SystemClock(),
        notifiers,
        statuses=statuses,
        receivers=a.receivers,
        repeat_s=a.repeat_s,
        escalate_after_s=a.escalate_after_s,
    )
