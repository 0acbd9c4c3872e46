"""A vendor cloud of the shape SaltWatch polls (docs/sources.md §5), for the demo and the tests:
buoys' records kept per serial and served over HTTP on loopback, with faults to inject (an
error answer, a hang, an expired token on given calls).

``POST /api/v1/auth`` ``{"username", "password"}`` → ``{"token"}``; ``GET
/api/v1/get-data-stations?so_serial=&tu_ngay=YYYY/MM/DD&den_ngay=YYYY/MM/DD&limit=`` with
``x-access-token`` and ``x-api-key`` → ``{"data": [...]}``, the days counted in Vietnam's time,
oldest first, at most ``limit``. Each record's time is written as the vendor writes it: bare
local time, or (every other record) UTC with a ``Z``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

VN = timezone(timedelta(hours=7))


@dataclass
class Faults:
    """Which data calls (counted from 1) fail: a 500, a hang of ``hang_s``, the token expired."""

    error_calls: set[int] = field(default_factory=set)
    hang_calls: set[int] = field(default_factory=set)
    expire_calls: set[int] = field(default_factory=set)
    hang_s: float = 3.0


class VendorCloud:
    def __init__(
        self,
        user: str,
        password: str,
        api_key: str,
        faults: Faults | None = None,
        max_limit: int | None = None,
    ) -> None:
        self.user, self.password, self.api_key = user, password, api_key
        self.faults = faults or Faults()
        self.max_limit = max_limit  # a vendor that gives no more than this, whatever is asked
        self.records: dict[str, dict[int, dict[str, Any]]] = {}  # serial → epoch s → values
        self.requests: list[float] = []  # monotonic time of every request
        self.logins = 0
        self.data_calls = 0
        self.errors = self.hangs = 0
        self._tokens: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def add(self, serial: str, ts_s: int, values: dict[str, Any]) -> None:
        with self._lock:
            self.records.setdefault(serial, {})[ts_s] = values

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serve on a free loopback port; yields the API's base URL."""
        self.start()
        try:
            yield self.url
        finally:
            self.stop()

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        threading.Thread(target=self._server.serve_forever, name="vendor", daemon=True).start()

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v1"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ------------------------------------------------------------------ the API
    def login(self, body: Any) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(time.monotonic())
            if body != {"username": self.user, "password": self.password}:
                return 403, {"message": "sai tài khoản"}
            self.logins += 1
            token = f"tok-{self.logins}"
            self._tokens.add(token)
            return 200, {"token": token}

    def data(self, query: dict[str, str], token: str, key: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.requests.append(time.monotonic())
            self.data_calls += 1
            call = self.data_calls
            if key != self.api_key:
                return 403, {"message": "api key"}
            if token not in self._tokens:
                return 401, {"message": "token"}
            if call in self.faults.error_calls:
                self.errors += 1
                return 500, {"message": "lỗi máy chủ"}
            hang = call in self.faults.hang_calls
            if call in self.faults.expire_calls:
                self._tokens.clear()
            try:
                first = datetime.strptime(query["tu_ngay"], "%Y/%m/%d").date()
                last = datetime.strptime(query["den_ngay"], "%Y/%m/%d").date()
                serial, limit = query["so_serial"], int(query["limit"])
                limit = min(limit, self.max_limit or limit)
            except (KeyError, ValueError):
                return 400, {"message": "tham số"}
            kept = self.records.get(serial, {})
            days = [
                (i, ts)
                for i, ts in enumerate(sorted(kept))
                if first <= datetime.fromtimestamp(ts, VN).date() <= last
            ][:limit]
            data = [{"ngay_gui": _written(ts, i), "trang_thai": 1, **kept[ts]} for i, ts in days]
        if hang:
            self.hangs += 1
            time.sleep(self.faults.hang_s)  # the vendor hangs: the poller's timeout must act
        return 200, {"data": data}


def _written(ts: int, index: int) -> str:
    when = datetime.fromtimestamp(ts, UTC)
    if index % 2:
        return when.astimezone(VN).strftime("%Y-%m-%d %H:%M:%S")
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _handler(cloud: VendorCloud) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def do_POST(self) -> None:
            if urlsplit(self.path).path != "/api/v1/auth":
                return self._answer(404, {"message": "not found"})
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"null")
            except ValueError:
                body = None
            self._answer(*cloud.login(body))

        def do_GET(self) -> None:
            url = urlsplit(self.path)
            if url.path != "/api/v1/get-data-stations":
                return self._answer(404, {"message": "not found"})
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            token = self.headers.get("x-access-token") or ""
            self._answer(*cloud.data(query, token, self.headers.get("x-api-key") or ""))

    return Handler
