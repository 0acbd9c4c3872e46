"""Ingest counters and gauges, on a Prometheus registry the API's /metrics exposes."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.received = Counter(
            "saltwatch_ingest_messages_received", "MQTT messages received", registry=r
        )
        self.items = Counter("saltwatch_ingest_items", "Payload items judged", registry=r)
        self.stored = Counter(
            "saltwatch_ingest_readings_stored", "Readings durably written to the store", registry=r
        )
        self.spooled = Counter(
            "saltwatch_ingest_readings_spooled",
            "Readings written to the local spool while the store was away",
            registry=r,
        )
        self.refused = Counter(
            "saltwatch_ingest_readings_refused",
            "Readings the store refused, kept in the spool's refused/ folder",
            registry=r,
        )
        self.rejected = Counter(
            "saltwatch_ingest_rejected",
            "Rejected items (or whole messages)",
            ["reason"],
            registry=r,
        )
        self.acked = Counter("saltwatch_ingest_messages_acked", "Messages acknowledged", registry=r)
        self.seq_lost = Gauge(
            "saltwatch_ingest_seq_lost", "Messages missing from devices' seq numbering", registry=r
        )
        self.unacked = Gauge(
            "saltwatch_ingest_unacked", "Messages received, not yet acknowledged", registry=r
        )
        self.spool_batches = Gauge(
            "saltwatch_ingest_spool_batches", "Batches in the spool", registry=r
        )
        self.spool_bytes = Gauge("saltwatch_ingest_spool_bytes", "Bytes in the spool", registry=r)
        self.store_up = Gauge(
            "saltwatch_ingest_store_up", "1 when the store takes writes", registry=r
        )
        self.source_lag = Gauge(
            "saltwatch_source_lag_seconds",
            "Seconds since the newest reading landed from each polled source (docs/sources.md)",
            ["source"],
            registry=r,
        )
        self.connected = Gauge(
            "saltwatch_ingest_broker_connected", "1 when connected to MQTT", registry=r
        )
        self.write_seconds = Histogram(
            "saltwatch_ingest_batch_write_seconds",
            "Time to write one batch to the store",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
