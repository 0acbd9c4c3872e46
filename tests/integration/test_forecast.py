"""Forecasts on simulated stations in each real store: intake windows announced once and kept
while later forecasts move them, a forecast exceedance with its lead time, the API."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.messages import render
from saltwatch.analytics.forecast_job import ForecastJob
from saltwatch.analytics.forecast_store import live_score, past_forecasts, to_reading
from saltwatch.api.app import create_app
from saltwatch.core.clock import FakeClock
from saltwatch.core.codec import CodecLimits
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import RuleSet, load_rules
from saltwatch.core.settings import QcSettings, Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.alert_tools import Quiet, api_context

pytestmark = pytest.mark.integration
STATIONS = ("gia-thuan", "phu-phong", "xuan-hoa")
START, END = "2024-02-24", "2024-03-12"
H = 3600 * NS_PER_S
VIEWER = {"Authorization": f"Bearer {'v' * 24}"}


def fill(store: ReadingStore) -> None:
    registry = load_registry()
    devices = [registry.devices[s] for s in STATIONS]
    fleet = Fleet(registry, SimConfig(SCENARIOS["2024"], seed=5, interval_s=900), devices)
    judge = MessageValidator(
        registry, ValidationConfig(limits=CodecLimits(max_backfill_s=400 * 86400))
    )
    qc = QualityControl(QcSettings().to_config())
    now_ns = int(epoch(END) * NS_PER_S)
    readings = [
        qc.apply(r, "salinity_ppt")
        for m in fleet.messages(epoch(START), epoch(END))
        for r in judge.validate(m.topic, m.payload, now_ns).readings
    ]
    for i in range(0, len(readings), 5000):
        store.write(readings[i : i + 5000])


def told_before_it_did(
    store: ReadingStore, engine: AlertEngine, job: ForecastJob, clock: FakeClock
) -> None:
    """Phú Phong (fruit) below its warning level (0.5 ‰) in early March, rising towards the
    spring tide: the forecast tells when it will reach it, before it does. A walk of 60 hourly
    runs (it is told on the evening of 7 March): on one store (the runs read it as the part
    before does, in both stores)."""
    registry = load_registry()
    rules = engine.rules
    engine.rules = rules.model_copy(
        update={"forecast": rules.forecast.model_copy(update={"exceedance": "warning"})}
    )
    began = int(epoch("2024-03-06T12:00:00+07:00") * NS_PER_S)  # a day and a half before
    clock.set(began)
    leads: list[float] = []
    told_at = 0
    for _ in range(60):
        clock.set(clock.now_ns() + H)
        for event in engine.observe(job.update()):
            if event.alert.kind == "forecast" and event.state == "firing":
                leads.append(event.alert.value or 0.0)
                told_at = clock.now_ns()
                assert "Dự báo" in render(event, registry)["message_vi"]
    assert len(leads) == 1 and 0 < leads[0] <= 48  # told once, not again with every tide
    pp = store.query(TopicKind.SALINITY, "phu-phong", began, told_at + 72 * H)
    reached = next(r.ts_ns for r in pp if float(r.fields.get("salinity_ppt") or 0) >= 0.5)
    assert told_at < reached  # before it did
    engine.rules = rules


def test_forecast_alerts_and_api(store: ReadingStore, tmp_path: Path) -> None:
    fill(store)
    registry, clock = load_registry(), FakeClock(int(epoch("2024-03-09") * NS_PER_S))
    engine = AlertEngine(
        load_rules(), registry, SqliteAlertStore(tmp_path / "s.db"), clock, {"mqtt": Quiet()}
    )
    job = ForecastJob(store, registry, lambda: engine.rules, clock)
    events = engine.observe(job.update())
    # Gia Thuận, inside the sweetened scheme, stays fresh: one window over the windows'
    # horizon (a day), announced because its hindcasts earned it
    (window,) = [e for e in events if e.alert.kind == "intake_window"]
    assert window.alert.device == "gia-thuan" and window.alert.severity == "info"
    assert window.alert.value == pytest.approx(24.0, abs=0.3)
    assert job.latest["gia-thuan"].reliable
    text = render(window, registry)
    assert "Có thể lấy nước" in text["message_vi"] and "Intake window" in text["message_en"]
    assert set(job.latest) == set(STATIONS)
    # Xuân Hòa, at 8 ‰ in March, has no safe window
    assert job.latest["xuan-hoa"].windows == []

    # an hour later the window has moved by an hour: the same notice, nothing new is sent
    clock.set(clock.now_ns() + H)
    assert [e for e in engine.observe(job.update()) if e.alert.kind == "intake_window"] == []

    # two restarts (engine and job anew, from the same alert state): still that one notice
    for _ in range(2):
        clock.set(clock.now_ns() + H)
        again = AlertEngine(
            load_rules(), registry, SqliteAlertStore(tmp_path / "s.db"), clock, {"mqtt": Quiet()}
        )
        anew = ForecastJob(
            store,
            registry,
            functools.partial(getattr, again, "rules"),
            clock,
            open_notices=again.open_alerts,
        )
        told = [e for e in again.observe(anew.update()) if e.alert.kind == "intake_window"]
        assert told == []
        notices = [a for a in again.open_alerts() if a.kind == "intake_window"]
        assert [a.fingerprint for a in notices] == [window.alert.fingerprint]

    if isinstance(store, SqliteReadingStore):  # the quicker of the two for 120 runs
        told_before_it_did(store, engine, job, clock)
    clock.set(int(epoch("2024-03-09") * NS_PER_S))

    settings = Settings(api={"tokens": [{"role": "viewer", "token": "v" * 24}]})
    ctx = api_context(settings, registry, store, engine.state, engine, clock=clock)
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


# ---------------------------------------------------------------- the live score, in each store

T0 = int(epoch("2024-03-10") * NS_PER_S)


def salinity(station: str, pairs: dict[float, float]) -> list[Reading]:
    return [
        Reading(TopicKind.SALINITY, station, T0 + int(h * H), {"salinity_ppt": v}, zone="z")
        for h, v in pairs.items()
    ]


def test_live_score_is_the_hand_computed_one(store: ReadingStore) -> None:
    """Readings and one kept forecast in the store: the score a person computes by hand."""
    store.write(salinity("xuan-hoa", {float(h): 2.0 for h in range(-50, 1)}))
    store.write(salinity("xuan-hoa", {2.0: 3.0, 10.0: 1.0, 20.0: 3.0, 30.0: 5.0}))
    steps = T0 + (np.arange(1, 193) * H // 4).astype(np.int64)
    flat = np.full(192, 2.5)
    window = [(T0 + 8 * H, T0 + 12 * H)]
    kept = to_reading(
        "xuan-hoa", T0, steps, flat, flat - 1, flat + 1, "learned", 600, 2.0, window, T0 + 24 * H
    )
    store.write([kept])
    (back,) = past_forecasts(store, "xuan-hoa", T0 - H, T0 + H)
    assert back.threshold == 2.0 and back.windows == ((T0 + 8 * H, T0 + 12 * H),)
    ts = np.array([r.ts_ns for r in store.query(TopicKind.SALINITY, "xuan-hoa", 0, T0 + 99 * H)])
    ppt = np.array([2.0] * 51 + [3.0, 1.0, 3.0, 5.0])
    rules = load_rules().forecast.model_copy(update={"min_scored": 1})
    kept_since = past_forecasts(store, "xuan-hoa", T0 + 40 * H - 14 * 24 * H, T0 + 40 * H + 1)
    score = live_score(kept_since, ts, ppt, T0 + 40 * H, rules)
    t = score.tally
    assert t.forecasts == 1
    assert t.mae == pytest.approx(2.5 / 3) and t.mae_persistence == pytest.approx(1.0)
    assert t.skill == pytest.approx(1 - 2.5 / 3) and t.coverage == pytest.approx(0.5)
    assert (t.precision, t.recall) == (1.0, 1.0) and score.reliable


def drifting_fresh(hours: np.ndarray) -> np.ndarray:
    """An intake in fresh water (about 0.2 ‰, its warning level 0.5 ‰) on a wandering level."""
    rng = np.random.default_rng(8)
    level = np.zeros(hours.size)
    for i in range(1, hours.size):
        level[i] = 0.97 * level[i - 1] + rng.normal(0, 0.01)
    return 0.2 + 0.05 * np.cos(2 * np.pi * hours / 12.4206012) + level


def test_notices_stop_when_the_live_skill_turns_negative(store: ReadingStore) -> None:
    hours = np.arange(-20 * 24, 0.5, 1.0)
    values = dict(zip(hours.tolist(), drifting_fresh(hours).tolist(), strict=True))
    store.write(salinity("gia-thuan", values))
    registry, clock = load_registry(), FakeClock(T0)
    rules: RuleSet = load_rules()
    job = ForecastJob(store, registry, lambda: rules, clock)
    first = [o for o, _ in job.update() if o.kind == "intake_window"]
    found = job.latest["gia-thuan"]
    assert found.reliable, found.score
    assert found.score is not None and found.score.tally.forecasts >= 4  # the hindcasts
    assert [o.severity for o in first] == ["info"]
    # the kept forecasts turn out badly: 0.3 ‰ too high, each of them
    worse = []
    for past in past_forecasts(store, "gia-thuan", T0 - 15 * 86400 * NS_PER_S, T0 + 1):
        shifted = (past.mean + 0.3, past.lower + 0.3, past.upper + 0.3)
        at = past.fitted_at_ns
        worse.append(to_reading("gia-thuan", at, past.ts_ns, *shifted, "learned", 100, 0.5, [], T0))
    store.write(worse)
    clock.set(T0 + H)
    after = [o for o, _ in job.update() if o.kind == "intake_window"]
    found = job.latest["gia-thuan"]
    assert not found.reliable and found.score is not None and "skill" in found.score.reason
    assert found.windows  # the forecast still finds the window…
    assert [(o.fingerprint, o.severity) for o in after] == [(first[0].fingerprint, None)]  # …unsent
