"""A small time-boxed cache for answers many clients ask at once (dashboards poll)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any


class TtlCache:
    """Keeps each answer ``ttl_s`` seconds; concurrent misses of one key compute it once."""

    def __init__(self, ttl_s: float, max_entries: int = 1024) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._computing: dict[Hashable, threading.Lock] = {}

    def get(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            gate = self._computing.setdefault(key, threading.Lock())
        with gate:  # one computation per key; the others wait for it
            with self._lock:
                hit = self._entries.get(key)
                if hit is not None and hit[0] > time.monotonic():
                    return hit[1]
            value = compute()
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (time.monotonic() + self.ttl_s, value)
                self._computing.pop(key, None)
            return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
