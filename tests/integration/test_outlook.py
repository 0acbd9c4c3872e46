"""The week ahead on the simulator's 2024 season, replayed into each real store: the salt
front's 4 ‰ line ahead against the simulator's truth, and the outlook job kept, scored and
served by the API."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from saltwatch.alerts.notifiers.email import compose
from saltwatch.analytics.front_ahead import fronts_ahead
from saltwatch.analytics.outlook import Outlooks, outlooks
from saltwatch.analytics.outlook_inputs import DailySeries, settings_of
from saltwatch.analytics.outlook_job import OutlookJob, daily
from saltwatch.analytics.outlook_kept import DayAhead, StationOutlook
from saltwatch.analytics.reach import Reach
from saltwatch.analytics.weekly_issue import WeeklyIssuer, weekly_key
from saltwatch.api.app import create_app
from saltwatch.core.clock import FakeClock
from saltwatch.core.codec import CodecLimits
from saltwatch.core.qc import QualityControl
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.settings import QcSettings, Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.bulletin_sqlite import SqliteIssuedBulletins
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.alert_tools import Kept, api_context

pytestmark = pytest.mark.integration
START, END = date(2023, 11, 1), date(2024, 5, 10)
VIEWER = "v" * 24


@pytest.fixture(scope="module")
def season() -> list[Reading]:
    """Every station of the Tiền, 2-hourly as many Mekong stations sample, with the
    simulator's usual faults, judged and quality-controlled as ingest does."""
    registry = load_registry()
    stations = [d for d in registry.devices_of("salinity") if d.river == "tien"]
    fleet = Fleet(registry, SimConfig(SCENARIOS["2024"], seed=7, interval_s=7200), stations)
    judge = MessageValidator(
        registry, ValidationConfig(limits=CodecLimits(max_backfill_s=400 * 86400))
    )
    end_s = epoch(END.isoformat())
    qc = QualityControl(QcSettings().to_config())
    readings: list[Reading] = []
    for message in fleet.messages(epoch(START.isoformat()), end_s):
        for reading in judge.validate(
            message.topic, message.payload, int(end_s * NS_PER_S)
        ).readings:
            readings.append(qc.apply(reading, "salinity_ppt"))
    return readings


def _write(store: ReadingStore, readings: list[Reading]) -> None:
    for i in range(0, len(readings), 5000):
        store.write(readings[i : i + 5000])


def truth_km(day: date) -> float:
    """The furthest the 4 ‰ line went that day, by the simulator's own model."""
    start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ).timestamp()
    return float(np.max(SCENARIOS["2024"].line_km(4.0, np.arange(start, start + 86400, 300.0))))


def _as_outlook(
    station: str, origin: date, t: int, peaks: np.ndarray, o: Outlooks
) -> StationOutlook:
    days = tuple(
        DayAhead(origin + timedelta(days=k + 1), k + 1, o.mean[t, k], o.lower[t, k],
                 o.upper[t, k], np.nan, np.nan, np.nan)
        for k in range(o.mean.shape[1])
    )  # fmt: skip
    return StationOutlook(station, origin, 0, float(peaks[t]), np.nan, days, o.method[t], "", 0)


def _inside(low: Reach | None, high: Reach | None, truth: float) -> bool:
    below = 0.0 if low is None or low.bound == "<" else low.km
    above = np.inf if high is None or high.bound == ">" else high.km
    return below <= truth <= above


def test_the_4ppt_line_ahead_holds_the_truth_within_its_range(
    season: list[Reading], tmp_path: Path
) -> None:
    """Outlooks made at every origin from what was known then (analytics/outlook.py fits on
    the past only), each day's front placed from them: at day 3 the simulator's 4 ‰ line lies
    within the range on at least 85 % of the days of the season's height, and the range says
    something (not a river's length wide). One store: both read days alike (the next test and
    tests/integration/test_store_contract.py)."""
    store = SqliteReadingStore(tmp_path / "readings.db")
    _write(store, season)
    registry, rules = load_registry(), load_rules()
    settings = settings_of(rules.outlook)
    last = END - timedelta(days=1)
    made = {}
    for station in registry.stations_on("tien"):
        peaks, _, _ = daily(store, TopicKind.SALINITY, station.id, "salinity_ppt", START, last,
                            rules.outlook.day_readings)  # fmt: skip
        made[station.id] = (peaks, outlooks(DailySeries(START.toordinal(), peaks), settings))
    inside: dict[int, list[bool]] = {1: [], 3: [], 7: []}
    widths, levels = [], set()
    origin = date(2024, 2, 1)
    while origin <= date(2024, 4, 20):
        t = (origin - START).days
        found = {sid: _as_outlook(sid, origin, t, p, o) for sid, (p, o) in made.items()}
        river = fronts_ahead(registry, found, rules.saltfront)["tien"]
        for lead, hits in inside.items():
            day = river.days[lead - 1]
            hits.append(_inside(day.low[4.0], day.high[4.0], truth_km(day.day)))
        low, high = river.days[2].low[4.0], river.days[2].high[4.0]
        if low is not None and high is not None:
            widths.append(high.km - low.km)
        levels.add(river.days[2].risk.level)
        origin += timedelta(days=1)
    share = {lead: float(np.mean(hits)) for lead, hits in inside.items()}
    print(f"4 ‰ line inside its range: {share}; day-3 range median {np.median(widths):.1f} km")
    assert share[3] >= 0.85
    assert np.median(widths) <= 25.0
    assert levels <= {2, 3} and 3 in levels  # the 2024 season: the 4 ‰ line past 25 and 50 km


def test_the_job_keeps_its_outlooks_scores_them_and_the_api_serves_the_week(
    store: ReadingStore, season: list[Reading], tmp_path: Path
) -> None:
    registry, rules = load_registry(), load_rules()
    now = int(epoch("2024-03-01T09:00:00+07:00") * NS_PER_S)
    _write(store, [r for r in season if r.ts_ns <= now])
    clock = FakeClock(now)
    job = OutlookJob(store, registry, lambda: rules, clock)
    first = job.update()
    assert set(first) == {d.id for d in registry.stations_on("tien")}
    made = first["xuan-hoa"]
    assert made.origin == date(2024, 2, 29) and len(made.days) == rules.outlook.horizon_days
    assert [d.day for d in made.days][:2] == [date(2024, 3, 1), date(2024, 3, 2)]
    assert all(d.peak_lower <= d.peak <= d.peak_upper for d in made.days)
    kept = store.query(TopicKind.OUTLOOK, "xuan-hoa", now - 2 * 86400 * NS_PER_S, now)
    assert len(kept) == 1 and kept[0].fields["peak_01"] == round(made.days[0].peak, 4)

    # four days on: the kept outlook of 29/2 is scored against the days that followed
    later = now + 4 * 86400 * NS_PER_S
    _write(store, [r for r in season if now < r.ts_ns <= later])
    clock.set(later)
    again = job.update()["xuan-hoa"]
    assert again.origin == date(2024, 3, 4) and again.skill is not None
    assert {1, 2, 3} <= set(again.skill.by_lead) and again.skill.by_lead[1][2] >= 1

    # an API process of its own reads what the engine's job kept, scored again: the same week
    elsewhere = OutlookJob(store, registry, lambda: rules, clock).read_kept()
    assert set(elsewhere) == set(job.latest)
    read = elsewhere["xuan-hoa"]
    assert [(d.day, d.peak, d.peak_upper) for d in read.days] == [
        (d.day, round(d.peak, 4), round(d.peak_upper, 4)) for d in again.days
    ]  # as kept: four decimals
    assert read.method == again.method and read.origin == again.origin
    assert read.history_days == again.history_days and read.skill == again.skill

    settings = Settings(api={"tokens": [{"role": "viewer", "token": VIEWER}]})
    state = SqliteAlertStore(tmp_path / "s.db")
    ctx = api_context(settings, registry, store, state, clock=clock)
    with TestClient(create_app(ctx)) as client:  # no engine here: the kept outlooks are read
        assert client.get("/api/v1/outlook").status_code == 401
        response = client.get("/api/v1/outlook", headers={"Authorization": f"Bearer {VIEWER}"})
    assert response.status_code == 200, response.text
    week = response.json()
    assert week["origin"] == "2024-03-04"
    (station,) = [s for s in week["stations"] if s["station"] == "xuan-hoa"]
    assert [d["lead"] for d in station["days"]] == list(range(1, 8))
    assert station["days"][0]["day"] == "2024-03-05" and station["skill"][0]["scored"] >= 1
    assert station["method"] in {"persistence", "damped", "damped+tide"}
    (tien,) = [r for r in week["rivers"] if r["river"] == "tien"]
    assert len(tien["days"]) == 7 and tien["unavailable"] is None
    assert tien["observed_level"] in {2, 3} and tien["days"][0]["risk_level"] in {2, 3}
    assert tien["days"][0]["line_4ppt"]["km"] > 25
    assert len(tien["days"][0]["basis"]) == 10 and tien["missing"] == []
    tides = week["tides"]
    assert (tides["basis"], tides["device"]) == ("salinity", "vam-kenh")
    assert tides["spring_tides"], tides


def test_the_weekly_bulletin_is_issued_once_kept_as_issued_and_announced(
    season: list[Reading], tmp_path: Path
) -> None:
    registry, rules = load_registry(), load_rules()
    store = SqliteReadingStore(tmp_path / "readings.db")
    monday = int(epoch("2024-03-11T06:00:00+07:00") * NS_PER_S)  # 11/3/2024 was a Monday
    _write(store, [r for r in season if r.ts_ns <= monday])
    clock = FakeClock(monday)
    job = OutlookJob(store, registry, lambda: rules, clock)
    archive = SqliteIssuedBulletins(tmp_path / "state.db")
    sent: list[dict[str, Any]] = []
    issuer = WeeklyIssuer(
        archive, store, registry, lambda: rules, clock, dict, sent.append, "https://sw.example.vn"
    )
    issued = issuer.update(job.update())
    assert set(issued) == {"vi", "en"} and len(sent) == 1
    body = sent[0]
    assert body["kind"] == "bulletin" and body["state"] == "issued"
    assert body["links"]["vi"] == f"https://sw.example.vn/bulletins/{issued['vi'].issue.share}"
    assert "Bản tin dự báo xâm nhập mặn từ 11/03/2024 đến 17/03/2024" in body["message_vi"]
    mail = compose(body, "saltwatch@example.vn", ["kysu@example.vn"])  # every notifier carries it
    assert "BẢN TIN" in mail["Subject"] and body["links"]["en"] in mail.get_content()
    first_md = issued["vi"].issue.markdown
    assert "| Xuân Hòa" in first_md or "Cống Xuân Hòa" in first_md
    assert "Phát hành lúc 06:00 11/03/2024" in first_md
    assert "Dự báo lập lúc 06:00 11/03/2024 từ số liệu đến hết ngày 10/03." in first_md

    # two days later, new readings and new outlooks: the week's bulletin stays as issued
    later = monday + 2 * 86400 * NS_PER_S
    _write(store, [r for r in season if monday < r.ts_ns <= later])
    clock.set(later)
    assert issuer.update(job.update()) == {} and len(sent) == 1
    kept = archive.issues(weekly_key(date(2024, 3, 11), None, "vi"))
    assert len(kept) == 1 and kept[0].markdown == first_md

    settings = Settings(api={"tokens": [{"role": "viewer", "token": VIEWER}]})
    state = SqliteAlertStore(tmp_path / "s.db")
    ctx = api_context(
        settings, registry, store, state, analytics=Kept(outlook=job), clock=clock, issued=archive
    )
    auth = {"Authorization": f"Bearer {VIEWER}"}
    with TestClient(create_app(ctx)) as client:
        page = client.get("/api/v1/reports/weekly?format=markdown", headers=auth)
        assert page.status_code == 200 and page.text == first_md
        assert page.headers["content-location"] == f"/bulletins/{issued['vi'].issue.share}"
        english = client.get("/api/v1/reports/weekly?lang=en&format=pdf", headers=auth)
        assert english.status_code == 200 and english.content.startswith(b"%PDF")
        text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(english.content)).pages)
        assert "Saltwater intrusion outlook" in " ".join(text.split())
        assert client.get("/api/v1/reports/weekly?week=2024-03-04", headers=auth).status_code == 404
