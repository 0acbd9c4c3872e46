"""Helpers for alert tests: a notifier that records, one that drops."""

from __future__ import annotations

from typing import Any


class Quiet:
    """A notifier on the MQTT channel that delivers nowhere."""

    channel = "mqtt"

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        pass
