"""Warnings ahead from the week-ahead outlook: a station's level, a structure's limit and the
river's risk level reached within the week, told with their lead and how sure they are."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.messages import render
from saltwatch.alerts.model import Observation
from saltwatch.analytics.outlook_alerts import warnings_ahead
from saltwatch.analytics.outlook_kept import DayAhead, StationOutlook, vn_midnight_ns
from saltwatch.analytics.risk import RiskLevel
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.alert_tools import Quiet

ORIGIN = date(2024, 3, 10)
NOW = vn_midnight_ns(ORIGIN + timedelta(days=1)) + 6 * 3600 * 10**9


def outlook(station: str, today: float, peaks: list[float], spread: float) -> StationOutlook:
    days = tuple(
        DayAhead(ORIGIN + timedelta(days=i + 1), i + 1, p, p - spread, p + spread, 0.0, 0.0, 0.0)
        for i, p in enumerate(peaks)
    )
    return StationOutlook(station, ORIGIN, NOW, today, 0.0, days, "damped", "recent", 90)


def by_rule(found: list[tuple[Observation, str | None]], rule: str, subject: str) -> Observation:
    (hit,) = [o for o, _ in found if o.rule == rule and o.fingerprint.subject == subject]
    return hit


def test_a_level_reached_within_the_week_is_told_with_its_lead_and_odds() -> None:
    registry, rules = load_registry(), load_rules()
    outlooks = {
        # Đồng Tâm (domestic: critical 0.45 ‰): 0.3 now, 0.5 on day 3 with a narrow band
        "dong-tam": outlook("dong-tam", 0.3, [0.32, 0.4, 0.5, 0.6, 0.6, 0.6, 0.6], 0.02),
        # Xoài Hột (fruit: critical 1 ‰): reached on day 2 only by the forecast, not its band
        "xoai-hot": outlook("xoai-hot", 0.6, [0.8, 1.05, 0.9, 0.8, 0.7, 0.7, 0.7], 0.3),
        # Phú Phong: already above its level: the salinity alerts speak, not the outlook
        "phu-phong": outlook("phu-phong", 1.4, [1.5] * 7, 0.1),
        # Vàm Kênh is a watch station (river profile): nobody acts there, no warning of its own
        "vam-kenh": outlook("vam-kenh", 1.5, [5.0] * 7, 0.1),
    }
    found = warnings_ahead(outlooks, registry, rules, {}, NOW)
    dong_tam = by_rule(found, "outlook-exceedance", "dong-tam")
    assert (dong_tam.severity, dong_tam.value, dong_tam.threshold) == ("warning", 3.0, 0.45)
    assert dong_tam.unit == "d:likely" and dong_tam.kind == "forecast"
    xoai_hot = by_rule(found, "outlook-exceedance", "xoai-hot")
    assert (xoai_hot.severity, xoai_hot.value, xoai_hot.unit) == ("warning", 2.0, "d:possible")
    assert by_rule(found, "outlook-exceedance", "phu-phong").severity is None
    assert not [o for o, _ in found if str(o.fingerprint) == "outlook-exceedance:vam-kenh"]
    # Vàm Kênh guards the Vàm Kênh sluice (rice: 2 ‰): its limit is reached on day 1, surely
    sluice = by_rule(found, "outlook-structure", "cong-vam-kenh")
    assert (sluice.severity, sluice.value, sluice.device, sluice.unit) == (
        "warning", 1.0, "vam-kenh", "d:likely",
    )  # fmt: skip


def test_a_risk_level_above_today_s_and_the_engine_tells_it_in_both_languages(
    tmp_path: Path,
) -> None:
    registry, rules = load_registry(), load_rules()
    km = {d.id: d.km or 0.0 for d in registry.stations_on("tien")}
    fronts = (35.0, 45.0, 55.0, 55.0, 55.0, 55.0, 55.0)  # the 4 ‰ line moves past 50 km on day 3
    outlooks = {
        sid: outlook(sid, 0.0, [4.0 * 10 ** (-(k - f) / 20.0) for f in fronts], 0.01)
        for sid, k in km.items()
    }
    observed = {"tien": RiskLevel(2, "4ppt", 40.0)}
    found = warnings_ahead(outlooks, registry, rules, observed, NOW)
    rising = by_rule(found, "outlook-risk", "tien")
    assert (rising.severity, rising.value, rising.threshold) == ("warning", 3.0, 3.0)
    assert rising.unit == "level:4ppt:outlook-likely"
    (zone,) = [z for o, z in found if o is rising]
    assert zone == "dong-thap"  # where the river's risk alert goes
    calm = warnings_ahead(outlooks, registry, rules, {"tien": RiskLevel(3, "4ppt", 55)}, NOW)
    assert by_rule(calm, "outlook-risk", "tien").severity is None

    engine = AlertEngine(
        rules, registry, SqliteAlertStore(tmp_path / "s.db"), FakeClock(NOW), {"mqtt": Quiet()}
    )
    events = engine.observe(found)
    fired = {e.alert.rule: e for e in events if e.state == "firing"}
    risk = render(fired["outlook-risk"], registry)
    assert "cấp 3" in risk["message_vi"] and "sau 3 ngày" in risk["message_vi"]
    assert "level 3 (4‰ line) in 3 day(s)" in risk["message_en"]
    sluice = render(fired["outlook-structure"], registry)
    assert "Cống Vàm Kênh" in sluice["message_vi"] and "khả năng cao" in sluice["message_vi"]
    assert sluice["group"] == "salinity:vam-kenh"  # with the guard station's other salt alerts
    assert "reaches its limit 2‰ in 1 day(s) (likely" in sluice["message_en"]
