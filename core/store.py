"""The reading store port: what ingest, alerts, analytics and the API need from a time-series store.
It sits in the kernel because every one of those folders uses it; the adapters (InfluxDB, SQLite)
are in storage/.

Both adapters (InfluxDB over HTTP, SQLite) honour the same semantics, checked by one contract test
suite: a reading's identity is (measurement, device, measurement time); writing it again overwrites
the same point (field by field) and never adds a second one.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

from saltwatch.core.columns import DeviceColumns
from saltwatch.core.errors import ConfigError
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading, Series


@dataclass(frozen=True, slots=True)
class Aggregate:
    """One ``every``-wide bucket; ``start_ns`` is aligned to the epoch (plus the offset asked)."""

    start_ns: int
    min: float
    mean: float
    max: float
    count: int


class ReadingWriter(Protocol):
    def write(self, readings: Sequence[Reading]) -> None:
        """Durably store a batch, idempotently. Raises RetryableError or FatalError."""
        ...


class ReadingStore(ReadingWriter, Protocol):
    def write_columns(self, batches: Sequence[DeviceColumns]) -> None:
        """``write`` for readings held as columns (a file's chunk): the same points."""
        ...

    def latest(self, kind: TopicKind, devices: Sequence[str] | None = None) -> dict[str, Reading]:
        """The newest reading of each device (of ``devices``, or all)."""
        ...

    def query(
        self, kind: TopicKind, device: str, start_ns: int, end_ns: int, limit: int = 10_000
    ) -> list[Reading]:
        """A device's readings with ``start_ns <= ts < end_ns``, oldest first, at most ``limit``."""
        ...

    def at_times(self, kind: TopicKind, device: str, times: Sequence[int]) -> dict[int, Reading]:
        """A device's stored readings at exactly ``times`` (any number of them), by time: what
        decides whether a reading is new, a repeat or a conflict, however much history lies
        between those times."""
        ...

    def values_at(self, kind: TopicKind, device: str, times: Sequence[int]) -> Series:
        """``at_times`` as columns: the stored times found, oldest first, and per field its
        value at each (None: that reading has no such field; ``qc`` included)."""
        ...

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
        """min/mean/max/count of a float field per ``every_s`` bucket; empty buckets omitted.
        Buckets start ``offset_s`` after the epoch's multiples of ``every_s`` (a Vietnam day:
        ``every_s`` 86400, ``offset_s`` 61200); readings with a QC flag in ``exclude_qc`` (and
        readings without ``qc``, when it is not 0) are left out."""
        ...

    def recent(self, kind: TopicKind, since_ns: int, fields: Sequence[str]) -> dict[str, Series]:
        """Every device's values of ``fields`` (and ``qc``) since ``since_ns``, oldest first."""
        ...

    def count(
        self,
        kind: TopicKind,
        start_ns: int | None = None,
        end_ns: int | None = None,
        device: str | None = None,
    ) -> int:
        """How many readings are stored (in the range, for the device)."""
        ...

    def counts_by_device(self, kind: TopicKind) -> dict[str, int]:
        """Stored readings per device."""
        ...

    def ping(self) -> bool:
        """True when the store answers."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class InfluxAddress:
    """An InfluxDB reached over its HTTP API: base URL, database, and the authorisation header."""

    base_url: str
    database: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class SqliteAddress:
    path: Path


def parse_store_url(url: str) -> InfluxAddress | SqliteAddress:
    """``store.url``, read in this one place: ``influxdb[s]://[token@|user:password@]host[:port]/
    database`` (credentials percent-decoded) or ``sqlite:///path``. ConfigError says what is
    wrong."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        if not url.startswith("sqlite:///") or parts.path in ("", "/"):
            raise ConfigError("store.url for SQLite must look like sqlite:///path/to/readings.db")
        return SqliteAddress(Path(url.removeprefix("sqlite:///")))
    if parts.scheme not in ("influxdb", "influxdbs"):
        raise ConfigError("store.url: the scheme must be influxdb, influxdbs or sqlite")
    if not parts.hostname:
        raise ConfigError(
            "store.url must look like influxdb://[token@|user:pass@]host:8086/database"
        )
    try:
        port = parts.port or 8086
    except ValueError as exc:
        raise ConfigError(f"store.url: {exc}") from None
    database = unquote(parts.path.strip("/"))
    if not database or "/" in database:
        raise ConfigError("store.url must name one database, e.g. …:8086/saltwatch")
    scheme = "https" if parts.scheme == "influxdbs" else "http"
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    headers: dict[str, str] = {}
    if parts.username and parts.password is not None:
        pair = f"{unquote(parts.username)}:{unquote(parts.password)}".encode()
        headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
    elif parts.username:
        headers["Authorization"] = "Token " + unquote(parts.username)
    return InfluxAddress(f"{scheme}://{host}:{port}", database, headers)


def redact_url(url: str) -> str:
    """A URL as it may be shown or logged: user and password hidden."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}***@{rest.split('@', 1)[1]}" if "@" in rest else url
