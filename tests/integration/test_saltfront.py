"""The salt front on the simulator's 2024 season, replayed into each real store: the computed
4 ‰ reach against the simulator's ground truth, day by day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.messages import firing_text, render
from saltwatch.analytics.bulletin import build
from saltwatch.analytics.bulletin_text import to_html, to_markdown
from saltwatch.analytics.reach import Reach
from saltwatch.analytics.saltfront import FrontKeeper, compute_days
from saltwatch.api.app import create_app
from saltwatch.core.clock import FakeClock
from saltwatch.core.codec import CodecLimits
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import load_registry
from saltwatch.core.risk_rules import RiskOverride
from saltwatch.core.rules import load_rules
from saltwatch.core.settings import QcSettings, Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.alert_tools import Kept, Quiet, api_context

pytestmark = pytest.mark.integration
START, END = "2024-02-01", "2024-05-01"
TOLERANCE_KM = 5.0


@pytest.fixture(scope="module")
def season() -> list[Reading]:
    """Every station of the Tiền, 15-minute readings with the simulator's usual faults, judged
    and quality-controlled as ingest does."""
    registry = load_registry()
    stations = [d for d in registry.devices_of("salinity") if d.river == "tien"]
    fleet = Fleet(registry, SimConfig(SCENARIOS["2024"], seed=7, interval_s=900), stations)
    judge = MessageValidator(
        registry, ValidationConfig(limits=CodecLimits(max_backfill_s=400 * 86400))
    )
    now_ns = int(epoch(END) * NS_PER_S)
    qc = QualityControl(QcSettings().to_config())
    readings: list[Reading] = []
    for message in fleet.messages(epoch(START), epoch(END)):
        for reading in judge.validate(message.topic, message.payload, now_ns).readings:
            readings.append(qc.apply(reading, "salinity_ppt"))
    return readings


def truth_km(day_start_s: float) -> float:
    """The furthest the 4 ‰ line went that day, by the simulator's own model."""
    t = np.arange(day_start_s, day_start_s + 86400, 300.0)
    return float(np.max(SCENARIOS["2024"].line_km(4.0, t)))


def agrees(reach: Reach | None, truth: float) -> bool:
    if reach is None:
        return False
    if reach.bound == ">":
        return truth >= reach.km - TOLERANCE_KM
    if reach.bound == "<":
        return truth <= reach.km + TOLERANCE_KM
    return abs(reach.km - truth) <= TOLERANCE_KM


def test_front_tracks_ground_truth(store: ReadingStore, season: list[Reading]) -> None:
    for i in range(0, len(season), 5000):
        store.write(season[i : i + 5000])
    days = compute_days(
        store,
        load_registry(),
        "tien",
        int(epoch(START) * NS_PER_S),
        int(epoch(END) * NS_PER_S),
        load_rules().saltfront.region_of("tien")[1],
    )
    assert len(days) == 90
    errors = [
        (day.day, day.reaches[4.0], truth_km(day.start_ns / NS_PER_S))
        for day in days
        if not agrees(day.reaches[4.0], truth_km(day.start_ns / NS_PER_S))
    ]
    share = 1 - len(errors) / len(days)
    exact = [
        d.reaches[4.0].km - truth_km(d.start_ns / NS_PER_S)
        for d in days
        if d.reaches[4.0] and not d.reaches[4.0].bound
    ]
    print(
        f"4 ‰ reach within {TOLERANCE_KM:g} km of the truth on {share:.0%} of {len(days)} days; "
        f"interpolated days {len(exact)}, mean error {np.mean(exact):+.2f} km, "
        f"max |error| {np.max(np.abs(exact)):.2f} km; misses: {errors[:5]}"
    )
    assert share >= 0.9
    peak = max(days, key=lambda d: d.reaches[4.0].km if d.reaches[4.0] else 0)
    assert peak.risk.level >= 2  # the 2024 season reached level 2 or 3 on the Tiền


def test_keeper_stores_history_raises_levels_and_the_api_serves_it(
    store: ReadingStore, season: list[Reading], tmp_path: Path
) -> None:
    now = int(epoch("2024-03-12T12:00:00+07:00") * NS_PER_S)
    upto = [r for r in season if r.ts_ns <= now]
    for i in range(0, len(upto), 5000):
        store.write(upto[i : i + 5000])
    registry, rules, clock = load_registry(), load_rules(), FakeClock(now)
    recorder = Quiet()
    engine = AlertEngine(
        rules, registry, SqliteAlertStore(tmp_path / "s.db"), clock, {"mqtt": recorder}
    )
    peaks: dict[str, float] = {}
    keeper = FrontKeeper(
        store,
        registry,
        lambda: engine.rules.saltfront,
        clock,
        history_days=10,
        forecast_peaks=lambda: peaks,
    )
    events = engine.observe(keeper.update())
    # 12/3/2024: the 4 ‰ line beyond 50 km on the Tiền (level 3): one alert for the river
    (fired,) = [e for e in events if e.state == "firing"]
    alert = fired.alert
    assert (alert.rule, alert.value, alert.unit) == ("saltfront-risk", 3.0, "level:4ppt:observed")
    assert alert.device is None and alert.zone == "dong-thap" and alert.kind == "saltfront"
    assert alert.severity == "critical" and alert.threshold is not None and alert.threshold > 50
    message = render(fired, registry)
    assert "Sông Tiền" in message["message_vi"] and message["device"] is None
    assert "tham khảo" in message["message_vi"] and "quan trắc" in message["message_vi"]
    assert "Indicative" in message["message_en"] and "declared" not in message["message_en"][:60]
    stored = store.query(TopicKind.SALTFRONT, "tien", now - 11 * 86400 * NS_PER_S, now)
    assert len(stored) == 11  # ten whole days and today so far
    assert engine.observe(keeper.update()) == []  # the same situation: nothing new

    # the forecasts put 4 ‰ past 90 km: the same alert rises to level 4, in place, told once
    peaks.update({d.id: 6.0 for d in registry.stations_on("tien") if (d.km or 0) <= 97})
    (rise,) = engine.observe(keeper.update())
    assert (rise.alert.id, rise.state, rise.alert.value) == (alert.id, "firing", 4.0)
    assert (
        rise.alert.unit == "level:4ppt:forecast"
        and "dự báo" in render(rise, registry)["message_vi"]
    )
    assert keeper.risks["tien"].forecast is not None and keeper.risks["tien"].observed.level == 3
    # the forecast eases: back to the observed level 3, in place and quietly
    peaks.clear()
    assert engine.observe(keeper.update()) == []
    (again,) = [a for a in engine.state.open_alerts().values() if a.rule == "saltfront-risk"]
    assert (again.id, again.value) == (alert.id, 3.0)
    # a level declared by the authorities, recorded by an admin, is what the alert carries
    declared = RiskOverride(level=4, reason="UBND tỉnh công bố cấp 4", by="admin")
    rules_now = engine.rules
    engine.rules = rules_now.model_copy(
        update={
            "saltfront": rules_now.saltfront.model_copy(update={"override": {"tien": declared}})
        }
    )
    (told,) = engine.observe(keeper.update())
    assert told.alert.unit == "level::declared" and told.alert.value == 4.0
    assert "công bố" in render(told, registry)["message_vi"]
    engine.rules = rules_now

    # the front recedes: a day later with nothing new, yesterday still counts (no flapping)
    clock.set(now + 86400 * NS_PER_S)
    assert [e for e in engine.observe(keeper.update()) if e.state == "resolved"] == []

    settings = Settings(api={"tokens": [{"role": "viewer", "token": "v" * 24}]})
    clock = FakeClock(now)
    kept = Kept(front=keeper)
    ctx = api_context(settings, registry, store, engine.state, engine, analytics=kept, clock=clock)
    with TestClient(create_app(ctx)) as client:
        response = client.get(
            "/api/v1/saltfront?days=5", headers={"Authorization": f"Bearer {'v' * 24}"}
        )
        assert response.status_code == 200, response.text
        (tien,) = [f for f in response.json() if f["river"] == "tien"]
        today = tien["today"]
        assert 40 < today["km_4ppt"] < 64  # this morning's front, its level by the table
        assert today["risk_level"] == (3 if today["km_4ppt"] > 50 else 2)
        observed = tien["risk"][0]  # the last day and a half: yesterday's spring tide counts
        assert (observed["level"], observed["by"], observed["basis"]) == (3, "4ppt", "observed")
        assert observed["region"] == "nam-bo" and tien["risk_declared"] is None
        assert tien["text_4ppt"].endswith(" km") and len(tien["history"]) == 5
        assert [s["km"] for s in tien["stations"]] == sorted(s["km"] for s in tien["stations"])
        assert (
            client.get(
                "/api/v1/saltfront?days=400", headers={"Authorization": f"Bearer {'v' * 24}"}
            ).status_code
            == 422
        )


def test_daily_bulletin_page_chart_and_api(
    store: ReadingStore, season: list[Reading], tmp_path: Path
) -> None:
    day_end = int(epoch("2024-03-13") * NS_PER_S)
    upto = [r for r in season if r.ts_ns < day_end]
    for i in range(0, len(upto), 5000):
        store.write(upto[i : i + 5000])
    registry, rules = load_registry(), load_rules()
    clock = FakeClock(day_end + 6 * 3600 * NS_PER_S)
    engine = AlertEngine(
        rules, registry, SqliteAlertStore(tmp_path / "s.db"), clock, {"mqtt": Quiet()}
    )
    keeper = FrontKeeper(store, registry, lambda: rules.saltfront, clock, history_days=3)
    clock.set(day_end - 3600 * NS_PER_S)
    engine.observe(keeper.update())  # risk level alerts during the day
    clock.set(day_end + 6 * 3600 * NS_PER_S)

    bulletin = build(
        store,
        engine.state,
        registry,
        rules,
        date(2024, 3, 12),
        describe=lambda alert: firing_text(alert, registry),
    )
    page = to_html(bulletin, registry)
    assert "<h1>Bản tin xâm nhập mặn ngày 12/03/2024" in page
    assert "Cống Xuân Hòa" in page and "vượt ngưỡng nguy hiểm" in page
    assert "Sông Tiền" in page and "cấp 3 (ranh 4‰)" in page
    assert "Cấp độ theo dự báo 48 giờ tới" in page
    # the day's alerts in words, never a rule id
    assert "Cấp độ rủi ro do xâm nhập mặn (tham khảo) cấp 3" in page
    assert "saltfront-risk" not in page
    assert bulletin.chart_png.startswith(b"\x89PNG") and "data:image/png;base64," in page
    xuan_hoa = next(s for s in bulletin.stations if s.device.id == "xuan-hoa")
    assert xuan_hoa.max_ppt is not None and 7 < xuan_hoa.max_ppt < 11  # observed 8.85 ‰
    markdown = to_markdown(bulletin, registry, "chart.png")
    assert "| Cống Xuân Hòa |" in markdown and "![Độ mặn 7 ngày qua](chart.png)" in markdown

    settings = Settings(api={"tokens": [{"role": "viewer", "token": "v" * 24}]})
    ctx = api_context(settings, registry, store, engine.state, engine, clock=clock)
    auth = {"Authorization": f"Bearer {'v' * 24}"}
    with TestClient(create_app(ctx)) as client:
        response = client.get("/api/v1/reports/daily", headers=auth)  # yesterday: 12/3
        assert response.status_code == 200 and response.headers["content-type"].startswith(
            "text/html"
        )
        assert "12/03/2024" in response.text
        md = client.get(
            "/api/v1/reports/daily?date=2024-03-12&zone=go-cong-dong&format=markdown",
            headers=auth,
        )
        assert md.status_code == 200 and md.text.startswith("# Bản tin xâm nhập mặn ngày 12/03")
        assert "Gò Công Đông" in md.text
        bad = client.get("/api/v1/reports/daily?date=12-03-2024", headers=auth)
        assert bad.status_code == 422
        assert client.get("/api/v1/reports/daily?zone=nowhere", headers=auth).status_code == 404
        assert client.get("/api/v1/reports/daily").status_code == 401
