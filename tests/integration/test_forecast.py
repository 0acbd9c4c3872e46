"""Forecasts on simulated stations in each real store: intake windows announced once and kept
while later forecasts move them, a forecast exceedance with its lead time, the API."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from alerts.engine import AlertEngine
from alerts.messages import render
from alerts.rules import load_rules
from alerts.state import AlertState
from analytics.forecast import ForecastJob
from api.app import create_app
from api.context import ApiContext
from core.clock import FakeClock
from core.codec import CodecLimits
from core.judge import Judge, JudgeConfig
from core.qc import QualityControl
from core.registry import load_registry
from core.settings import QcSettings, Settings
from core.timeutil import NS_PER_S
from sim.fleet import Fleet, SimConfig
from sim.salinity import SCENARIOS, epoch
from storage.ports import ReadingStore
from tests.alert_tools import Quiet

pytestmark = pytest.mark.integration
STATIONS = ("gia-thuan", "phu-phong", "xuan-hoa")
START, END = "2024-03-01", "2024-03-12"
H = 3600 * NS_PER_S
VIEWER = {"Authorization": f"Bearer {'v' * 24}"}


def fill(store: ReadingStore) -> None:
    registry = load_registry()
    devices = [registry.devices[s] for s in STATIONS]
    fleet = Fleet(registry, SimConfig(SCENARIOS["2024"], seed=5, interval_s=900), devices)
    judge = Judge(registry, JudgeConfig(limits=CodecLimits(max_backfill_s=400 * 86400)))
    qc = QualityControl(QcSettings().to_config())
    now_ns = int(epoch(END) * NS_PER_S)
    readings = [
        qc.apply(r, "salinity_ppt")
        for m in fleet.messages(epoch(START), epoch(END))
        for r in judge.judge(m.topic, m.payload, now_ns).readings
    ]
    for i in range(0, len(readings), 5000):
        store.write(readings[i : i + 5000])


def test_forecast_alerts_and_api(store: ReadingStore, tmp_path: Path) -> None:
    fill(store)
    registry, clock = load_registry(), FakeClock(int(epoch("2024-03-09") * NS_PER_S))
    engine = AlertEngine(
        load_rules(), registry, AlertState(tmp_path / "s.db"), clock, {"mqtt": Quiet()}
    )
    job = ForecastJob(store, registry, lambda: engine.rules, clock)
    events = engine.observe(job.update())
    # Gia Thuận, inside the sweetened scheme, stays fresh: one window over the whole horizon
    (window,) = [e for e in events if e.alert.kind == "intake_window"]
    assert window.alert.device == "gia-thuan" and window.alert.severity == "info"
    assert window.alert.value == pytest.approx(48.0, abs=0.3)
    text = render(window, registry)
    assert "Có thể lấy nước" in text["message_vi"] and "Intake window" in text["message_en"]
    assert set(job.latest) == set(STATIONS)
    # Xuân Hòa, at 8 ‰ in March, has no safe window
    assert job.latest["xuan-hoa"].windows == []

    # an hour later the window has moved by an hour: the same notice, nothing new is sent
    clock.set(clock.now_ns() + H)
    assert [e for e in engine.observe(job.update()) if e.alert.kind == "intake_window"] == []

    # Phú Phong (fruit, 1 ‰) below its level, rising towards the spring tide: the forecast
    # tells when it will reach it, before it does
    leads: list[float] = []
    for _ in range(24):
        clock.set(clock.now_ns() + H)
        for event in engine.observe(job.update()):
            if event.alert.kind == "forecast" and event.state == "firing":
                leads.append(event.alert.value or 0.0)
                assert "Dự báo" in render(event, registry)["message_vi"]
    assert len(leads) == 1 and 0 < leads[0] <= 48  # told once, then kept up to date

    settings = Settings(api={"tokens": [{"role": "viewer", "token": "v" * 24}]})
    ctx = ApiContext(settings, registry, store, engine.state, engine, clock=clock)
    with TestClient(create_app(ctx)) as client:  # no forecast job here: fitted on request
        body = client.get("/api/v1/forecast/gia-thuan", headers=VIEWER).json()
        assert len(body["points"]) == 192 and body["intake_threshold"] == 0.5
        assert body["windows"] and body["readings_used"] > 600
        assert all(p["lower"] <= p["mean"] <= p["upper"] for p in body["points"])
        river = client.get("/api/v1/forecast/phu-phong", headers=VIEWER).json()
        assert river["intake_threshold"] is None and river["windows"] == []
        assert client.get("/api/v1/forecast/nowhere", headers=VIEWER).status_code == 404
        assert client.get("/api/v1/forecast/well-tan-hoa-1", headers=VIEWER).status_code == 404
        assert client.get("/api/v1/forecast/gia-thuan").status_code == 401
        ctx.clock = FakeClock(int(epoch("2024-06-01") * NS_PER_S))  # long after the data
        assert client.get("/api/v1/forecast/gia-thuan", headers=VIEWER).status_code == 409
