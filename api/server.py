"""Runs the API with uvicorn in a background thread of a composition root."""

from __future__ import annotations

import ipaddress
import logging
import threading

import uvicorn

from saltwatch.api.app import create_app
from saltwatch.api.context import ApiContext

log = logging.getLogger("saltwatch.api")


def plain_http_warning(bind: str, tls: bool) -> str | None:
    """What ``serve`` and ``api`` log at start when tokens would cross a network in plain HTTP:
    bound beyond loopback without ``api.tls_cert`` and ``api.tls_key``."""
    host = bind.rpartition(":")[0].strip("[]")
    if tls or (host not in ("", "0.0.0.0", "::") and ipaddress.ip_address(host).is_loopback):  # noqa: S104
        return None
    return (
        f"the API listens on {bind} in plain HTTP: tokens cross the network where anyone on it "
        "can read them; give api.tls_cert and api.tls_key, or keep it on 127.0.0.1 behind a TLS "
        "reverse proxy (docs/deploy.md)"
    )


class ApiServer:
    def __init__(self, ctx: ApiContext) -> None:
        host, _, port = ctx.settings.api.bind.rpartition(":")
        config = uvicorn.Config(
            create_app(ctx),
            host=host.strip("[]"),
            port=int(port),
            log_level="warning",
            access_log=False,
            ssl_certfile=ctx.settings.api.tls_cert,  # HTTPS when both are given
            ssl_keyfile=ctx.settings.api.tls_key,
        )
        self._server = uvicorn.Server(config)
        api = ctx.settings.api
        if warning := plain_http_warning(api.bind, api.tls_cert is not None):
            log.warning(warning)
        self._thread = threading.Thread(target=self._server.run, name="api", daemon=True)

    def start(self) -> None:
        self._thread.start()

    @property
    def started(self) -> bool:
        return bool(self._server.started)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)
