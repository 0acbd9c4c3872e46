"""Capped exponential backoff with full jitter (retry only what is retryable, under a cap)."""

from __future__ import annotations

import random


class Backoff:
    """Delays for successive retries: uniform in [initial/2, min(cap, initial·2^n)] (full
    jitter), or with ``jitter`` < 1 in [ceiling·(1 − jitter), ceiling], so that the number of
    tries in a given time stays bounded (alert deliveries).

    Jitter spreads reconnects of many clients over time instead of synchronising them.
    """

    def __init__(
        self,
        initial: float = 0.5,
        cap: float = 30.0,
        rng: random.Random | None = None,
        jitter: float | None = None,
    ):
        if initial <= 0 or cap < initial:
            raise ValueError("need 0 < initial <= cap")
        self.initial = initial
        self.cap = cap
        self.jitter = jitter
        self._attempt = 0
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def next(self) -> float:
        ceiling = min(self.cap, self.initial * (2**self._attempt))
        self._attempt = min(self._attempt + 1, 62)
        if self.jitter is not None:
            return float(ceiling * (1.0 - self.jitter * self._rng.random()))
        return self._rng.uniform(min(self.initial / 2, ceiling), ceiling)

    def resume(self, attempts: int) -> None:
        """Go on after ``attempts`` failed tries (kept across a restart)."""
        self._attempt = min(max(attempts, 0), 62)

    def reset(self) -> None:
        self._attempt = 0

    @property
    def attempts(self) -> int:
        return self._attempt
