"""Request latency of the API for /metrics: a plain ASGI middleware (no per-request task or
body copy), labelled by route template so that ids in paths do not multiply the series."""

from __future__ import annotations

import time
from typing import Any

from prometheus_client import CollectorRegistry, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.request_seconds = Histogram(
            "saltwatch_api_request_seconds",
            "Time from request to the start of the response, by route template and status class",
            ["method", "route", "status"],
            buckets=_BUCKETS,
            registry=self.registry,
        )


class LatencyMiddleware:
    def __init__(self, app: ASGIApp, metrics: ApiMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = [500]

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
                self._observe(scope, status[0], began)
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except BaseException:
            self._observe(scope, 500, began)
            raise

    def _observe(self, scope: Scope, status: int, began: float) -> None:
        route: Any = scope.get("route")
        template = getattr(route, "path", None)
        label = template if isinstance(template, str) else "other"
        self.metrics.request_seconds.labels(
            scope.get("method", ""), label, f"{status // 100}xx"
        ).observe(time.perf_counter() - began)
