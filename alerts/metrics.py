"""Prometheus metrics of the alert engine: state changes, deliveries, evaluation time."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class AlertMetrics:
    def __init__(self, open_alerts: Callable[[], float]) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "saltwatch_alert_events",
            "Alert state changes (firing, resolved, acknowledged) by rule kind",
            ["kind", "state"],
            registry=self.registry,
        )
        self.deliveries = Counter(
            "saltwatch_alert_deliveries",
            "Notification attempts by channel and outcome (sent, retry, refused)",
            ["channel", "outcome"],
            registry=self.registry,
        )
        self.tick_seconds = Histogram(
            "saltwatch_alert_tick_seconds",
            "Time of one scheduled evaluation of every rule for every device",
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
            registry=self.registry,
        )
        self.unsaved = Counter(
            "saltwatch_alert_state_unsaved",
            "Attempts to save alert changes that failed (full disk, read-only file): the "
            "changes wait in memory, in order",
            registry=self.registry,
        )
        self.waiting = Gauge(
            "saltwatch_alert_changes_waiting",
            "Sets of alert changes judged and waiting to be saved (told once they are)",
            registry=self.registry,
        )
        self.waiting_dropped = Counter(
            "saltwatch_alert_changes_waiting_dropped",
            "Sets of alert changes let go because too many waited to be saved",
            registry=self.registry,
        )
        self.handoff_dropped = Counter(
            "saltwatch_alert_handoff_dropped",
            "Ingest batches not judged at once because the hand-off queue was full (the next "
            "tick judges their devices)",
            registry=self.registry,
        )
        self.open = Gauge(
            "saltwatch_alerts_open",
            "Alerts firing or acknowledged and not yet resolved",
            registry=self.registry,
        )
        self.open.set_function(open_alerts)
