"""The API's short cache: one computation per key, stale answers while refreshing."""

from __future__ import annotations

import threading

from saltwatch.api.cache import TtlCache


def test_hit_miss_and_expiry() -> None:
    calls: list[int] = []
    cache = TtlCache(ttl_s=60)
    assert cache.get("k", lambda: calls.append(1) or "a") == "a"  # type: ignore[func-returns-value]
    assert cache.get("k", lambda: calls.append(1) or "b") == "a"  # type: ignore[func-returns-value]
    assert len(calls) == 1
    cache.ttl_s = 0
    cache.clear()
    assert cache.get("k", lambda: "c") == "c"


def test_stale_answer_while_another_caller_refreshes() -> None:
    cache = TtlCache(ttl_s=0)  # every entry is expired at once
    cache.get("k", lambda: "old")
    started, release = threading.Event(), threading.Event()

    def slow() -> str:
        started.set()
        release.wait(5)
        return "new"

    refresher = threading.Thread(target=lambda: cache.get("k", slow))
    refresher.start()
    assert started.wait(5)
    assert cache.get("k", lambda: "other") == "old"  # not blocked behind the refresh
    release.set()
    refresher.join(5)
