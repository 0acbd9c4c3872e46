"""Vendor clouds polled over HTTP (docs/sources.md §5): salinity buoys whose readings live in the
vendor's cloud, fetched per device and landed like a file's rows (ingest/landing.py).

The first vendor shape, the one a portal built for Hậu Giang province polls: ``POST {url}/auth``
with the user and password gives a token; ``GET {url}/get-data-stations?so_serial=…&tu_ngay=
YYYY/MM/DD&den_ngay=YYYY/MM/DD&limit=N`` with the headers ``x-access-token`` and ``x-api-key``
gives ``{"data": [{"ngay_gui": <time>, <one key per sensor>: <value>, …}]}`` in local time.

Per device (a serial among the mapping's ``device.ids``) a cursor — the newest time landed — is
kept on disk and advanced only after the page it came from is durable; each poll asks again from
the cursor less ``overlap`` (the API takes whole days), so nothing falls between two polls and
what comes twice is *already stored*. A full page (``page_limit`` records) is followed by the
next from its newest day; a day that fills a page alone is asked again with a larger limit.
Every request waits its turn under ``requests_per_minute``; a failed one (an error answer, a
timeout, a refused connection) backs the source off, up to one interval.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from saltwatch.core.backoff import Backoff
from saltwatch.core.clock import Clock
from saltwatch.core.mapping import RecordMapper
from saltwatch.core.registry import Registry
from saltwatch.core.sources import SourceSettings, zone_of
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Reading, Rejection
from saltwatch.ingest.landing import Landing, Tally, save_json
from saltwatch.ingest.metrics import IngestMetrics

#: the largest ``limit`` asked for when one day fills a page (page_limit's own bound)
MAX_PAGE = 100_000

log = logging.getLogger("saltwatch.sources")

Listener = Callable[[Sequence[Reading]], None]


@dataclass(frozen=True, slots=True)
class SourceStatus:
    """What ``/health`` says of a polled source."""

    name: str
    lag_s: float | None  # since the newest reading landed (None: none yet)
    stale: bool  # no reading for longer than the source's ``stale_after``
    failing: bool  # its last poll failed


#: what a process that does not poll needs to tell a source's state (storage/polled_sqlite.py):
#: the name, the newest time landed (None: none yet), when polling began, ``stale_after`` in
#: seconds, and whether the last poll failed
Polled = tuple[str, int | None, int, float, bool]


class SourceError(Exception):
    """The vendor's API failed this time (answer, timeout, connection): try again later."""


class RateLimit:
    """At most ``per_minute`` requests in any 60 seconds: ``wait`` blocks until one may go."""

    def __init__(self, per_minute: int, stop: threading.Event) -> None:
        self._per_minute = per_minute
        self._sent: deque[float] = deque()
        self._stop = stop

    def wait(self) -> bool:
        """False when stopping."""
        while True:
            now = time.monotonic()
            while self._sent and now - self._sent[0] >= 60.0:
                self._sent.popleft()
            if len(self._sent) < self._per_minute:
                self._sent.append(now)
                return True
            if self._stop.wait(60.0 - (now - self._sent[0])):
                return False


class VendorClient:
    """The vendor cloud's API, logged in when it asks (a 401 logs in again, once)."""

    def __init__(
        self, source: SourceSettings, limit: RateLimit, env: Mapping[str, str] = os.environ
    ) -> None:
        assert source.url is not None
        self._url = source.url.rstrip("/")
        self._user = env.get(source.user_env or "", "")
        self._password = env.get(source.password_env or "", "")
        self._key = env.get(source.api_key_env or "", "")
        self._limit = limit
        self._http = httpx.Client(timeout=source.timeout_s)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def records(self, serial: str, day_from: str, day_to: str, limit: int) -> list[dict[str, Any]]:
        """The device's records between two local days (YYYY/MM/DD), at most ``limit``."""
        for attempt in (1, 2):
            if self._token is None:
                self._token = self._login()
            params = {"so_serial": serial, "tu_ngay": day_from, "den_ngay": day_to}
            headers = {"x-access-token": self._token, "x-api-key": self._key}
            answer = self._send(
                "GET", "/get-data-stations", params | {"limit": str(limit)}, headers
            )
            if answer.status_code == 401 and attempt == 1:
                self._token = None  # expired: log in again, once
                continue
            if answer.status_code != 200:
                raise SourceError(f"get-data-stations answered {answer.status_code}")
            data = _json(answer).get("data")
            if not isinstance(data, list):
                raise SourceError("get-data-stations: no data list in the answer")
            return [r for r in data if isinstance(r, dict)]
        raise SourceError("the API refused its own fresh token")

    def _login(self) -> str:
        body = {"username": self._user, "password": self._password}
        answer = self._send("POST", "/auth", None, {}, body)
        if answer.status_code != 200:
            raise SourceError(f"auth answered {answer.status_code}")
        token = _json(answer).get("token")
        if not isinstance(token, str) or not token:
            raise SourceError("auth: no token in the answer")
        return token

    def _send(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        headers: dict[str, str],
        body: dict[str, str] | None = None,
    ) -> httpx.Response:
        if not self._limit.wait():
            raise SourceError("stopping")
        try:
            return self._http.request(
                method, self._url + path, params=params, headers=headers, json=body
            )
        except httpx.HTTPError as exc:
            raise SourceError(f"{path}: {type(exc).__name__}: {exc}") from None


def _json(answer: httpx.Response) -> dict[str, Any]:
    try:
        parsed = answer.json()
    except ValueError:
        raise SourceError("the answer is not JSON") from None
    if not isinstance(parsed, dict):
        raise SourceError("the answer is not a JSON object")
    return parsed


class Cursors:
    """The newest time landed per device of one source: a JSON file, replaced atomically."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            loaded = json.loads(path.read_text())
            self.newest: dict[str, int] = {str(k): int(v) for k, v in loaded.items()}
        except (OSError, ValueError, AttributeError):
            self.newest = {}

    def advance(self, serial: str, ts_ns: int) -> None:
        if ts_ns <= self.newest.get(serial, 0):
            return
        self.newest[serial] = ts_ns
        save_json(self.path, self.newest)


class HttpPoller:
    def __init__(
        self,
        source: SourceSettings,
        registry: Registry,
        landing: Landing,
        clock: Clock,
        state_folder: Path,
        max_future_s: float,
        env: Mapping[str, str] = os.environ,
        metrics: IngestMetrics | None = None,
    ) -> None:
        self.source = source
        self._lag = None if metrics is None else metrics.source_lag.labels(source.name)
        self._mapper = RecordMapper(source, registry, max_future_s)
        self._landing = landing
        self._clock = clock
        self._zone = zone_of(source.time.zone)
        self._stop = threading.Event()
        self._client = VendorClient(source, RateLimit(source.requests_per_minute, self._stop), env)
        self.cursors = Cursors(state_folder / f"poll-{source.name}.json")
        self._listeners: list[Listener] = []
        self.tally = Tally()
        self.failing_since: float | None = None  # monotonic: when polls began to fail
        self._thread: threading.Thread | None = None
        self._started = time.monotonic()
        self.started_ns = clock.now_ns()  # when polling began, for processes that read it later

    def add_listener(self, listener: Listener) -> None:
        """Called with each page's new readings once they are durable (the alert engine)."""
        self._listeners.append(listener)

    def lag_s(self) -> float | None:
        """Seconds since the newest reading landed from any of the source's devices."""
        if not self.cursors.newest:
            return None
        return (self._clock.now_ns() - max(self.cursors.newest.values())) / NS_PER_S

    def polled(self) -> Polled:
        """What a process that does not poll needs to tell staleness later
        (storage/polled_sqlite.py)."""
        newest = max(self.cursors.newest.values()) if self.cursors.newest else None
        failing = self.failing_since is not None
        return (self.source.name, newest, self.started_ns, self.source.stale_after_s, failing)

    def status(self) -> SourceStatus:
        """Stale: nothing for longer than ``stale_after`` (counted from the start while nothing
        ever came)."""
        lag = self.lag_s()
        waited = lag if lag is not None else time.monotonic() - self._started
        stale = waited > self.source.stale_after_s
        return SourceStatus(self.source.name, lag, stale, self.failing_since is not None)

    def poll(self) -> None:
        """One round over the source's devices; raises SourceError when the API fails."""
        assert self.source.device.field is not None
        for serial in self.source.device.ids:
            self._poll_device(serial, self.source.device.field)

    def _poll_device(self, serial: str, field: str) -> None:
        """Page from the cursor (less the overlap) to today. The API takes whole days and a
        limit, no offset: a full page is followed from its newest day, and a day that fills a
        page by itself is asked again with twice the limit (up to ``MAX_PAGE``), until it fits
        or the vendor gives no more (then the log says so)."""
        now = self._clock.now_ns()
        since = self.cursors.newest.get(serial, now - int(self.source.lookback_s * NS_PER_S))
        start = since - int(self.source.overlap_s * NS_PER_S)
        day_to = self._day(now)
        limit, got_before = self.source.page_limit, 0
        while True:
            day_from = self._day(start)
            records = self._client.records(serial, day_from, day_to, limit)
            newest = self._land(serial, field, records, now)
            if len(records) < limit or newest is None:
                if got_before and len(records) <= got_before:  # a larger limit gave no more
                    self._too_dense(serial, got_before)
                return
            if newest > start and self._day(newest) != day_from:
                start, got_before = newest, 0  # a full page: the next from its newest day
            elif limit < MAX_PAGE:  # the page did not get past one day: that day, more at once
                limit, got_before = min(2 * limit, MAX_PAGE), len(records)
            else:
                self._too_dense(serial, limit)
                return

    def _land(self, serial: str, field: str, records: list[dict[str, Any]], now: int) -> int | None:
        """Map and land a page; returns its newest time (the cursor moves there)."""
        batch: list[tuple[int, Reading]] = []
        for number, record in enumerate(records, start=1):
            mapped = self._mapper.map({field: serial} | record, self._clock.now_ns())
            if isinstance(mapped, Rejection):
                self.tally.refused[mapped.reason] += 1
                self.tally.note(number, mapped.reason, mapped.detail)
            else:
                batch.append((number, mapped))
        fresh = self._landing.settle(batch, self.tally)
        if fresh:
            for listener in self._listeners:
                listener(fresh)
        newest = max((r.ts_ns for _, r in batch), default=None)
        if newest is not None:
            self.cursors.advance(serial, min(newest, now))
        return newest

    def _too_dense(self, serial: str, got: int) -> None:
        log.warning(
            "%s: the vendor gives at most %d records of %s for one day and the day has more:"
            " ask the vendor for a larger limit",
            self.source.name,
            got,
            serial,
        )

    def _day(self, ts_ns: int) -> str:
        return datetime.fromtimestamp(ts_ns / NS_PER_S, self._zone).strftime("%Y/%m/%d")

    # ------------------------------------------------------------------ running
    def start(self) -> None:
        self._started = time.monotonic()
        self.started_ns = self._clock.now_ns()
        self._thread = threading.Thread(
            target=self._run, name=f"poll-{self.source.name}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        self._client.close()

    def _run(self) -> None:
        every = self.source.every_s
        backoff = Backoff(initial=min(1.0, every), cap=every)
        while not self._stop.is_set():
            wait = every
            try:
                self.poll()
                self.failing_since = None
                backoff.reset()
            except SourceError as exc:
                if self._stop.is_set():
                    return
                self.failing_since = self.failing_since or time.monotonic()
                wait = backoff.next()
                log.warning("%s: %s; next try in %.1f s", self.source.name, exc, wait)
            except Exception:  # the store away past the landing's patience, a bug: go on
                log.exception("%s: poll failed", self.source.name)
                self.failing_since = self.failing_since or time.monotonic()
                wait = backoff.next()
            lag = self.lag_s()
            if self._lag is not None and lag is not None:
                self._lag.set(lag)
            self._stop.wait(wait)
