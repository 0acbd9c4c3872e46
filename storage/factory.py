"""Open the configured ReadingStore from ``store.url``."""

from __future__ import annotations

from saltwatch.core.settings import StoreSettings
from saltwatch.core.store import ReadingStore, SqliteAddress, parse_store_url
from saltwatch.storage.influx import InfluxReadingStore
from saltwatch.storage.sqlite import SqliteReadingStore


def open_reading_store(settings: StoreSettings) -> ReadingStore:
    address = parse_store_url(settings.url)
    if isinstance(address, SqliteAddress):
        return SqliteReadingStore(address.path)
    return InfluxReadingStore(settings.url, timeout_s=settings.timeout_s)
