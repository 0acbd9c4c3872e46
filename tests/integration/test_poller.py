"""A vendor cloud polled over HTTP (docs/sources.md §5), against a local server of the vendor's
shape that pages, repeats records across windows, writes times in two zones, answers 500 once,
hangs once and lets its token expire: every record is stored exactly once, and the poller never
sends more requests in a minute than allowed."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

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

pytestmark = pytest.mark.integration

VN = timezone(timedelta(hours=7))
SERIALS = {"BUOY-01": "vam-kenh", "BUOY-02": "xuan-hoa"}
PER_MINUTE = 30
HALF_HOUR = 1800


class Vendor:
    """The vendor's API: two buoys, a record each half hour over the last three days."""

    def __init__(self) -> None:
        now = int(time.time()) // HALF_HOUR * HALF_HOUR
        self.records = {s: [now - k * HALF_HOUR for k in range(144, 0, -1)] for s in SERIALS}
        self.requests: list[float] = []
        self.tokens: set[str] = set()
        self.data_calls = 0
        self.failed = self.hung = False
        self.logins = 0
        self.lock = threading.Lock()

    def value(self, serial: str, ts: int) -> float:
        return round(0.2 + (ts // HALF_HOUR % 40) / 10 + (0.05 if serial == "BUOY-02" else 0), 3)

    def record(self, serial: str, ts: int) -> dict[str, Any]:
        when = datetime.fromtimestamp(ts, UTC)
        # the vendor's times come local and bare, or in UTC with a Z: both appear
        text = (
            when.astimezone(VN).strftime("%Y-%m-%d %H:%M:%S")
            if ts // HALF_HOUR % 2
            else when.strftime("%Y-%m-%dT%H:%M:%SZ")
        )
        return {
            "ngay_gui": text,
            "trang_thai": 1,
            "do_man": self.value(serial, ts),
            "nhiet_do": 29.5,
        }


def handler(vendor: Vendor) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            with vendor.lock:
                vendor.requests.append(time.monotonic())
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if urlsplit(self.path).path != "/api/v1/auth" or body != {
                "username": "tg-salinity",
                "password": "s3cret",
            }:
                return self.answer(403, {"message": "sai tài khoản"})
            vendor.logins += 1
            token = f"tok-{vendor.logins}"
            vendor.tokens.add(token)
            self.answer(200, {"token": token})

        def do_GET(self) -> None:
            with vendor.lock:
                vendor.requests.append(time.monotonic())
                vendor.data_calls += 1
                call = vendor.data_calls
            url = urlsplit(self.path)
            if self.headers.get("x-api-key") != "key-123":
                return self.answer(403, {"message": "api key"})
            if self.headers.get("x-access-token") not in vendor.tokens:
                return self.answer(401, {"message": "token"})
            if call == 3:
                vendor.failed = True
                return self.answer(500, {"message": "lỗi máy chủ"})
            if call == 5:
                vendor.hung = True
                time.sleep(3)  # the vendor hangs: longer than the source's timeout
                return self.answer(200, {"data": []})
            if call == 7:
                vendor.tokens.clear()  # the token expires
            q = {k: v[0] for k, v in parse_qs(url.query).items()}
            first = datetime.strptime(q["tu_ngay"], "%Y/%m/%d").date()
            last = datetime.strptime(q["den_ngay"], "%Y/%m/%d").date()
            serial, limit = q["so_serial"], int(q["limit"])
            days = [
                ts
                for ts in vendor.records.get(serial, [])
                if first <= datetime.fromtimestamp(ts, VN).date() <= last
            ]
            self.answer(200, {"data": [vendor.record(serial, ts) for ts in days[:limit]]})

    return Handler


@pytest.fixture
def vendor() -> Iterator[tuple[Vendor, str]]:
    state = Vendor()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(state))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state, f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    server.shutdown()
    server.server_close()


def test_every_record_is_stored_once_through_errors_within_the_rate(
    vendor: tuple[Vendor, str], store: ReadingStore, tmp_path: Path
) -> None:
    state, url = vendor
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
    env = {"VENDOR_USER": "tg-salinity", "VENDOR_PASSWORD": "s3cret", "VENDOR_API_KEY": "key-123"}
    landing = Landing(store, QualityControl(QcConfig()), patience_s=5)
    metrics = IngestMetrics()
    poller = HttpPoller(
        source, load_registry(), landing, SystemClock(), tmp_path, 300.0, env, metrics
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
    assert state.failed and state.hung and state.logins >= 2  # a 500, a hang, an expired token
    for serial, device in SERIALS.items():
        rows = store.query(TopicKind.SALINITY, device, 0, 2**62)
        assert [r.ts_ns // 10**9 for r in rows] == state.records[serial]
        assert [r.fields["salinity_ppt"] for r in rows] == [
            state.value(serial, ts) for ts in state.records[serial]
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
        update={"url": f"http://127.0.0.1:{port}/api/v1", "every_s": 0.1, "timeout_s": 0.5}
    )
    landing = Landing(store, QualityControl(QcConfig()), patience_s=1)
    poller = HttpPoller(source, load_registry(), landing, SystemClock(), tmp_path, 300.0, {})
    poller.start()
    try:
        wait_until(lambda: poller.status().failing, 10, "the failed poll said")
    finally:
        poller.stop()
    status = poller.status()
    assert status.stale and status.lag_s is None
    assert store.count(TopicKind.SALINITY) == 0


def turns_false(check: Any, seconds: float) -> bool:
    """Whether ``check`` turns false while watched for ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not check():
            return True
        time.sleep(0.05)
    return False
