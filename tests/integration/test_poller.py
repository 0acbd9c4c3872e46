"""A vendor cloud polled over HTTP (docs/sources.md §5), against a local server of the vendor's
shape that pages, repeats records across windows, writes times in two zones, answers 500 once,
hangs once and lets its token expire: every record is stored exactly once, and the poller never
sends more requests in a minute than allowed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.documented import documented_sources
from harness.services import wait_until
from saltwatch.core.clock import SystemClock
from saltwatch.core.qc import QcConfig, QualityControl
from saltwatch.core.registry import load_registry
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.ingest.landing import Landing
from saltwatch.ingest.metrics import IngestMetrics
from saltwatch.ingest.poller import HttpPoller
from saltwatch.sim.vendor import Faults, VendorCloud

pytestmark = pytest.mark.integration

SERIALS = {"BUOY-01": "vam-kenh", "BUOY-02": "xuan-hoa"}
PER_MINUTE = 30
HALF_HOUR = 1800
ENV = {"VENDOR_USER": "tg-salinity", "VENDOR_PASSWORD": "s3cret", "VENDOR_API_KEY": "key-123"}


def value(serial: str, ts: int) -> float:
    return round(0.2 + (ts // HALF_HOUR % 40) / 10 + (0.05 if serial == "BUOY-02" else 0), 3)


@pytest.fixture
def vendor() -> Iterator[VendorCloud]:
    """Two buoys, a record each half hour over the last three days; the third data call answers
    500, the fifth hangs past the poller's timeout, the seventh finds the token expired."""
    cloud = VendorCloud("tg-salinity", "s3cret", "key-123", Faults({3}, {5}, {7}))
    now = int(time.time()) // HALF_HOUR * HALF_HOUR
    for serial in SERIALS:
        for k in range(144, 0, -1):
            ts = now - k * HALF_HOUR
            cloud.add(serial, ts, {"do_man": value(serial, ts), "nhiet_do": 29.5})
    with cloud.serving():
        yield cloud


def test_every_record_is_stored_once_through_errors_within_the_rate(
    vendor: VendorCloud, store: ReadingStore, tmp_path: Path
) -> None:
    state, url = vendor, vendor.url
    source = documented_sources()["vendor-buoys"].model_copy(
        update={
            "url": url,
            "every_s": 0.05,  # as often as it may: the rate limit is what holds it back
            "timeout_s": 1.0,
            "page_limit": 50,
            "lookback_s": 4 * 86_400.0,
            "requests_per_minute": PER_MINUTE,
        }
    )
    landing = Landing(store, QualityControl(QcConfig()), patience_s=5)
    metrics = IngestMetrics()
    poller = HttpPoller(
        source, load_registry(), landing, SystemClock(), tmp_path, 300.0, ENV, metrics
    )
    heard: list[int] = []
    poller.add_listener(lambda readings: heard.append(len(readings)))
    started = time.monotonic()
    poller.start()
    try:

        def landed() -> bool:
            return all(store.count(TopicKind.SALINITY, device=d) == 144 for d in SERIALS.values())

        wait_until(landed, 40, "every record of both buoys")
        wait_until(lambda: len(state.requests) >= PER_MINUTE, 20, "the minute's requests used")
        still = len(state.requests)
        # the poller would ask every 50 ms; watched for a second, it sends nothing more
        assert not turns_false(lambda: len(state.requests) == still, 1.0)
    finally:
        poller.stop()
    assert time.monotonic() - started < 60
    assert len(state.requests) <= PER_MINUTE
    assert (state.errors, state.hangs) == (1, 1) and state.logins >= 2  # and an expired token
    for serial, device in SERIALS.items():
        rows = store.query(TopicKind.SALINITY, device, 0, 2**62)
        assert [r.ts_ns // 10**9 for r in rows] == sorted(state.records[serial])
        assert [r.fields["salinity_ppt"] for r in rows] == [
            value(serial, ts) for ts in sorted(state.records[serial])
        ]
        assert {r.fields["source"] for r in rows} == {"vendor-buoys"}
    assert poller.tally.already > 0  # the overlapping windows asked again for what was stored
    assert poller.tally.conflicts == 0 and not poller.tally.refused
    assert sum(heard) == 288  # each new reading handed on once, to the alert engine
    status = poller.status()
    assert status.lag_s is not None and status.lag_s < 2 * HALF_HOUR
    assert not status.stale and not status.failing
    gauge = metrics.registry.get_sample_value(
        "saltwatch_source_lag_seconds", {"source": "vendor-buoys"}
    )
    assert gauge is not None and 0 < gauge < 2 * HALF_HOUR


def test_a_vendor_that_never_answers_is_failing_and_stale(
    store: ReadingStore, tmp_path: Path
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    source = documented_sources()["vendor-buoys"].model_copy(
        update={
            "url": f"http://127.0.0.1:{port}/api/v1",
            "every_s": 0.1,
            "timeout_s": 0.5,
            "stale_after_s": 0.5,  # nothing ever came: stale this long after polling began
        }
    )
    landing = Landing(store, QualityControl(QcConfig()), patience_s=1)
    poller = HttpPoller(source, load_registry(), landing, SystemClock(), tmp_path, 300.0, {})
    poller.start()
    try:
        assert not poller.status().stale  # not at once: a source gets its stale_after
        wait_until(lambda: poller.status().stale, 10, "the silent source called stale")
    finally:
        poller.stop()
    status = poller.status()
    assert status.failing and status.lag_s is None
    assert store.count(TopicKind.SALINITY) == 0


@pytest.mark.parametrize("vendor_gives", [None, 50])
def test_a_day_that_fills_a_page_is_asked_again_with_a_larger_limit(
    store: ReadingStore, tmp_path: Path, caplog: pytest.LogCaptureFixture, vendor_gives: int | None
) -> None:
    """The API takes whole days and a limit, no offset: 130 records of one local day with a
    page of 50 are fetched whole by asking that day again with 100, then 200; a vendor that
    gives no more than 50 whatever is asked leaves the rest, and the log says so."""
    cloud = VendorCloud("tg-salinity", "s3cret", "key-123", max_limit=vendor_gives)
    midnight = (int(time.time()) + 7 * 3600) // 86_400 * 86_400 - 7 * 3600  # today, in Vietnam
    day = midnight - 86_400  # yesterday: all of it is past
    for k in range(130):
        ts = day + 300 + k * 600
        cloud.add("BUOY-01", ts, {"do_man": value("BUOY-01", ts), "nhiet_do": 29.5})
    source = documented_sources()["vendor-buoys"].model_copy(
        update={"page_limit": 50, "lookback_s": 2 * 86_400.0, "requests_per_minute": 600}
    )
    with cloud.serving():
        source = source.model_copy(update={"url": cloud.url})
        landing = Landing(store, QualityControl(QcConfig()), patience_s=5)
        poller = HttpPoller(source, load_registry(), landing, SystemClock(), tmp_path, 300.0, ENV)
        poller.poll()
    stored = store.count(TopicKind.SALINITY, device="vam-kenh")
    too_dense = [r for r in caplog.records if "at most" in r.getMessage()]
    if vendor_gives is None:
        assert stored == 130 and not too_dense
    else:
        assert stored == 50 and len(too_dense) == 1


def turns_false(check: Any, seconds: float) -> bool:
    """Whether ``check`` turns false while watched for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            return True
        time.sleep(0.05)
    return False
