"""Planned openings (analytics/schedules.py) kept in SQLite (storage/schedule_sqlite.py): planned
and cancelled through the API on the audit log, and a warning ahead of time when the forecast
says a planned opening falls in salty water."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.structures import GateSeen, gate_readings
from saltwatch.analytics.forecast import Forecast, StationForecast
from saltwatch.analytics.schedules import Opening, ScheduleCheck
from saltwatch.api.app import create_app
from saltwatch.api.context import ApiContext
from saltwatch.core.clock import FakeClock
from saltwatch.core.errors import RetryableError
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_rfc3339
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.schedule_sqlite import SqliteSchedules
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.alert_tools import Quiet, api_context

pytestmark = pytest.mark.integration
NOW = 1_710_237_600 * NS_PER_S  # 2024-03-12 17:00 in Vietnam
H = 3600 * NS_PER_S
TOKENS = {"viewer": "v" * 24, "operator": "o" * 24, "admin": "a" * 24}
REGISTRY = load_registry()
RULES = load_rules()


def xuan_hoa_forecast(peak_at_h: float, peak: float) -> StationForecast:
    """A 48 h forecast at Xuân Hòa: 0.3 ‰, rising to ``peak`` around ``peak_at_h`` hours on."""
    leads = np.arange(1, 193) * 0.25
    mean = 0.3 + (peak - 0.3) * np.exp(-(((leads - peak_at_h) / 2.0) ** 2))
    ts = NOW + (leads * H).astype(np.int64)
    station = REGISTRY.devices["xuan-hoa"]
    f = Forecast(NOW, ts, mean, mean * 0.8, mean * 1.2, points=500)
    return StationForecast(station, f, 0.5, 1.0, [])


def test_a_planned_opening_in_a_forecast_salty_spell_is_warned_of_before_it_is_due(
    tmp_path: Path,
) -> None:
    book = SqliteSchedules(tmp_path / "state.db")
    state = SqliteAlertStore(tmp_path / "alerts.db")
    engine = AlertEngine(RULES, REGISTRY, state, FakeClock(NOW), {"mqtt": Quiet()})
    check = ScheduleCheck(book, REGISTRY, lambda: RULES)
    salty = {"xuan-hoa": xuan_hoa_forecast(20, 1.6)}  # 1.6 ‰ tomorrow at 13:00
    book.add(Opening("a1b2c3d4e5f6", "cong-xuan-hoa", NOW + 18 * H, NOW + 22 * H, "lan.nguyen"))
    book.add(Opening("0f0f0f0f0f0f", "cong-xuan-hoa", NOW + 30 * H, NOW + 33 * H, "lan.nguyen"))
    engine.observe(check.update(salty, NOW, 48 * H))
    (warning,) = [a for a in engine.open_alerts() if a.rule == "opening-unsafe"]
    assert warning.severity == "warning" and warning.zone == "xa-binh-ninh"
    assert str(warning.fingerprint) == "opening-unsafe:cong-xuan-hoa:a1b2c3d4e5f6"
    assert warning.value == pytest.approx(1.6, abs=0.05) and warning.threshold == 1.0
    # a later forecast says the water stays fresh: the warning resolves
    fresh = {"xuan-hoa": xuan_hoa_forecast(20, 0.6)}
    engine.observe(check.update(fresh, NOW + H, 48 * H))
    assert not [a for a in engine.open_alerts() if a.rule == "opening-unsafe"]
    # salty again, then the opening is cancelled: resolved again
    engine.observe(check.update(salty, NOW + H, 48 * H))
    assert [a for a in engine.open_alerts() if a.rule == "opening-unsafe"]
    assert book.cancel("a1b2c3d4e5f6", "lan.nguyen") is not None
    assert book.cancel("a1b2c3d4e5f6", "lan.nguyen") is None  # once
    engine.observe(check.update(salty, NOW + 2 * H, 48 * H))
    assert not [a for a in engine.open_alerts() if a.rule == "opening-unsafe"]
    state.close()


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    tokens = [ApiToken.model_validate({"role": r, "token": t}) for r, t in TOKENS.items()]
    state = SqliteAlertStore(tmp_path / "state.db")
    ctx = api_context(
        Settings(api={"tokens": tokens}),
        REGISTRY,
        SqliteReadingStore(tmp_path / "readings.db"),
        state,
        clock=FakeClock(NOW),
        schedules=SqliteSchedules(tmp_path / "state.db"),
    )
    with TestClient(create_app(ctx)) as test_client:
        yield test_client
    state.close()


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


def test_openings_are_planned_listed_and_cancelled_on_the_record(client: TestClient) -> None:
    start, end = to_rfc3339(NOW + 18 * H, VN_TZ), to_rfc3339(NOW + 22 * H, VN_TZ)
    body = {"structure": "cong-xuan-hoa", "start": start, "end": end, "note": "lấy nước sáng"}
    assert client.post("/api/v1/schedules", json=body, headers=auth("viewer")).status_code == 403
    made = client.post("/api/v1/schedules", json=body, headers=auth("operator"))
    assert made.status_code == 201, made.text
    opening = made.json()
    assert (opening["source"], opening["name"], opening["note"]) == (
        "operator",
        "Cống Xuân Hòa",
        "lấy nước sáng",
    )
    assert opening["by"].startswith("token-")  # the token's name: who planned it
    listed = client.get("/api/v1/schedules", headers=auth("viewer")).json()
    assert [o["id"] for o in listed] == [opening["id"]] and listed[0]["start"] == start
    backwards = {**body, "start": end, "end": start}
    assert (
        client.post("/api/v1/schedules", json=backwards, headers=auth("operator")).status_code
        == 422
    )
    unknown = {**body, "structure": "cong-nowhere"}
    assert (
        client.post("/api/v1/schedules", json=unknown, headers=auth("operator")).status_code == 404
    )
    gone = client.delete(f"/api/v1/schedules/{opening['id']}", headers=auth("operator"))
    assert gone.status_code == 204
    assert client.get("/api/v1/schedules", headers=auth("viewer")).json() == []
    again = client.delete(f"/api/v1/schedules/{opening['id']}", headers=auth("operator"))
    assert again.status_code == 404
    audit = client.get("/api/v1/audit", headers=auth("admin")).json()["items"]
    actions = sorted(a["action"] for a in audit if a["target"] == "cong-xuan-hoa")
    assert actions == ["schedule.cancel", "schedule.create"]


def test_the_daily_bulletin_says_what_the_gates_did_and_what_is_planned(
    client: TestClient,
) -> None:
    ctx: ApiContext = client.app.state.ctx  # type: ignore[attr-defined]
    closed = GateSeen("closed", NOW - 9 * H, "operator", by="lan.nguyen")
    ctx.store.write(gate_readings([closed], "cong-xuan-hoa"))
    sensor = [
        Reading(TopicKind.GATE, "gate-xuan-hoa", NOW - k * H, {"state": state})
        for k, state in ((12, "open"), (11, "open"), (8, "closed"), (2, "open"))
    ]
    ctx.store.write(sensor)
    start = to_rfc3339(NOW + 14 * H, VN_TZ)  # 13 March, 07:00
    body = {"structure": "cong-xuan-hoa", "start": start, "end": to_rfc3339(NOW + 17 * H, VN_TZ)}
    assert client.post("/api/v1/schedules", json=body, headers=auth("operator")).status_code == 201
    ctx.clock.set(NOW + 8 * H)  # type: ignore[attr-defined]  # the day is over: issued
    page = client.get(
        "/api/v1/reports/daily",
        params={"date": "2024-03-12", "format": "markdown"},
        headers=auth("viewer"),
    )
    assert page.status_code == 200, page.text
    section = page.text.split("Cống: đóng mở trong ngày và lịch mở 3 ngày tới")[1]
    row = next(line for line in section.splitlines() if line.startswith("| Cống Xuân Hòa"))
    # the changes only, each with who: the sensor's open, the operator's close, open again
    assert "05:00 mở (cảm biến); 08:00 đóng (lan.nguyen); 15:00 mở (cảm biến)" in row, row
    assert "07:00 13/03–10:00 (token-" in row, row


M2_H = 12.4206  # the principal lunar semidiurnal tide's period, hours


def test_an_opening_lists_the_high_and_low_waters_predicted_in_it(client: TestClient) -> None:
    """The guard station's own salt tide (no water-level station near Xuân Hòa): 30 days of
    readings whose highs come every M2 period; an opening of the next day lists the highs and
    lows in it, each within a quarter of an hour of the true one."""
    ctx: ApiContext = client.app.state.ctx  # type: ignore[attr-defined]
    phase = NOW - 2 * H  # a high water two hours ago
    times = np.arange(NOW - 30 * 24 * H, NOW, 15 * 60 * NS_PER_S)
    hours = (times - phase) / H
    ppt = 0.8 + 0.4 * np.cos(2 * np.pi * hours / M2_H)
    ctx.store.write(
        [
            Reading(TopicKind.SALINITY, "xuan-hoa", int(t), {"salinity_ppt": round(float(v), 3)})
            for t, v in zip(times, ppt, strict=True)
        ]
    )
    start, end = to_rfc3339(NOW + 20 * H, VN_TZ), to_rfc3339(NOW + 34 * H, VN_TZ)
    body = {"structure": "cong-xuan-hoa", "start": start, "end": end}
    assert client.post("/api/v1/schedules", json=body, headers=auth("operator")).status_code == 201
    (opening,) = client.get("/api/v1/schedules", headers=auth("viewer")).json()
    assert opening["tide_basis"] == "salinity"
    kinds = [w["water"] for w in opening["waters"]]
    assert len(kinds) in (2, 3) and all(a != b for a, b in itertools.pairwise(kinds))
    for w in opening["waters"]:
        at = int(np.datetime64(w["at"][:19]).astype("datetime64[ns]").astype(np.int64)) - 7 * H
        cycles = (at - phase) / H / M2_H - (0.0 if w["water"] == "high" else 0.5)
        assert abs(cycles - round(cycles)) * M2_H * 60 < 15, w  # minutes off the true one
        assert w["height_m"] is None  # the salt's tide says when, not how high


def test_without_a_record_an_opening_says_no_water_is_predicted(client: TestClient) -> None:
    start, end = to_rfc3339(NOW + 20 * H, VN_TZ), to_rfc3339(NOW + 24 * H, VN_TZ)
    body = {"structure": "cong-xuan-hoa", "start": start, "end": end}
    made = client.post("/api/v1/schedules", json=body, headers=auth("operator")).json()
    assert made["tide_basis"] == "none" and made["waters"] == []


def test_the_plan_is_shown_and_kept_while_the_reading_store_is_away(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The planned openings live in the alert state's file: with the reading store away an
    opening is still planned and listed, its waters said to be unavailable rather than none."""
    ctx: ApiContext = client.app.state.ctx  # type: ignore[attr-defined]

    def away(*args: object, **kwargs: object) -> list[Reading]:
        raise RetryableError("the reading store is away")

    monkeypatch.setattr(ctx.store, "query", away)
    start, end = to_rfc3339(NOW + 20 * H, VN_TZ), to_rfc3339(NOW + 24 * H, VN_TZ)
    body = {"structure": "cong-xuan-hoa", "start": start, "end": end}
    made = client.post("/api/v1/schedules", json=body, headers=auth("operator"))
    assert made.status_code == 201, made.text
    assert made.json()["tide_basis"] == "unavailable" and made.json()["waters"] == []
    (listed,) = client.get("/api/v1/schedules", headers=auth("viewer")).json()
    assert listed["id"] == made.json()["id"] and listed["tide_basis"] == "unavailable"
