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
        """The cached answer; on expiry one caller recomputes it while the others get the
        previous answer at once (stale while revalidating); with none yet, they wait for it."""
        now = time.monotonic()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] > now:
                return hit[1]
            gate = self._computing.setdefault(key, threading.Lock())
        if hit is not None and not gate.acquire(blocking=False):
            return hit[1]  # someone is already refreshing it
        if hit is None:
            gate.acquire()
        try:
            with self._lock:
                fresh = self._entries.get(key)
                if fresh is not None and fresh[0] > time.monotonic():
                    return fresh[1]
            value = compute()
            with self._lock:
                if len(self._entries) >= self.max_entries:
                    self._entries.clear()
                self._entries[key] = (time.monotonic() + self.ttl_s, value)
            return value
        finally:
            gate.release()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
