"""Open the configured ReadingStore from ``store.url``."""

from __future__ import annotations

from core.errors import ConfigError
from core.settings import StoreSettings
from storage.influx import InfluxReadingStore
from storage.ports import ReadingStore
from storage.sqlite import SqliteReadingStore, path_from_url


def open_reading_store(settings: StoreSettings) -> ReadingStore:
    url = settings.url
    if url.startswith(("influxdb://", "influxdbs://")):
        return InfluxReadingStore(url, timeout_s=settings.timeout_s)
    if url.startswith("sqlite:"):
        return SqliteReadingStore(path_from_url(url))
    raise ConfigError(f"store.url: unsupported scheme in {url.split(':', 1)[0]!r}")
