"""Signing a phone in without typing a token (api/signin.py): a one-time code asked for with a
token, exchanged for an HttpOnly, SameSite=Strict session cookie that acts with the asker's role
and name; a code works once and for 10 minutes; signing out ends the session."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from saltwatch.alerts.engine import AlertEngine
from saltwatch.api.app import create_app
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.signin_sqlite import SqliteSignIns
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.alert_tools import Quiet, api_context, rivers_alerting

pytestmark = pytest.mark.integration
T0 = 1_710_237_600 * 10**9
MIN = 60 * 10**9
OPERATOR = "signin-operator-token-0001"
VIEWER = "signin-viewer-token-00001"


def test_a_one_time_code_signs_a_phone_in_with_the_askers_role(tmp_path: Path) -> None:
    registry, clock = load_registry(), FakeClock(T0)
    state = SqliteAlertStore(tmp_path / "state.db")
    store = SqliteReadingStore(tmp_path / "r.db")
    engine = AlertEngine(rivers_alerting(), registry, state, clock, {"mqtt": Quiet()})
    reading = Reading(TopicKind.SALINITY, "vam-kenh", T0, {"salinity_ppt": 5.0}, zone="xa-tan-dong")
    store.write([reading])
    engine.on_readings([reading])
    tokens = [
        ApiToken(role="operator", token=OPERATOR, name="lan.nguyen"),
        ApiToken(role="viewer", token=VIEWER, name="tuan.tran"),
    ]
    wall = [T0]  # the sign-in's own clock: real time, also in the demo
    signins = SqliteSignIns(tmp_path / "state.db", lambda: wall[0])
    ctx = api_context(
        Settings(api={"tokens": tokens}), registry, store, state, engine, clock=clock,
        signins=signins,
    )  # fmt: skip
    desk = TestClient(create_app(ctx))
    phone = TestClient(create_app(ctx))
    made = desk.post("/api/v1/signin-codes", headers={"Authorization": f"Bearer {OPERATOR}"})
    assert made.status_code == 201
    code = made.json()["code"]
    assert len(code) == 11 and code[5] == "-" and made.json()["link"].endswith(f"#code={code}")
    assert phone.get("/api/v1/alerts").status_code == 401  # not signed in yet
    opened = phone.post("/api/v1/session", json={"code": code.lower().replace("-", "")})
    assert opened.status_code == 204
    cookie = opened.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=43200" in cookie
    (alert,) = phone.get("/api/v1/alerts?state=firing").json()["items"]
    acked = phone.post(f"/api/v1/alerts/{alert['id']}/ack", json={"note": "đã đóng cống"})
    assert acked.status_code == 200 and acked.json()["acked_by"] == "lan.nguyen"
    # once only, and 10 minutes only
    again = TestClient(create_app(ctx))
    assert again.post("/api/v1/session", json={"code": code}).status_code == 401
    late = desk.post("/api/v1/signin-codes", headers={"Authorization": f"Bearer {VIEWER}"})
    wall[0] = T0 + 11 * MIN
    assert again.post("/api/v1/session", json={"code": late.json()["code"]}).status_code == 401
    # a viewer's code gives a viewer's session: reading, not acknowledging
    fresh = desk.post("/api/v1/signin-codes", headers={"Authorization": f"Bearer {VIEWER}"})
    assert again.post("/api/v1/session", json={"code": fresh.json()["code"]}).status_code == 204
    assert again.get("/api/v1/zones").status_code == 200
    assert again.post(f"/api/v1/alerts/{alert['id']}/ack", json={}).status_code == 403
    # a code needs a token or a session to be asked for; signing out ends the session
    assert TestClient(create_app(ctx)).post("/api/v1/signin-codes").status_code == 401
    assert phone.delete("/api/v1/session").status_code == 204
    assert phone.get("/api/v1/alerts").status_code == 401
    # what is kept of codes and sessions is their digests, never the secrets
    raw = (tmp_path / "state.db").read_bytes() + (tmp_path / "state.db-wal").read_bytes()
    assert code.replace("-", "").encode() not in raw and code.encode() not in raw
    signins.close()
    state.close()
    store.close()
