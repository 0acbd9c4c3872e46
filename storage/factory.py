"""Open the configured ReadingStore from ``store.url``."""

from __future__ import annotations

from saltwatch.core.errors import ConfigError
from saltwatch.core.settings import StoreSettings
from saltwatch.core.store import ReadingStore
from saltwatch.storage.influx import InfluxReadingStore
from saltwatch.storage.sqlite import SqliteReadingStore, path_from_url


def open_reading_store(settings: StoreSettings) -> ReadingStore:
    url = settings.url
    if url.startswith(("influxdb://", "influxdbs://")):
        return InfluxReadingStore(url, timeout_s=settings.timeout_s)
    if url.startswith("sqlite:"):
        return SqliteReadingStore(path_from_url(url))
    raise ConfigError(f"store.url: unsupported scheme in {url.split(':', 1)[0]!r}")
