"""Running an ingest component (the pipeline's service, the alerts feed) until told to stop, and
turning a refusal or a dead thread into the error that ends the process."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol

from saltwatch.core.errors import FatalError


class _Refusable(Protocol):
    @property
    def fatal(self) -> Exception | None: ...


class _Runnable(Protocol):
    @property
    def consumer(self) -> _Refusable: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


def run_until(
    stop: threading.Event,
    component: _Runnable,
    failure: Callable[[], BaseException | None],
    name: str,
) -> None:
    """Start ``component`` and run until ``stop`` is set, then stop it; raise the broker's
    refusal, or FatalError when ``failure`` reports that a thread of it died."""
    component.start()
    try:
        while not stop.wait(0.25):
            if component.consumer.fatal is not None:
                raise component.consumer.fatal
            if (failed := failure()) is not None:
                raise FatalError(f"{name} failed: {failed}")
    finally:
        component.stop()
