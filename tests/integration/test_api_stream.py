"""The live stream of alert events over a real HTTP server (Server-Sent Events)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from harness.services import free_port, wait_until
from saltwatch.alerts.engine import AlertEngine
from saltwatch.api.server import ApiServer
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.alert_tools import Quiet, api_context, rivers_alerting

pytestmark = pytest.mark.integration
T0 = 1_710_237_600 * 10**9
TOKEN = "stream-viewer-token-000"


def test_a_firing_alert_reaches_the_stream(tmp_path: Path) -> None:
    port = free_port()
    settings = Settings(
        api={"tokens": [ApiToken(role="viewer", token=TOKEN)], "bind": f"127.0.0.1:{port}"}
    )
    registry = load_registry()
    state = SqliteAlertStore(tmp_path / "s.db")
    engine = AlertEngine(rivers_alerting(), registry, state, FakeClock(T0), {"mqtt": Quiet()})
    store = SqliteReadingStore(tmp_path / "r.db")
    server = ApiServer(api_context(settings, registry, store, state, engine))
    server.start()
    received: list[dict[str, Any]] = []
    connected = threading.Event()

    def listen() -> None:
        with httpx.stream(
            "GET",
            f"http://127.0.0.1:{port}/api/v1/alerts/stream",
            headers={"Authorization": f"Bearer {TOKEN}"},
            timeout=30,
        ) as response:
            for line in response.iter_lines():
                connected.set()
                if line.startswith("data: "):
                    received.append(orjson.loads(line[6:]))
                    return

    try:
        wait_until(lambda: server.started, 10, "the API server")
        assert httpx.get(f"http://127.0.0.1:{port}/api/v1/alerts/stream").status_code == 401
        thread = threading.Thread(target=listen, daemon=True)
        thread.start()
        assert connected.wait(10)
        wait_until(lambda: bool(engine.episodes._listeners), 5, "the stream to subscribe")
        engine.on_readings([Reading(TopicKind.SALINITY, "vam-kenh", T0, {"salinity_ppt": 4.7})])
        thread.join(10)
        (event,) = received
        assert (event["rule"], event["state"], event["device"]) == (
            "salinity-river",
            "firing",
            "vam-kenh",
        )
    finally:
        server.stop()
        store.close()
        state.close()
