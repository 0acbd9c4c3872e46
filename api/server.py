"""Runs the API with uvicorn in a background thread of a composition root."""

from __future__ import annotations

import threading

import uvicorn

from saltwatch.api.app import create_app
from saltwatch.api.context import ApiContext


class ApiServer:
    def __init__(self, ctx: ApiContext) -> None:
        host, _, port = ctx.settings.api.bind.rpartition(":")
        config = uvicorn.Config(
            create_app(ctx),
            host=host.strip("[]"),
            port=int(port),
            log_level="warning",
            access_log=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
