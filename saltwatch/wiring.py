"""The parts of each process read from the settings, in one place: what a message must be
(validation), the LoRaWAN uplinks, the MQTT consumer, ingest, the alerts process's feed, and the
alert engine with its notifiers. The components get their typed part in their constructors and
never read the settings themselves (docs/architecture.md)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

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
from saltwatch.core.codec import CodecLimits
from saltwatch.core.errors import ConfigError, FatalError, RetryableError
from saltwatch.core.registry import Registry
from saltwatch.core.rules import rules_in_force
from saltwatch.core.settings import ReceiverSettings, Settings
from saltwatch.core.store import ReadingStore, ReadingWriter
from saltwatch.core.types import Reading
from saltwatch.core.validation import ValidationConfig
from saltwatch.ingest.claims import SharedClaims
from saltwatch.ingest.feed import FeedConfig, ReadingFeed
from saltwatch.ingest.intake import Inbound
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.ingest.mqtt import MqttConsumer
from saltwatch.ingest.partition import Partition
from saltwatch.ingest.poller import Polled, SourceStatus
from saltwatch.ingest.service import IngestConfig, IngestService
from saltwatch.ingest.uplinks import Uplinks, uplink_topics
from saltwatch.ingest_workers import earlier_subscriptions
from saltwatch.storage.landed_sqlite import SqliteLandedLog
from saltwatch.storage.polled_sqlite import SqlitePolledSources

log = logging.getLogger("saltwatch")


def validation_config(settings: Settings) -> ValidationConfig:
    """What a message must be to be read (from the ingest settings): ingest and feed alike."""
    ingest = settings.ingest
    return ValidationConfig(
        topic_prefix=settings.mqtt.topic_prefix,
        accept_unknown=ingest.accept_unknown,
        limits=CodecLimits(
            max_payload_bytes=ingest.max_payload_bytes,
            max_items=ingest.max_items,
            max_future_s=ingest.max_future_s,
            max_backfill_s=ingest.max_backfill_s,
        ),
    )


def uplinks_of(settings: Settings, registry: Registry) -> Uplinks:
    """The configured LoRaWAN network servers' uplinks, judged with ingest's limits."""
    ingest = settings.ingest
    return Uplinks(
        settings.sources,
        registry,
        ingest.max_future_s,
        ingest.max_backfill_s,
        ingest.max_payload_bytes,
    )


def mqtt_consumer(
    settings: Settings,
    client_id: str,
    on_inbound: Callable[[list[Inbound]], None],
    clock: Clock,
    share_group: str | None = None,
    on_connection_change: Callable[[bool], None] | None = None,
    owns: Callable[[bytes], bool] | None = None,
    forget: tuple[str, ...] = (),
) -> MqttConsumer:
    """The consumer as the settings configure it: ingest's and the alerts feed's alike."""
    m = settings.mqtt
    return MqttConsumer(
        m.url,
        client_id,
        m.topic_prefix,
        on_inbound,
        clock,
        share_group=share_group,
        keepalive_s=m.keepalive_s,
        receive_maximum=settings.ingest.max_unacked,
        ca_file=str(m.ca_file) if m.ca_file else None,
        login_as_client_id=m.login_as_client_id,
        on_connection_change=on_connection_change,
        fast_path=m.fast_path,
        owns=owns,
        forget=forget,
        also=uplink_topics(settings.sources),
    )


def ingest_service(
    settings: Settings,
    registry: Registry,
    store: ReadingWriter,
    clock: Clock | None = None,
    metrics: IngestMetrics | None = None,
    report_every_s: float = 60.0,
    history: ReadingStore | None = None,
    claims: SharedClaims | None = None,
    partition: Partition | None = None,
) -> IngestService:
    """Ingest as the settings configure it; a member of ``ingest --workers N`` with its
    ``partition`` (its own devices, on a plain subscription)."""
    clock = clock or SystemClock()
    config = IngestConfig(
        settings.ingest,
        settings.qc.to_config(),
        validation_config(settings),
        uplinks_of(settings, registry),
        settings.sources,
        settings.state.path.parent,
    )

    def connect(
        on_inbound: Callable[[list[Inbound]], None], on_change: Callable[[bool], None]
    ) -> MqttConsumer:
        return mqtt_consumer(
            settings,
            settings.mqtt.client_id,
            on_inbound,
            clock,
            share_group=None if partition else settings.mqtt.share_group,
            on_connection_change=on_change,
            owns=partition.owns if partition else None,
            forget=earlier_subscriptions(settings) if partition else (),
        )

    return IngestService(
        config, connect, registry, store, clock, metrics, report_every_s, history, claims, partition
    )


def reading_feed(
    settings: Settings,
    registry: Registry,
    client_id: str,
    clock: Clock | None = None,
    history: ReadingStore | None = None,
) -> ReadingFeed:
    """The alerts process's own subscription (``saltwatch alerts``)."""
    clock = clock or SystemClock()
    config = FeedConfig(
        settings.ingest.batch_interval_s,
        settings.qc.to_config(),
        validation_config(settings),
        uplinks_of(settings, registry),
        settings.state.path.parent / "qc-history-alerts.json",
    )

    def connect(on_inbound: Callable[[list[Inbound]], None]) -> MqttConsumer:
        return mqtt_consumer(settings, client_id, on_inbound, clock)

    return ReadingFeed(config, connect, registry, clock, history)


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


def landed_for_alerts(
    settings: Settings, clock: Clock | None = None
) -> Callable[[Sequence[Reading]], None]:
    """Where a process without the alert engine puts the readings it stored that the engine
    does not hear from the broker (a vendor's, a handheld one): the landed log in the alert
    state's file, which the process running the engine follows (storage/landed_sqlite.py)."""
    landed = SqliteLandedLog(settings.state.path)
    clock = clock or SystemClock()

    def tell(readings: Sequence[Reading]) -> None:
        try:
            landed.add(list(readings), clock.now_ns())
        except (RetryableError, FatalError) as exc:  # stored all the same; judged at its start
            log.warning("%d readings not logged for the alert engine: %s", len(readings), exc)

    return tell


class PolledElsewhere:
    """The vendor clouds as ``saltwatch ingest`` beside this process keeps them
    (storage/polled_sqlite.py), counted when asked: ``saltwatch alerts`` raises ``source-stale``
    from them at each tick, ``/health`` of ``saltwatch api`` lists them."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self._polled = SqlitePolledSources(settings.state.path)
        self._clock = clock

    def states(self) -> list[SourceStatus]:
        try:
            return self._polled.states(self._clock.now_ns())
        except (RetryableError, FatalError) as exc:  # busy, or not there yet: asked again later
            log.debug("the polled sources were not read: %s", exc)
            return []

    def stale_hours(self) -> dict[str, float]:
        try:
            return self._polled.stale_hours(self._clock.now_ns())
        except RetryableError as exc:  # the state file is busy: the next tick asks again
            log.debug("the polled sources were not read: %s", exc)
            return {}


def polled_for_alerts(
    settings: Settings, service: IngestService, stop: threading.Event, every_s: float = 15.0
) -> None:
    """Keep the vendor clouds' state where ``saltwatch alerts`` reads it (the alert state's
    file, storage/polled_sqlite.py), every ``every_s`` until ``stop``: it raises
    ``source-stale`` from it. Only the process that polls (the first member of a fleet)."""
    polled = SqlitePolledSources(settings.state.path)
    if not service.pollers:  # none now: forget those an earlier configuration polled
        if settings.state.path.exists():
            with contextlib.suppress(RetryableError, FatalError):
                polled.replace([])
        return

    def keep() -> None:
        kept: list[Polled] = []
        while True:
            now = [poller.polled() for poller in service.pollers]
            if now != kept:  # written when a poll landed something, not every turn
                try:
                    polled.replace(now)
                    kept = now
                except (RetryableError, FatalError) as exc:  # a full or read-only state file
                    log.warning("the polled sources' state was not kept: %s", exc)
            if stop.wait(every_s):
                return

    threading.Thread(target=keep, name="polled-sources", daemon=True).start()
