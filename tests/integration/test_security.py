"""The security battery of the API, on each store: every endpoint without a token, with a wrong
one and with each role; hostile strings in every parameter a caller controls; oversized and slow
requests. (The broker's side: tests/integration/test_credentials.py; the codec's fuzz:
tests/unit/test_codec_fuzz.py; device strings against both stores: test_store_contract.py.)"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi.testclient import TestClient

from harness.documented import documented_sources
from harness.services import InfluxServer, free_port, wait_until
from saltwatch.alerts.engine import AlertEngine
from saltwatch.api.app import create_app
from saltwatch.api.context import ApiContext
from saltwatch.api.server import ApiServer
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.influx import InfluxReadingStore
from tests.alert_tools import Quiet, api_context, rivers_alerting
from tests.conftest import need_binary

pytestmark = pytest.mark.integration
NOW = 1_710_237_600 * 10**9  # 2024-03-12 17:00 in Vietnam
TOKENS = {"viewer": "viewer-" + "v" * 20, "operator": "operator-" + "o" * 20, "admin": "a" * 26}
RANK = {None: -1, "viewer": 0, "operator": 1, "admin": 2}

#: every route and the least role it needs (None: open). A new route must be added here.
ROUTES: dict[tuple[str, str], str | None] = {
    ("GET", "/health"): None,
    ("GET", "/metrics"): None,
    ("GET", "/api/v1/text/{lang}"): None,  # the dashboard's words: the sign-in page needs them
    ("GET", "/api/v1/zones"): "viewer",
    ("GET", "/api/v1/stations"): "viewer",
    ("GET", "/api/v1/stations/{station}/readings"): "viewer",
    ("GET", "/api/v1/wells"): "viewer",
    ("GET", "/api/v1/taps"): "viewer",
    ("GET", "/api/v1/devices/status"): "viewer",
    ("GET", "/api/v1/summary"): "viewer",
    ("GET", "/api/v1/rules"): "viewer",
    ("PUT", "/api/v1/rules"): "admin",
    ("GET", "/api/v1/alerts"): "viewer",
    ("GET", "/api/v1/alerts.csv"): "viewer",
    ("GET", "/api/v1/stations/{station}/readings.csv"): "viewer",
    ("GET", "/api/v1/alerts/stream"): "viewer",
    ("POST", "/api/v1/alerts/{alert_id}/ack"): "operator",
    ("GET", "/api/v1/silences"): "viewer",
    ("POST", "/api/v1/silences"): "operator",
    ("DELETE", "/api/v1/silences/{silence_id}"): "operator",
    ("GET", "/api/v1/ingest/rejections"): "viewer",
    ("GET", "/api/v1/saltfront"): "viewer",
    ("GET", "/api/v1/forecast/{station}"): "viewer",
    ("GET", "/api/v1/reports/daily"): "viewer",
    ("GET", "/api/v1/reports/weekly"): "viewer",
    ("GET", "/api/v1/outlook"): "viewer",
    ("GET", "/bulletins/{share}"): None,  # the link, a random 128-bit name, is the permission
    ("POST", "/api/v1/signin-codes"): "viewer",
    ("GET", "/api/v1/structures"): "viewer",
    ("POST", "/api/v1/structures/{structure}/operations"): "operator",
    ("GET", "/api/v1/structures/{structure}/history"): "viewer",
    ("GET", "/api/v1/schedules"): "viewer",
    ("POST", "/api/v1/schedules"): "operator",
    ("DELETE", "/api/v1/schedules/{opening_id}"): "operator",
    ("POST", "/api/v1/stations/{station}/readings"): "operator",
    ("POST", "/api/v1/imports"): "operator",
    ("POST", "/api/v1/session"): None,  # the one-time code in the body is the permission
    ("DELETE", "/api/v1/session"): None,
    ("GET", "/api/v1/audit"): "admin",
}
HOSTILE = [
    "x' OR '1'='1",
    'x" OR 1=1 --',
    "x'; DROP MEASUREMENT salinity; --",
    "'; DELETE FROM salinity; --",
    "vam-kenh' OR \"station\" =~ /.*/ OR 'a'='b",
    "../../etc/passwd",
    "%00vam-kenh",
    "${jndi:ldap://x/a}",
    "Vàm Kênh\u202e",
    "a" * 5000,
]


@pytest.fixture
def system(store: ReadingStore, tmp_path: Path) -> Iterator[tuple[ApiContext, ReadingStore]]:
    registry = load_registry()
    settings = Settings(
        api={
            "tokens": [ApiToken.model_validate({"role": r, "token": t}) for r, t in TOKENS.items()]
        },
        state={"path": tmp_path / "state.db"},
        sources=[documented_sources()["logger-vam-kenh"]],
    )
    clock = FakeClock(NOW)
    state = SqliteAlertStore(tmp_path / "state.db")
    engine = AlertEngine(rivers_alerting(), registry, state, clock, {"mqtt": Quiet()})
    readings = [
        Reading(TopicKind.SALINITY, "vam-kenh", NOW - i * 900 * 10**9, {"salinity_ppt": 4.5})
        for i in range(8)
    ]
    store.write(readings)
    engine.on_readings(readings)  # a firing alert to acknowledge
    yield (
        api_context(settings, registry, store, state, engine, clock=clock),
        store,
    )
    state.close()


def call(
    client: TestClient, method: str, path: str, token: str | None, ids: dict[str, str]
) -> httpx.Response:
    url = path.format(**ids)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body: Any = None
    if path.endswith("/ack"):
        body = {"by": "kỹ sư Lan", "note": "đã đóng cống"}
    elif method == "POST" and path.endswith("/silences"):
        body = {"zone": "xa-tan-dong", "minutes": 30, "author": "Lan", "reason": "bảo trì"}
    elif method == "PUT":
        body = load_rules().model_dump(mode="json")
    elif path.endswith("/operations"):
        body = {"state": "closed", "note": "đã đóng"}
    elif path.endswith("/readings") and method == "POST":
        body = {"value": 0.8, "note": "đo tay"}
    elif path == "/api/v1/imports":  # a dry run of a small file
        url += "?source=logger-vam-kenh&dry_run=true"
        data = b"datetime,value\n2024-03-12 07:00,0.8\n"
        answer_: httpx.Response = client.request(method, url, headers=headers, content=data)
        return answer_
    elif method == "POST" and path.endswith("/schedules"):
        start = "2024-03-13T06:00:00+07:00"
        body = {"structure": "cong-xuan-hoa", "start": start, "end": "2024-03-13T09:00:00+07:00"}
    if path.endswith("/stream"):  # an endless stream: its status is enough
        with client.stream(method, url, headers=headers) as streamed:
            body = b"" if streamed.status_code == 200 else streamed.read()
            return httpx.Response(streamed.status_code, headers=streamed.headers, content=body)
    answer: httpx.Response = client.request(method, url, headers=headers, json=body)
    return answer


def test_the_table_covers_every_route(system: tuple[ApiContext, ReadingStore]) -> None:
    paths = create_app(system[0]).openapi()["paths"]
    routes = {(method.upper(), path) for path, ops in paths.items() for method in ops}
    assert routes == set(ROUTES)


@pytest.mark.parametrize(("method", "path"), sorted(ROUTES))
def test_every_endpoint_every_role(
    system: tuple[ApiContext, ReadingStore], method: str, path: str
) -> None:
    ctx, _ = system
    needed = ROUTES[(method, path)]
    with TestClient(create_app(ctx)) as client:
        for who in (None, "wrong", "viewer", "operator", "admin"):
            alerts = list(ctx.state.open_alerts().values())  # the engine saved them
            alert = alerts[0] if alerts else None
            silence = client.post(
                "/api/v1/silences",
                headers={"Authorization": f"Bearer {TOKENS['operator']}"},
                json={"device": "hoa-binh", "minutes": 5, "author": "t", "reason": "t"},
            ).json()["id"]
            ids = {
                "station": "vam-kenh",
                "alert_id": alert.id if alert else "none",
                "silence_id": silence,
                "share": "0" * 32,  # a link that names no bulletin: 404 to everyone alike
                "structure": "cong-xuan-hoa",
                "opening_id": "0" * 12,
                "lang": "vi",
            }
            token = {"wrong": "not-a-token-" + "x" * 20, None: None}.get(who, TOKENS.get(who or ""))
            response = call(client, method, path, token, ids)
            role = who if who in RANK else None
            if needed is None:
                # open, and what it answers without the secret it needs: a bulletin's link that
                # names nothing, a session asked for without a code, signing out
                found = {"/bulletins/{share}": 404, "/api/v1/session": 204}.get(path, 200)
                found = 422 if (method, path) == ("POST", "/api/v1/session") else found
                assert response.status_code == found, (who, response.text)
            elif role is None:
                assert response.status_code == 401, (who, response.text)
                assert response.headers.get("www-authenticate") == "Bearer"
            elif RANK[role] < RANK[needed]:
                assert response.status_code == 403, (who, response.text)
            else:
                assert response.status_code < 400 or response.status_code in (404, 409), (
                    who,
                    response.status_code,
                    response.text,
                )
            for secret in TOKENS.values():  # no token ever echoed back
                assert secret not in response.text


def test_hostile_strings_in_every_parameter(system: tuple[ApiContext, ReadingStore]) -> None:
    ctx, store = system
    before = store.count(TopicKind.SALINITY)
    auth = {"Authorization": f"Bearer {TOKENS['admin']}"}
    with TestClient(create_app(ctx)) as client:
        for hostile in HOSTILE:
            quoted = quote(hostile, safe="")
            for url, params in [
                (f"/api/v1/stations/{quoted}/readings", {}),
                (f"/api/v1/forecast/{quoted}", {}),
                ("/api/v1/alerts", {"zone": hostile}),
                ("/api/v1/alerts", {"state": hostile, "severity": hostile}),
                ("/api/v1/stations/vam-kenh/readings", {"every": hostile}),
                ("/api/v1/stations/vam-kenh/readings", {"start": hostile}),
                ("/api/v1/reports/daily", {"zone": hostile}),
                ("/api/v1/reports/daily", {"date": hostile}),
                ("/api/v1/reports/weekly", {"zone": hostile}),
                ("/api/v1/reports/weekly", {"week": hostile}),
                ("/api/v1/saltfront", {"days": hostile}),
                ("/api/v1/zones", {hostile[:40]: "1"}),
            ]:
                response = client.get(url, params=params, headers=auth)
                assert response.status_code in (200, 404, 405, 422), (url, hostile, response.text)
                if response.status_code == 200:  # a filter that matched nothing
                    assert response.json()["items"] == [], (url, hostile)
            for field in ("zone", "device", "rule"):
                body = {field: hostile, "minutes": 5, "author": "t", "reason": "t"}
                assert client.post("/api/v1/silences", json=body, headers=auth).status_code == 422
            ack = client.post(f"/api/v1/alerts/{quoted}/ack", json={"by": hostile}, headers=auth)
            assert ack.status_code in (404, 405, 422)
        # nothing was written, deleted or dropped, whatever the store
        assert store.count(TopicKind.SALINITY) == before
        assert client.get("/api/v1/stations", headers=auth).status_code == 200


def test_oversized_bodies_are_refused(system: tuple[ApiContext, ReadingStore]) -> None:
    ctx, _ = system
    auth = {"Authorization": f"Bearer {TOKENS['admin']}", "Content-Type": "application/json"}
    big = b'{"by": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    with TestClient(create_app(ctx)) as client:
        said = client.post("/api/v1/alerts/none/ack", content=big, headers=auth)
        assert said.status_code == 413
        # a body sent in chunks, without a length, is cut off the same way
        chunks = (big[i : i + 65536] for i in range(0, len(big), 65536))
        streamed = client.post("/api/v1/silences", content=chunks, headers=auth)
        assert streamed.status_code == 413
        # a file uploaded for import may be larger (64 MiB), and no more
        upload = {"source": "none", "filename": "a.csv"}
        for body, status in [(big, 422), (b"x" * (64 * 1024 * 1024 + 1), 413)]:
            answer = client.post("/api/v1/imports", params=upload, content=body, headers=auth)
            assert answer.status_code == status, answer.text[:200]
        # a length that is no number is the caller's error, not an oversized body
        for declared in ("", "ten", "-1"):
            bad = client.get("/api/v1/alerts.csv", headers={**auth, "Content-Length": declared})
            assert bad.status_code == 400, (declared, bad.text)
            assert bad.json()["detail"] == "Content-Length is not a number of bytes"
        assert client.get("/health").status_code == 200


def test_slow_clients_do_not_hold_up_the_others(
    system: tuple[ApiContext, ReadingStore],
) -> None:
    ctx, _ = system
    port = free_port()
    ctx.settings = ctx.settings.model_copy(
        update={"api": ctx.settings.api.model_copy(update={"bind": f"127.0.0.1:{port}"})}
    )
    server = ApiServer(ctx)
    server.start()
    slow: list[socket.socket] = []
    stop = threading.Event()
    try:
        wait_until(lambda: server.started, 10, "the API server")
        for _ in range(100):  # each sends half a request line, then a byte now and then
            conn = socket.create_connection(("127.0.0.1", port), timeout=5)
            conn.sendall(b"GET /api/v1/zones HTTP/1.1\r\nHost: x\r\n")
            slow.append(conn)

        def trickle() -> None:
            while not stop.wait(0.5):
                for conn in slow:
                    with contextlib.suppress(OSError):
                        conn.sendall(b"X")

        threading.Thread(target=trickle, daemon=True).start()
        latencies = []
        for _ in range(20):
            began = time.perf_counter()
            response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
            latencies.append(time.perf_counter() - began)
            assert response.status_code == 200
        assert max(latencies) < 1.0, latencies
    finally:
        stop.set()
        for conn in slow:
            conn.close()
        server.stop()


#: the read endpoints that need the reading store
NEED_THE_STORE = {
    "/api/v1/stations",
    "/api/v1/stations/{station}/readings",
    "/api/v1/stations/{station}/readings.csv",
    "/api/v1/wells",
    "/api/v1/taps",
    "/api/v1/summary",
    "/api/v1/saltfront",
    "/api/v1/forecast/{station}",
    "/api/v1/reports/daily",
    "/api/v1/outlook",
    "/api/v1/reports/weekly",
    "/api/v1/structures",
    "/api/v1/structures/{structure}/history",
}


def test_every_read_endpoint_answers_503_json_while_influxd_is_stopped(tmp_path: Path) -> None:
    """docs/interface.md: a store that cannot be reached is a 503 with JSON and Retry-After."""
    need_binary("influxd", "influxdb")
    server = InfluxServer(tmp_path / "influxd")
    server.start()
    try:
        store = InfluxReadingStore(server.store_url("down"))
        registry = load_registry()
        tokens = [ApiToken.model_validate({"role": r, "token": t}) for r, t in TOKENS.items()]
        settings = Settings(api={"tokens": tokens})
        state = SqliteAlertStore(tmp_path / "state.db")
        store.write([Reading(TopicKind.SALINITY, "vam-kenh", NOW, {"salinity_ppt": 3.0})])
        ctx = api_context(settings, registry, store, state, clock=FakeClock(NOW))
        server.stop()
        with TestClient(create_app(ctx)) as client:
            for method, path in sorted(ROUTES):
                if method != "GET" or path in ("/health", "/metrics", "/api/v1/alerts/stream"):
                    continue
                token = TOKENS[ROUTES[(method, path)] or "viewer"]
                ids = {"station": "vam-kenh", "share": "0" * 32, "structure": "cong-xuan-hoa"}
                ids["lang"] = "en"
                response = call(client, method, path, token, ids)
                if path in NEED_THE_STORE:
                    assert response.status_code == 503, (path, response.text)
                    assert response.headers["retry-after"].isdigit(), path
                    assert "unavailable" in response.json()["detail"], path
                else:  # a bulletin's link reads the alert state's file, not the store
                    answers = (404,) if "{share}" in path else (200, 409)
                    assert response.status_code in answers, (path, response.text)
            health = client.get("/health").json()
            assert health["status"] == "degraded"
        store.close()
        state.close()
    finally:
        server.stop()
