"""The demo's past: what a fresh demo folder holds before live begins — the last week of every
device written straight to the store (judged by ingest's own intake), the salinity stations'
logged 2-hourly readings of the weeks before (what the week-ahead outlook learns from), and last
season's archive of one station imported through a file source (saltwatch/demo_sources.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

from saltwatch.core.codec import CodecLimits
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import Registry
from saltwatch.core.settings import Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Reading
from saltwatch.core.validation import ValidationConfig
from saltwatch.demo_sources import ARCHIVE_STATION, import_archive
from saltwatch.ingest.conflicts import Conflicts
from saltwatch.ingest.devices import DeviceTracker
from saltwatch.ingest.intake import Inbound, Intake
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.sim.fleet import Fleet, Message, SimConfig

LOGGED_DAYS = 45  # before the history: the salinity stations' logged readings…
LOGGED_INTERVAL_S = 7200  # …2-hourly


def preload(
    messages: Iterator[Message],
    until_s: float,
    registry: Registry,
    store: ReadingStore,
    prefix: str,
    qc: QualityControl,
) -> tuple[int, list[Message]]:
    """Write the messages before ``until_s`` straight to the store (history), judged by ingest's
    own intake (validation, QC, conflicts). Returns how many readings, and what to publish when
    live begins: each device's last status message, then the first message at or after
    ``until_s`` (taken from ``messages`` to find the end)."""
    judge = ValidationConfig(topic_prefix=prefix, limits=CodecLimits(max_backfill_s=400 * 86400))
    intake = Intake(registry, judge, qc, IngestMetrics(), DeviceTracker(), conflicts=Conflicts())
    now_ns = int(until_s * NS_PER_S)
    batch: list[Reading] = []
    total = 0
    statuses: dict[str, Message] = {}
    for message in messages:
        if message.t_s >= until_s:
            statuses[""] = message  # the first live one: last in the list
            break
        if "/status/" in message.topic:
            statuses[message.device] = message
            continue
        intake.take(Inbound(message.topic, message.payload, now_ns), batch)
        if len(batch) >= 5_000:
            store.write(batch)
            total += len(batch)
            batch = []
    store.write(batch)
    return total + len(batch), list(statuses.values())


def log_before(
    registry: Registry,
    sim_config: SimConfig,
    store: ReadingStore,
    settings: Settings,
    until_s: float,
) -> int:
    """The salinity and river stations' ``LOGGED_DAYS`` before ``until_s`` at 2-hourly readings,
    as a logger keeps them: what the week-ahead outlook learns from (it wants weeks of whole
    days, and the upstream flow of the last month)."""
    stations = [*registry.devices_of("salinity"), *registry.devices_of("hydro")]
    logged = replace(sim_config, interval_s=LOGGED_INTERVAL_S)
    messages = Fleet(registry, logged, stations).messages(until_s - LOGGED_DAYS * 86400, until_s)
    qc = QualityControl(settings.qc.to_config())
    count, _ = preload(messages, until_s, registry, store, settings.mqtt.topic_prefix, qc)
    return count


def write_history(
    messages: Iterator[Message],
    start_ns: int,
    history_s: float,
    registry: Registry,
    store: ReadingStore,
    settings: Settings,
    sim_config: SimConfig,
    echo: Callable[[str], None],
) -> list[Message]:
    """The days before the start, written to the store, and last season's archive imported;
    the statuses to publish when live begins."""
    qc = QualityControl(settings.qc.to_config())
    start_s = start_ns / NS_PER_S
    prefix = settings.mqtt.topic_prefix
    count, statuses = preload(messages, start_s, registry, store, prefix, qc)
    echo(f"  {count:,} readings")
    logged = log_before(registry, sim_config, store, settings, start_s - history_s)
    echo(f"  and the {LOGGED_DAYS} days before, as the stations logged them (2-hourly): "
         f"{logged:,} readings")  # fmt: skip
    stored = import_archive(registry, sim_config, settings, store, start_ns)
    echo(f"  and last season's archive of {ARCHIVE_STATION}, imported: {stored:,} readings")
    return statuses
