"""ReadingStore on InfluxDB over the HTTP API that 1.x, 2.x (v1 compatibility) and 3.x all serve.

Writes go to ``/write`` as line protocol built by influxdb-client's ``Point`` (its escaping); reads
use InfluxQL on ``/query``, its text made in storage/influxql.py (which quotes every value that
did not come from our own schema constants).
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from saltwatch.core.columns import DeviceColumns
from saltwatch.core.errors import AuthError, BadInputError, ConfigError, RetryableError
from saltwatch.core.schema import FieldType, Measurement, measurement_for
from saltwatch.core.settings import StoreSettings, default_of
from saltwatch.core.store import Aggregate, InfluxAddress, parse_store_url
from saltwatch.core.timeutil import NS_PER_S, time_runs
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series
from saltwatch.storage.influx_lines import LineFormatter, typed
from saltwatch.storage.influxql import extend, quote_ident, reading_of, rows_of, where

#: ``latest`` looks this far back first (seconds).
LATEST_RECENT_S = 2 * 86_400


def parse_influx_url(url: str) -> InfluxAddress:
    """``store.url`` as an InfluxDB address (core/store.py reads it); ConfigError otherwise."""
    address = parse_store_url(url)
    if not isinstance(address, InfluxAddress):
        raise ConfigError("store.url must look like influxdb://[token@]host:8086/database")
    return address


AT_TIMES_GAP_NS = 600 * 1_000_000_000  # times further apart are read by separate queries
AT_TIMES_PAGE = 10_000
AT_TIMES_DENSITY = 4  # stored readings per time asked, up to which a whole span is read
PARALLEL_WRITES = 4  # a columns' write goes as up to this many requests at once,
PARALLEL_WRITE_LINES = 5_000  # each of at least this many lines


def _on_this_machine(base_url: str) -> bool:
    host = urlsplit(base_url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class InfluxReadingStore:
    """The InfluxDB adapter; one pooled httpx client per store."""

    def __init__(
        self,
        url: str,
        timeout_s: float = default_of(StoreSettings, "timeout_s"),
        client: httpx.Client | None = None,
    ):
        self._target = parse_influx_url(url)
        headers = dict(self._target.headers)
        if _on_this_machine(self._target.base_url):
            headers["Accept-Encoding"] = "identity"  # gzip costs both ends CPU, saves no time
        self._http = client or httpx.Client(
            base_url=self._target.base_url,
            headers=headers,
            timeout=timeout_s,
            limits=httpx.Limits(max_connections=16, max_keepalive_connections=8),
        )
        self._database_ready = False
        self._lines = LineFormatter()
        self._pool: ThreadPoolExecutor | None = None

    @property
    def database(self) -> str:
        return self._target.database

    # ------------------------------------------------------------------ transport
    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise RetryableError(f"InfluxDB unreachable: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise AuthError(f"InfluxDB refused the credentials ({response.status_code})")
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(f"InfluxDB answered {response.status_code}")
        return response

    def ensure_database(self) -> None:
        """Create the database on 1.x; 2.x and 3.x map it to a bucket and refuse CREATE with an
        error status of their own (even a 5xx, "not implemented"): fine, the bucket must exist."""
        q = f"CREATE DATABASE {quote_ident(self.database)}"
        try:
            self._request("POST", "/query", params={"q": q})
        except RetryableError:
            if not self.ping():
                raise  # down, not "not supported": the write will retry
        self._database_ready = True

    def write(self, readings: Sequence[Reading]) -> None:
        line = self._lines.line
        self._post([line(r, measurement_for(r.kind)) for r in readings])

    def write_columns(self, batches: Sequence[DeviceColumns]) -> None:
        """A large batch goes as several requests at once: influxd takes them on all its cores
        and works on one while it syncs another's log to disk. Times that are all whole seconds
        (a logger's, a spreadsheet's) go as seconds: shorter lines for influxd to parse."""
        seconds = all(not (batch.ts_ns % NS_PER_S).any() for batch in batches)
        precision = "s" if seconds else "ns"
        lines = [
            line
            for batch in batches
            for line in self._lines.column_lines(batch, measurement_for(batch.kind), seconds)
        ]
        parts = max(1, min(PARALLEL_WRITES, len(lines) // PARALLEL_WRITE_LINES))
        if parts == 1:
            self._post(lines, precision)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(PARALLEL_WRITES, thread_name_prefix="influx-write")
        size = -(-len(lines) // parts)
        posts = [
            self._pool.submit(self._post, lines[i : i + size], precision)
            for i in range(0, len(lines), size)
        ]
        for done in posts:
            done.result()

    def _post(self, lines: list[str], precision: str = "ns") -> None:
        if not lines:
            return
        if not self._database_ready:
            self.ensure_database()
        body = "\n".join(lines).encode()
        params = {"db": self.database, "precision": precision}
        response = self._request("POST", "/write", params=params, content=body)
        if response.status_code == 404 and b"database not found" in response.content:
            self.ensure_database()
            response = self._request("POST", "/write", params=params, content=body)
        if response.status_code != 204:
            raise BadInputError(
                f"InfluxDB refused a write ({response.status_code}): {response.text[:200]}"
            )

    def _query(self, q: str) -> list[dict[str, Any]]:
        params = {"db": self.database, "q": q, "epoch": "ns"}
        response = self._request("POST", "/query", data=params)
        payload = orjson.loads(response.content) if response.content else {}
        results = payload.get("results") or []
        error = payload.get("error") or next((r["error"] for r in results if "error" in r), None)
        if error:
            if "database not found" in error:
                return []
            raise BadInputError(f"InfluxQL error: {error}")
        series: list[dict[str, Any]] = []
        for result in results:
            series.extend(result.get("series") or [])
        return series

    # ------------------------------------------------------------------ helpers
    # ------------------------------------------------------------------ port
    def latest(self, kind: TopicKind, devices: Sequence[str] | None = None) -> dict[str, Reading]:
        """Newest reading per device. A scan of recent shards answers almost every device; only
        those silent longer than ``LATEST_RECENT_S`` cost a scan of everything (10x slower)."""
        m = measurement_for(kind)
        since = time.time_ns() - LATEST_RECENT_S * 1_000_000_000
        out = self._latest(kind, m, devices, since)
        wanted = set(devices) if devices is not None else self._devices_of(m)
        missing = sorted(wanted - set(out))
        if missing:
            out.update(self._latest(kind, m, missing, None))
        return out

    def _latest(
        self, kind: TopicKind, m: Measurement, devices: Sequence[str] | None, since_ns: int | None
    ) -> dict[str, Reading]:
        q = (
            f"SELECT * FROM {quote_ident(m.name)}{where(m, devices, since_ns)} "
            f"GROUP BY {quote_ident(m.device_tag)} ORDER BY time DESC LIMIT 1"
        )
        out: dict[str, Reading] = {}
        for series in self._query(q):
            for row in rows_of(series):
                reading = reading_of(kind, m, row)
                known = out.get(reading.device)
                if known is None or reading.ts_ns > known.ts_ns:
                    out[reading.device] = reading
        return out

    def _field_keys(self, m: Measurement) -> list[str]:
        """The fields of ``m`` that some stored reading has (from the index: cheap)."""
        q = f"SHOW FIELD KEYS FROM {quote_ident(m.name)}"
        names = {str(v[0]) for series in self._query(q) for v in series.get("values") or []}
        return [name for name in m.fields if name in names]

    def _devices_of(self, m: Measurement) -> set[str]:
        """Every device that ever wrote this measurement (from the index: cheap)."""
        q = f"SHOW TAG VALUES FROM {quote_ident(m.name)} WITH KEY = {quote_ident(m.device_tag)}"
        return {str(v[1]) for series in self._query(q) for v in series.get("values") or []}

    def query(
        self, kind: TopicKind, device: str, start_ns: int, end_ns: int, limit: int = 10_000
    ) -> list[Reading]:
        m = measurement_for(kind)
        q = (
            f"SELECT * FROM {quote_ident(m.name)}{where(m, [device], start_ns, end_ns)} "
            f"ORDER BY time ASC LIMIT {int(limit)}"
        )
        rows = [row for series in self._query(q) for row in rows_of(series)]
        return [reading_of(kind, m, row) for row in rows]

    def at_times(self, kind: TopicKind, device: str, times: Sequence[int]) -> dict[int, Reading]:
        m = measurement_for(kind)
        found = self._values(kind, device, times, "*")
        tags = {m.device_tag: device}
        out: dict[int, Reading] = {}
        for i, ts in enumerate(found.ts_ns):
            row: dict[str, Any] = {name: column[i] for name, column in found.values.items()}
            out[ts] = reading_of(kind, m, {**row, **tags, "time": ts})
        return out

    def values_at(self, kind: TopicKind, device: str, times: Sequence[int]) -> Series:
        """As influxd answers: a whole float may come as an integer (``at_times`` types them).
        Only the fields the measurement has anywhere are asked for (influxd's index knows them):
        no tag, no column that is empty everywhere.
        InfluxQL cannot OR time conditions, so the span from the first time to the last is read
        page by page, keeping only the times asked, for as long as the pages hold mostly those
        (at least one row in ``AT_TIMES_DENSITY``). A page that is mostly other readings (a
        device's dense history between a few old times) ends that: the rest of the times are cut
        into runs (consecutive times less than ``AT_TIMES_GAP_NS`` apart), each run read whole.
        Exact over any amount of history, and a few queries for a backlog or a file's chunk."""
        fields = self._field_keys(measurement_for(kind))
        if not fields:
            return Series(device)  # nothing of this kind stored yet
        return self._values(kind, device, times, ",".join(quote_ident(f) for f in fields))

    def _values(self, kind: TopicKind, device: str, times: Sequence[int], columns: str) -> Series:
        """The readings at ``times``, their ``columns`` (an InfluxQL select list)."""
        out = Series(device)
        wanted = set(times)
        if not wanted:
            return out
        self._read(kind, device, min(wanted), max(wanted), wanted, out, columns, switch=True)
        return out

    def _read(
        self,
        kind: TopicKind,
        device: str,
        start: int,
        last: int,
        wanted: set[int],
        out: Series,
        columns: str,
        switch: bool,
    ) -> None:
        """Page after page from ``start`` to ``last``; with ``switch``, a page mostly of other
        readings turns the rest into runs."""
        while True:
            got, kept, newest = self._page(kind, device, (start, last), wanted, out, columns)
            if got < AT_TIMES_PAGE:
                return
            start = newest + 1
            if switch and kept * AT_TIMES_DENSITY < got:  # far more is stored than asked
                rest = sorted(t for t in wanted if t >= start)
                for first, end in time_runs(rest, AT_TIMES_GAP_NS):
                    self._read(kind, device, first, end, wanted, out, columns, switch=False)
                return

    def _page(
        self,
        kind: TopicKind,
        device: str,
        span: tuple[int, int],
        wanted: set[int],
        out: Series,
        columns: str,
    ) -> tuple[int, int, int]:
        """One page of the readings from ``start`` to ``last``; those at ``wanted`` times go
        into ``out`` as columns (no object per row: a file's chunk asks for many). Returns how
        many readings the page held, how many were kept, and the newest time on it."""
        m = measurement_for(kind)
        start, last = span
        q = (
            f"SELECT {columns} FROM {quote_ident(m.name)}"
            f"{where(m, [device], start, last + 1)} ORDER BY time ASC"
            f" LIMIT {AT_TIMES_PAGE}"
        )
        got = kept = 0
        newest = start
        for series in self._query(q):
            rows: list[list[Any]] = series.get("values") or []
            if not rows:
                continue
            got += len(rows)
            newest = max(newest, int(rows[-1][0]))
            mine = [row for row in rows if row[0] in wanted]
            kept += len(mine)
            if mine:
                extend(out, series["columns"], mine, m)
        return got, kept, newest

    def aggregate(
        self,
        kind: TopicKind,
        device: str,
        field: str,
        start_ns: int,
        end_ns: int,
        every_s: int,
        *,
        offset_s: int = 0,
        exclude_qc: int = 0,
    ) -> list[Aggregate]:
        m = measurement_for(kind)
        if m.fields.get(field) is not FieldType.FLOAT:
            raise BadInputError(f"{field!r} is not a numeric field of {m.name}")
        f = quote_ident(field)
        good = f' AND ("qc" & {int(exclude_qc)}) = 0' if exclude_qc else ""
        q = (
            f"SELECT min({f}), mean({f}), max({f}), count({f}) FROM {quote_ident(m.name)}"
            f"{where(m, [device], start_ns, end_ns)}{good}"
            f" GROUP BY time({int(every_s)}s, {int(offset_s) % int(every_s)}s) fill(none)"
        )
        out: list[Aggregate] = []
        for series in self._query(q):
            for t, lo, mean, hi, n in series.get("values") or []:
                if n:
                    out.append(Aggregate(int(t), float(lo), float(mean), float(hi), int(n)))
        return out

    def recent(self, kind: TopicKind, since_ns: int, fields: Sequence[str]) -> dict[str, Series]:
        m = measurement_for(kind)
        wanted = [f for f in dict.fromkeys([*fields, "qc"]) if f in m.fields]
        columns = ", ".join(quote_ident(f) for f in wanted)
        q = (
            f"SELECT {columns} FROM {quote_ident(m.name)}{where(m, None, since_ns)} "
            f"GROUP BY {quote_ident(m.device_tag)}"
        )
        out: dict[str, Series] = {}
        for series in self._query(q):
            device = str((series.get("tags") or {}).get(m.device_tag, ""))
            target = out.setdefault(device, Series(device, [], {f: [] for f in wanted}))
            for row in rows_of(series):
                target.ts_ns.append(int(row["time"]))
                for f in wanted:
                    raw = row.get(f)
                    target.values[f].append(None if raw is None else typed(m.fields[f], raw))
        return out

    def count(
        self,
        kind: TopicKind,
        start_ns: int | None = None,
        end_ns: int | None = None,
        device: str | None = None,
    ) -> int:
        m = measurement_for(kind)
        clause = where(m, [device] if device is not None else None, start_ns, end_ns)
        q = f'SELECT count("qc") FROM {quote_ident(m.name)}{clause}'
        return sum(int(v[1]) for s in self._query(q) for v in s.get("values") or [])

    def counts_by_device(self, kind: TopicKind) -> dict[str, int]:
        m = measurement_for(kind)
        q = f'SELECT count("qc") FROM {quote_ident(m.name)} GROUP BY {quote_ident(m.device_tag)}'
        out: dict[str, int] = {}
        for series in self._query(q):
            device = str((series.get("tags") or {}).get(m.device_tag, ""))
            out[device] = out.get(device, 0) + sum(int(v[1]) for v in series.get("values") or [])
        return out

    def ping(self) -> bool:
        try:
            return self._http.get("/ping").status_code == 204
        except httpx.TransportError:
            return False

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
        self._http.close()
