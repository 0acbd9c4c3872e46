"""Notifiers: small plug-ins that deliver one rendered event; they hold no retry loops."""

from __future__ import annotations

from typing import Any, Protocol


class Notifier(Protocol):
    channel: str

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        """Deliver one event; raise RetryableError for a passing fault, FatalError otherwise."""
        ...
