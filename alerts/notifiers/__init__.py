"""Notifiers: small plug-ins that deliver one rendered event; they hold no retry loops."""

from __future__ import annotations

from typing import Any, Protocol


class Notifier(Protocol):
    @property
    def channel(self) -> str:
        """The outbox channel this notifier serves."""
        ...

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        """Deliver one event; raise RetryableError for a passing fault, FatalError otherwise."""
        ...
