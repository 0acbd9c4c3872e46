"""Delivering queued alert events: one worker per channel, each with its own growing backoff.

Deliveries wait in the outbox (alerts/state.py), written with the alert change that caused them.
A channel's worker sends them oldest first. A retryable failure (a 5xx, a timeout, a broker away)
stops that channel for a while: 1 s after the first failure, doubling to at most 5 minutes, with
jitter, reset by the first success; the attempt count and the next try are kept in the outbox, so
a restart goes on where it was. A refusal that retrying cannot mend (a 4xx, a bad login) is
recorded and not retried. A channel that hangs (a receiver that does not answer) holds up its own
worker only. A failing channel's warning is logged when its error changes, not at every attempt.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from saltwatch.alerts.messages import render_group
from saltwatch.alerts.model import Event, group_of
from saltwatch.alerts.notifiers import Notifier
from saltwatch.alerts.routing import alert_zones
from saltwatch.alerts.store import AlertStore
from saltwatch.core.backoff import Backoff
from saltwatch.core.errors import BadInputError, FatalError, RetryableError
from saltwatch.core.registry import Registry

log = logging.getLogger(__name__)
NS = 1_000_000_000


def coalesce(unsent: list[tuple[int, Event]]) -> list[list[tuple[int, Event]]]:
    """The queue as notifications: the no-data events of one zone queued together, in the same
    state, are one notification (docs/interface.md groups), placed where the first of them was;
    every
    other event is its own."""
    batches: list[list[tuple[int, Event]]] = []
    by_group: dict[tuple[str, str], list[tuple[int, Event]]] = {}
    for seq, event in unsent:
        group = group_of(event.alert)
        if not group.startswith("nodata:") or event.state == "acknowledged":
            batches.append([(seq, event)])
            continue
        key = (group, event.state)
        if key not in by_group:
            by_group[key] = []
            batches.append(by_group[key])
        by_group[key].append((seq, event))
    return batches


class DeliveryCounter(Protocol):
    def __call__(self, channel: str, outcome: str) -> None: ...


class ChannelWorker:
    """Delivers one channel's queue; ``step`` does what is due now and says when to come back."""

    def __init__(
        self,
        notifier: Notifier,
        state: AlertStore,
        registry: Registry,
        *,
        initial_s: float = 1.0,
        cap_s: float = 300.0,
        monotonic: Callable[[], float] = time.monotonic,
        wall_ns: Callable[[], int] = time.time_ns,
        counted: DeliveryCounter | None = None,
        seed: int | None = None,
        channel: str | None = None,
    ) -> None:
        self.notifier = notifier
        self.channel = channel or notifier.channel  # the outbox's name for it
        self.state = state
        self.registry = registry
        # 1 s after the first failure, doubling to 5 min, each wait up to 20 % shorter at random
        rng = random.Random(seed)  # noqa: S311 - jitter, not a secret
        self.backoff = Backoff(initial_s, cap_s, rng, jitter=0.2)
        self.monotonic = monotonic
        self.wall_ns = wall_ns
        self.counted = counted
        self.delivered = 0  # sent since start
        self.next_try = 0.0  # monotonic seconds; 0: now
        self.last_error: str | None = None
        self._resumed = False

    @property
    def failures(self) -> int:
        """Failed tries in a row."""
        return self.backoff.attempts

    def step(self, force: bool = False) -> float | None:
        """Send what is queued, unless the channel is backing off (``force`` ignores that).
        Returns the seconds until the next try after a failure, or None (queue empty)."""
        now = self.monotonic()
        if not self._resumed:  # a restart goes on with the backoff the outbox remembers
            self._resumed = True
            attempts, next_at = self.state.pending_attempt(self.channel)
            if attempts:
                self.backoff.resume(attempts)
                self.next_try = now + max(0.0, ((next_at or 0) - self.wall_ns()) / NS)
        if not force and now < self.next_try:
            return self.next_try - now
        for batch in coalesce(self.state.unsent(self.channel)):
            seq, event = batch[0]
            try:
                zones = alert_zones(event.alert, self.registry)
                self.notifier.send(render_group([e for _, e in batch], self.registry), zones)
            except RetryableError as exc:
                return self._failed(seq, str(exc))
            except (BadInputError, FatalError) as exc:
                log.error("%s refused an alert, not retried: %s", self.channel, exc)
                for each, _ in batch:
                    self.state.mark_sent(each, self.wall_ns(), error=str(exc)[:500])
                self._count("refused")
                continue
            for each, _ in batch:
                self.state.mark_sent(each, self.wall_ns())
            self.delivered += len(batch)
            self._count("sent")
            if self.failures:
                log.info("%s delivers again after %d failed attempts", self.channel, self.failures)
            self.backoff.reset()
            self.next_try, self.last_error = 0.0, None
        return None

    def _failed(self, seq: int, error: str) -> float:
        wait = self.backoff.next()
        self.next_try = self.monotonic() + wait
        self.state.record_attempt(seq, self.failures, self.wall_ns() + int(wait * NS), error[:500])
        self._count("retry")
        if error != self.last_error:  # once per kind of trouble, not once per attempt
            log.warning("%s delivery failed, retrying with backoff: %s", self.channel, error)
            self.last_error = error
        return wait

    def _count(self, outcome: str) -> None:
        if self.counted is not None:
            self.counted(self.channel, outcome)


class Dispatcher:
    """A worker thread per channel, woken when something is queued."""

    def __init__(
        self,
        notifiers: Mapping[str, Notifier],
        state: AlertStore,
        registry: Registry,
        *,
        counted: DeliveryCounter | None = None,
    ) -> None:
        self.registry = registry
        self.workers = {
            channel: ChannelWorker(n, state, registry, counted=counted, channel=channel)
            for channel, n in notifiers.items()
        }
        self._wake = {channel: threading.Event() for channel in self.workers}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def announce(self, event: Event) -> None:
        """Send ``event`` to every channel now, once, without the outbox (in a thread of its own:
        a hanging receiver holds up nothing); for what cannot wait in the alert state."""

        def send() -> None:
            body = render_group([event], self.registry)
            zones = alert_zones(event.alert, self.registry)
            for channel, worker in self.workers.items():
                try:
                    worker.notifier.send(body, zones)
                except Exception as exc:  # best effort: the log says it anyway
                    log.warning("%s could not be told %s: %s", channel, event.alert.rule, exc)

        threading.Thread(target=send, name="alerts-announce", daemon=True).start()

    def failing(self) -> dict[str, bool]:
        """channel → whether its last delivery failed (and it is backing off)."""
        return {channel: w.failures > 0 for channel, w in self.workers.items()}

    def wake(self) -> None:
        for event in self._wake.values():
            event.set()

    def deliver_now(self) -> int:
        """Every channel's queue at once, in this thread, backoff or not (tests, shutdown);
        returns how many were delivered."""
        before = sum(w.delivered for w in self.workers.values())
        for worker in self.workers.values():
            worker.step(force=True)
        return sum(w.delivered for w in self.workers.values()) - before

    def start(self) -> None:
        for channel, worker in self.workers.items():
            thread = threading.Thread(
                target=self._run, args=(worker, self._wake[channel]), name=f"alerts-{channel}",
                daemon=True,
            )  # fmt: skip
            thread.start()
            self._threads.append(thread)
        self.wake()  # what a previous run left queued

    def _run(self, worker: ChannelWorker, wake: threading.Event) -> None:
        while not self._stop.is_set():
            try:
                wait = worker.step()
            except Exception:  # a bug in a notifier must not end its channel for good
                log.exception("%s delivery crashed", worker.channel)
                wait = worker.backoff.next()
            # a failing channel waits out its backoff even when more is queued meanwhile
            if wait is not None:
                self._stop.wait(wait)
            else:
                wake.wait(30.0)
                wake.clear()

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
