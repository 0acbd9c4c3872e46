"""Time, injected: logic takes ``now`` from a Clock, never from the system deep inside."""

from __future__ import annotations

import time
from typing import Protocol

NS_PER_S = 1_000_000_000


class Clock(Protocol):
    def now_ns(self) -> int:
        """Current time as integer nanoseconds since the Unix epoch."""
        ...


class SystemClock:
    def now_ns(self) -> int:
        return time.time_ns()


class FakeClock:
    """A clock that moves only when told to (tests, replays)."""

    def __init__(self, start_ns: int) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def set(self, now_ns: int) -> None:
        self._now = now_ns

    def advance(self, seconds: float) -> None:
        self._now += round(seconds * NS_PER_S)


class ScaledClock:
    """Time that runs ``rate`` times faster than the wall, from ``start_ns`` (the demo plays a
    past dry season in accelerated time; every component reads this one clock)."""

    def __init__(self, start_ns: int, rate: float) -> None:
        self.start_ns = start_ns
        self.rate = rate
        self._began = time.monotonic_ns()

    def now_ns(self) -> int:
        return self.start_ns + round((time.monotonic_ns() - self._began) * self.rate)
