"""Every API endpoint against both stores, and every role on what changes something."""

from __future__ import annotations

import hashlib
import os
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from fastapi.testclient import TestClient

from harness.documented import documented_sources
from harness.services import wait_until
from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.model import Alert, Fingerprint
from saltwatch.api.app import create_app
from saltwatch.core.clock import FakeClock
from saltwatch.core.qc import QcConfig, QcFlag, QualityControl
from saltwatch.core.registry import Profile, load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, to_rfc3339
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.core.validation import ValidationConfig
from saltwatch.ingest.devices import DeviceSnapshot
from saltwatch.ingest.intake import Inbound, RecentRejection
from saltwatch.ingest.pipeline import Pipeline
from saltwatch.ingest.poller import SourceStatus
from saltwatch.ingest.spool import Spool
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.alert_tools import Quiet, api_context, rivers_alerting

pytestmark = pytest.mark.integration
NOW = 1_710_237_600 * 10**9  # 2024-03-12 17:00 in Vietnam
M = 60 * 10**9
TOKENS = {"viewer": "v" * 24, "operator": "o" * 24, "admin": "a" * 24}
NAMES = {"operator": "lan.nguyen"}  # the admin's token has no name: token-<sha256[:4]>
ADMIN_LABEL = "token-" + hashlib.sha256(TOKENS["admin"].encode()).hexdigest()[:4]


class NoAcks:
    def ack_many(self, acks: list[tuple[int, int, int]]) -> None:
        pass


class PipelineView:
    """What the API shows of a pipeline running without a broker (no consumer here)."""

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def recent_rejections(self) -> list[RecentRejection]:
        return self.pipeline.recent_rejections()

    def devices(self) -> list[DeviceSnapshot]:
        return self.pipeline.tracker.snapshot()

    def quarantined(self) -> list[str]:
        return self.pipeline.quarantined

    def broker_connected(self) -> bool | None:
        return None

    def spool_disk_full(self) -> bool:
        return self.pipeline.spool_disk_full

    def sources(self) -> list[SourceStatus]:
        return []


@pytest.fixture
def client(store: ReadingStore, tmp_path: Path) -> Iterator[TestClient]:
    registry = load_registry()
    tokens = [ApiToken(role=r, token=t, name=NAMES.get(r)) for r, t in TOKENS.items()]
    settings = Settings(api={"tokens": tokens}, sources=[documented_sources()["logger-vam-kenh"]])
    clock = FakeClock(NOW)
    state = SqliteAlertStore(tmp_path / "state.db")
    engine = AlertEngine(rivers_alerting(), registry, state, clock, {"mqtt": Quiet()})
    pipeline = Pipeline(
        store,
        registry,
        ValidationConfig(),
        QualityControl(QcConfig()),
        Spool(tmp_path / "spool", 10**7),
        NoAcks(),
        clock,
    )
    pipeline.start()
    readings = [
        Reading(
            TopicKind.SALINITY,
            "vam-kenh",
            NOW - (60 - i) * M,
            {"salinity_ppt": 3.0 + i * 0.01, "temp_c": 29.0},
            zone="xa-tan-dong",
            river="tien",
        )
        for i in range(0, 60, 5)
    ]
    readings.append(
        Reading(
            TopicKind.WELL,
            "well-tan-hoa-1",
            NOW - M,
            {"running": True, "flow_m3h": 30.0},
            zone="xa-tan-hoa",
        )
    )
    readings.append(
        Reading(
            TopicKind.TAP,
            "tap-tan-thoi-01",
            NOW - M,
            {"open": True, "flow_lpm": 12.0, "tank_pct": 80.0},
            zone="xa-tan-thoi",
        )
    )
    store.write(readings)
    engine.on_readings(readings)  # 3.55 ‰ at the end: a river warning at Vàm Kênh
    pipeline.submit(Inbound("saltwatch/salinity/vam-kenh", b"{broken", NOW))
    wait_until(lambda: bool(pipeline.recent_rejections()), 5, "the rejection")
    ctx = api_context(
        settings,
        registry,
        store,
        state,
        engine,
        ingest=PipelineView(pipeline),
        clock=clock,
        metrics=[pipeline.metrics.registry, engine.metrics.registry],
    )
    app = create_app(ctx)
    app.state.engine = engine  # the tests' own handle: the next evaluation, when they ask
    with TestClient(app) as test_client:
        yield test_client
    pipeline.stop(5)
    state.close()


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[role]}"}


READ_ENDPOINTS = [
    "/api/v1/zones",
    "/api/v1/stations",
    "/api/v1/stations/vam-kenh/readings",
    "/api/v1/wells",
    "/api/v1/taps",
    "/api/v1/alerts",
    "/api/v1/ingest/rejections",
    "/api/v1/silences",
    "/api/v1/devices/status",
    "/api/v1/saltfront",
]


@pytest.mark.parametrize("path", READ_ENDPOINTS)
def test_reads_need_a_token(client: TestClient, path: str) -> None:
    assert client.get(path).status_code == 401
    assert client.get(path, headers={"Authorization": "Bearer nope"}).status_code == 401
    response = client.get(path, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    assert TOKENS["viewer"] not in response.text


def test_health_and_metrics_need_none(client: TestClient) -> None:
    health = client.get("/health").json()
    assert health["store"] is True and health["status"] in ("ok", "degraded")
    client.get("/api/v1/stations/vam-kenh/readings", headers=auth("viewer"))
    client.get("/api/v1/stations/nowhere/readings", headers=auth("viewer"))
    metrics = client.get("/metrics").text
    assert "saltwatch_ingest_rejected_total" in metrics
    # request latency by route template (ids in paths do not make new series), by status class
    template = 'route="/api/v1/stations/{station}/readings"'
    counts = {
        line.split("status=")[1][:5]: float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("saltwatch_api_request_seconds_count") and template in line
    }
    assert counts == {'"2xx"': 1.0, '"4xx"': 1.0}
    assert "nowhere" not in metrics
    # the alert engine's: the warning the fixture raised, and the open alert
    assert 'saltwatch_alert_events_total{kind="salinity",state="firing"}' in metrics
    assert "saltwatch_alerts_open 1.0" in metrics


def test_zones_carry_worst_severity_up_the_tree(client: TestClient) -> None:
    zones = {z["id"]: z for z in client.get("/api/v1/zones", headers=auth("viewer")).json()}
    for zone in ("xa-tan-dong", "go-cong-dong", "dong-thap"):
        assert zones[zone]["worst_severity"] == "warning", zone
        assert zones[zone]["active_alerts"] >= 1
    assert zones["tan-phu-dong"]["worst_severity"] is None
    assert zones["xa-tan-dong"]["parent"] == "go-cong-dong"


def test_stations_wells_taps_latest(client: TestClient) -> None:
    stations = {s["id"]: s for s in client.get("/api/v1/stations", headers=auth("viewer")).json()}
    assert stations["vam-kenh"]["latest"]["values"]["salinity_ppt"] == pytest.approx(3.55)
    assert stations["vam-kenh"]["km"] == 18.0 and stations["xuan-hoa"]["latest"] is None
    wells = {w["id"]: w for w in client.get("/api/v1/wells", headers=auth("viewer")).json()}
    assert len(wells) == 16 and wells["well-tan-hoa-1"]["latest"]["values"]["running"] is True
    taps = client.get("/api/v1/taps", headers=auth("viewer")).json()
    assert len(taps) == 60


def test_readings_raw_and_aggregated(client: TestClient) -> None:
    base = "/api/v1/stations/vam-kenh/readings"
    start, end = "2024-03-12T16:00:00+07:00", "2024-03-12T17:00:00+07:00"
    raw = client.get(base, params={"start": start, "end": end}, headers=auth("viewer")).json()
    assert len(raw["readings"]) == 12
    agg = client.get(
        base, params={"start": start, "end": end, "every": "30m"}, headers=auth("viewer")
    ).json()
    assert [a["count"] for a in agg["aggregates"]] == [6, 6]
    assert agg["aggregates"][0]["min"] == pytest.approx(3.0)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"start": "2024-03-12T17:00:00+07:00", "end": "2024-03-12T16:00:00+07:00"}, "before"),
        ({"every": "5y"}, "every"),
        (
            {"every": "1s", "start": "2024-01-01T00:00:00Z", "end": "2024-03-01T00:00:00Z"},
            "buckets",
        ),
        ({"start": "yesterday"}, "start"),
    ],
)
def test_bad_query_parameters_are_422_with_a_reason(
    client: TestClient, params: dict[str, str], message: str
) -> None:
    response = client.get(
        "/api/v1/stations/vam-kenh/readings", params=params, headers=auth("viewer")
    )
    assert response.status_code == 422
    assert message in response.json()["detail"]


def test_unknown_things_are_404(client: TestClient) -> None:
    viewer = auth("viewer")
    assert client.get("/api/v1/stations/nowhere/readings", headers=viewer).status_code == 404
    assert client.get("/api/v1/stations/well-tan-hoa-1/readings", headers=viewer).status_code == 404
    assert (
        client.get("/api/v1/alerts", params={"zone": "atlantis"}, headers=viewer).status_code == 404
    )


def test_an_open_alert_says_the_value_now_and_its_peak_with_their_times(
    client: TestClient, store: ReadingStore
) -> None:
    """An alert row said "22,22 ‰ above the critical level" while the station card beside it
    said 16,8 ‰: the words were those it was raised with. Now an open salinity alert gives
    the station's newest value and the highest good one since it opened, each with its time,
    and says whether the value now is above the level; a QC-flagged spike is not the peak."""
    spike = QcFlag.SPIKE.value
    later = [
        Reading(TopicKind.SALINITY, "vam-kenh", NOW + 5 * M, {"salinity_ppt": 11.5}, qc=spike),
        Reading(TopicKind.SALINITY, "vam-kenh", NOW + 10 * M, {"salinity_ppt": 0.8}),
    ]
    store.write(later)
    (alert,) = [
        a
        for a in client.get("/api/v1/alerts?state=firing", headers=auth("viewer")).json()["items"]
        if a["rule"] == "salinity-river"
    ]
    assert alert["value"] == 3.15  # the value that raised it (hold 15 min), in its own field
    en, vi = alert["message_en"], alert["message_vi"]
    assert en.startswith("Vàm Kênh (Xã Tân Đông): 0.8‰ at 17:10 12/03, back below the warning")
    assert "highest 3.55‰ at 16:55 12/03" in en and "11.5" not in en
    assert "0,8‰ lúc 17:10 12/03, đã xuống dưới ngưỡng cảnh báo 1‰" in vi
    assert "cao nhất 3,55‰ lúc 16:55 12/03" in vi
    store.write(
        [Reading(TopicKind.SALINITY, "vam-kenh", NOW + 15 * M, {"salinity_ppt": 4.25})]
    )  # fmt: skip
    page = client.get("/api/v1/alerts?state=firing", headers=auth("viewer")).json()
    (alert,) = [a for a in page["items"] if a["rule"] == "salinity-river"]
    assert "4.25‰ at 17:15 12/03, above the warning level 1‰" in alert["message_en"]
    assert "highest 4.25‰ at 17:15 12/03" in alert["message_en"]


def test_alerts_filter_by_zone_tree_state_and_severity(client: TestClient) -> None:
    viewer = auth("viewer")
    everything = client.get("/api/v1/alerts", headers=viewer).json()
    assert everything["total"] >= 1
    in_gcd = client.get("/api/v1/alerts", params={"zone": "go-cong-dong"}, headers=viewer).json()
    assert any(a["device"] == "vam-kenh" for a in in_gcd["items"])
    in_tpd = client.get("/api/v1/alerts", params={"zone": "tan-phu-dong"}, headers=viewer).json()
    assert in_tpd["items"] == []
    critical = client.get("/api/v1/alerts", params={"severity": "critical"}, headers=viewer)
    assert all(a["severity"] == "critical" for a in critical.json()["items"])
    # in plain words, both languages (docs/interface.md)
    vam_kenh = next(a for a in in_gcd["items"] if a["device"] == "vam-kenh")
    assert "Vàm Kênh" in vam_kenh["message_vi"] and "Vàm Kênh" in vam_kenh["message_en"]
    # a time range and a kind, answered by the store
    far = client.get("/api/v1/alerts", params={"until": "2000-01-01T00:00:00Z"}, headers=viewer)
    assert far.json() == {"items": [], "total": 0, "offset": 0, "limit": 100}
    kind = client.get("/api/v1/alerts", params={"kind": "salinity"}, headers=viewer).json()
    assert kind["total"] >= 1 and all(a["kind"] == "salinity" for a in kind["items"])
    bad = client.get("/api/v1/alerts", params={"since": "yesterday"}, headers=viewer)
    assert bad.status_code == 422 and "since" in bad.json()["detail"]
    huge = client.get("/api/v1/alerts", params={"offset": str(2**63)}, headers=viewer)
    assert huge.status_code == 422  # not a store error (schemathesis found it)


def firing_id(client: TestClient) -> str:
    items = client.get("/api/v1/alerts", params={"state": "firing"}, headers=auth("viewer")).json()[
        "items"
    ]
    return str(next(a["id"] for a in items if a["rule"] == "salinity-river"))


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("viewer", 403), ("operator", 200), ("admin", 200)]
)
def test_acknowledge_by_role(client: TestClient, role: str | None, status: int) -> None:
    alert_id = firing_id(client)
    headers = auth(role) if role else {}
    response = client.post(
        f"/api/v1/alerts/{alert_id}/ack", json={"by": "Lan", "note": "ok"}, headers=headers
    )
    assert response.status_code == status
    if status == 200:
        assert response.json()["state"] == "acknowledged"
        # who acknowledged is the token's name; the "by" typed in is kept as a note
        assert response.json()["acked_by"] == NAMES.get(str(role), ADMIN_LABEL)
        assert response.json()["acked_note"] == "Lan — ok"


def test_acknowledge_errors(client: TestClient) -> None:
    operator = auth("operator")
    assert (
        client.post("/api/v1/alerts/nope/ack", json={"by": "x"}, headers=operator).status_code
        == 404
    )
    alert_id = firing_id(client)
    assert (
        client.post(f"/api/v1/alerts/{alert_id}/ack", json={"by": ""}, headers=operator).status_code
        == 422
    )
    assert (
        client.post(
            f"/api/v1/alerts/{alert_id}/ack", json={"by": "x", "evil": 1}, headers=operator
        ).status_code
        == 422
    )


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("viewer", 403), ("operator", 201), ("admin", 201)]
)
def test_silences_by_role(client: TestClient, role: str | None, status: int) -> None:
    headers = auth(role) if role else {}
    body = {"zone": "go-cong-dong", "minutes": 60, "author": "Lan", "reason": "maintenance"}
    response = client.post("/api/v1/silences", json=body, headers=headers)
    assert response.status_code == status
    if status == 201:
        silence = response.json()
        assert silence["active"] is True
        assert (
            client.delete(f"/api/v1/silences/{silence['id']}", headers=auth("viewer")).status_code
            == 403
        )
        assert (
            client.delete(f"/api/v1/silences/{silence['id']}", headers=headers).status_code == 204
        )
        listed = client.get("/api/v1/silences", headers=auth("viewer")).json()
        assert [s["active"] for s in listed] == [False]
        assert (
            client.delete(f"/api/v1/silences/{silence['id']}", headers=headers).status_code == 404
        )


def test_silence_validation(client: TestClient) -> None:
    operator = auth("operator")
    base = {"minutes": 10, "author": "a", "reason": "r"}
    assert client.post("/api/v1/silences", json=base, headers=operator).status_code == 422
    assert (
        client.post(
            "/api/v1/silences", json={**base, "zone": "x'; DROP"}, headers=operator
        ).status_code
        == 422
    )
    assert (
        client.post(
            "/api/v1/silences", json={**base, "zone": "atlantis"}, headers=operator
        ).status_code
        == 422
    )


def test_maintenance_windows_are_scheduled_ahead_and_listed_until_they_end(
    client: TestClient, tmp_path: Path
) -> None:
    state_path = tmp_path / "state.db"
    operator, viewer = auth("operator"), auth("viewer")

    def at(hours: float) -> str:
        return to_rfc3339(NOW + int(hours * 3600) * NS_PER_S, VN_TZ)

    body = {"device": "vam-kenh", "reason": "thay cảm biến", "starts_at": at(2), "ends_at": at(4)}
    made = client.post("/api/v1/silences", json=body, headers=operator)
    assert made.status_code == 201, made.text
    window = made.json()
    assert window["active"] is False and window["starts_at"] == at(2) and window["ends_at"] == at(4)
    assert [
        s["id"] for s in client.get("/api/v1/silences?current=true", headers=viewer).json()
    ] == [window["id"]]
    stored = SqliteAlertStore(state_path).silences()
    alert = Alert("a", Fingerprint("salinity-river", "vam-kenh"), "salinity-river", "salinity",
                  "vam-kenh", "xa-tan-dong", "critical", "firing", 5.0, 4.0, "ppt", NOW,
                  NOW)  # fmt: skip
    mutes = [stored[0].mutes(alert, ["xa-tan-dong"], NOW + h * 3600 * NS_PER_S) for h in (1, 3, 5)]
    assert mutes == [False, True, False]  # only inside the window
    for bad in (
        {**body, "minutes": 30},  # both an end and a length
        {**body, "ends_at": at(1)},  # ends before it starts
        {**body, "ends_at": at(2 + 31 * 24)},  # longer than 30 days
        {**body, "starts_at": "tomorrow"},
        {k: v for k, v in body.items() if k != "ends_at"},  # no end at all
    ):
        assert client.post("/api/v1/silences", json=bad, headers=operator).status_code == 422
    # cancelled before it starts: it never mutes, and it is no longer current
    assert client.delete(f"/api/v1/silences/{window['id']}", headers=operator).status_code == 204
    assert client.get("/api/v1/silences?current=true", headers=viewer).json() == []


def test_rejections_and_device_status(client: TestClient) -> None:
    (rejection,) = client.get("/api/v1/ingest/rejections", headers=auth("viewer")).json()
    assert rejection["reason"] == "not_json" and rejection["payload_head"] == "{broken"
    assert client.get("/api/v1/devices/status", headers=auth("viewer")).status_code == 200


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/alerts/{alert_id}/ack" in spec["paths"]


def river_rules(client: TestClient) -> dict[str, Any]:
    rules: dict[str, Any] = client.get("/api/v1/rules", headers=auth("viewer")).json()
    return rules


@pytest.mark.parametrize(
    ("role", "status"), [(None, 401), ("viewer", 403), ("operator", 403), ("admin", 200)]
)
def test_rules_change_by_role(client: TestClient, role: str | None, status: int) -> None:
    rules = river_rules(client)
    rules["salinity"]["river"]["critical"] = 3.5
    headers = auth(role) if role else {}
    response = client.put("/api/v1/rules", json=rules, headers=headers)
    assert response.status_code == status
    expected = 3.5 if status == 200 else 4.0
    assert river_rules(client)["salinity"]["river"]["critical"] == expected


def test_rules_are_validated_and_applied_without_restart(client: TestClient) -> None:
    admin = auth("admin")
    rules = river_rules(client)
    rules["salinity"]["river"]["critical"] = 0.5  # below the warning level
    bad = client.put("/api/v1/rules", json=rules, headers=admin)
    assert bad.status_code == 422 and "critical must exceed warning" in bad.json()["detail"]
    rules["salinity"]["river"].update(warning=0.5, critical=3.5)
    assert client.put("/api/v1/rules", json=rules, headers=admin).status_code == 200
    engine = client.app.state.engine  # type: ignore[attr-defined]
    engine.tick()  # the next evaluation: Vàm Kênh's 3.55 ‰ is now critical
    critical = client.get(
        "/api/v1/alerts", params={"severity": "critical", "state": "firing"}, headers=auth("viewer")
    ).json()["items"]
    assert any(a["device"] == "vam-kenh" and a["rule"] == "salinity-river" for a in critical)


def test_zone_summaries_of_wells_and_taps(client: TestClient) -> None:
    rows = {r["zone"]: r for r in client.get("/api/v1/summary", headers=auth("viewer")).json()}
    assert rows["dong-thap"]["wells_total"] == 16 and rows["dong-thap"]["taps_total"] == 60
    assert rows["xa-tan-hoa"]["wells_running"] == 1
    assert rows["xa-tan-thoi"]["taps_open"] == 1
    assert rows["go-cong-dong"]["wells_total"] + rows["tan-phu-dong"]["wells_total"] == 16


def test_unknown_query_parameters_are_refused(client: TestClient) -> None:
    response = client.get("/api/v1/alerts", params={"sevrity": "critical"}, headers=auth("viewer"))
    assert response.status_code == 422 and "sevrity" in response.json()["detail"]


def test_dashboard_is_served_without_a_token(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "SaltWatch" in page.text and 'src="app.js"' in page.text
    script = client.get("/app.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert "Asia/Ho_Chi_Minh" in script.text and "https://" not in script.text  # no CDN
    assert client.get("/style.css").status_code == 200


@pytest.mark.parametrize(
    "path", ["/api/v1/zones", "/api/v1/stations", "/api/v1/wells", "/api/v1/taps"]
)
def test_lists_paginate(client: TestClient, path: str) -> None:
    viewer = auth("viewer")
    everything = client.get(path, headers=viewer).json()
    page = client.get(path, params={"offset": 2, "limit": 3}, headers=viewer).json()
    assert [item["id"] for item in page] == [item["id"] for item in everything[2:5]]
    assert client.get(path, params={"limit": 0}, headers=viewer).status_code == 422


def test_stations_carry_the_levels_in_force_with_their_overrides(client: TestClient) -> None:
    """The dashboard colours a station by the levels the alerts judge it by: a device's
    override is in /stations, and the alert raised at those levels agrees with it."""
    viewer, admin = auth("viewer"), auth("admin")

    def levels() -> dict[str, dict[str, float] | None]:
        stations = client.get("/api/v1/stations", headers=viewer).json()
        return {s["id"]: s["levels"] for s in stations}

    before = levels()
    assert before["vam-kenh"] == {"warning": 1.0, "critical": 4.0}
    rules = river_rules(client)
    rules["override"] = [{"device": "vam-kenh", "warning": 2.0, "critical": 3.5}]
    assert client.put("/api/v1/rules", json=rules, headers=admin).status_code == 200
    after = levels()  # at once: no cached answer outlives the rules
    assert after["vam-kenh"] == {"warning": 2.0, "critical": 3.5}
    assert {k: v for k, v in after.items() if k != "vam-kenh"} == {
        k: v for k, v in before.items() if k != "vam-kenh"
    }
    client.app.state.engine.tick()  # type: ignore[attr-defined]
    firing = client.get("/api/v1/alerts", params={"state": "firing"}, headers=viewer).json()
    (alert,) = [
        a for a in firing["items"] if a["device"] == "vam-kenh" and a["rule"] == "salinity-river"
    ]
    assert alert["severity"] == "critical"  # 3.55 ‰ ≥ the override's 3.5, as the levels say


def test_a_standalone_api_judges_by_the_rules_in_force(tmp_path: Path) -> None:
    """``saltwatch api`` runs no engine: it reads the rules an admin saved, as the alerts
    process applies them, not the bundled file."""
    from saltwatch.core.risk_rules import RiskOverride  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415

    state = SqliteAlertStore(tmp_path / "state.db")
    rules = load_rules()
    declared = RiskOverride(level=3, reason="công bố của tỉnh", by="admin")
    saltfront = rules.saltfront.model_copy(update={"override": {"tien": declared}})
    state.save_rules(rules.model_copy(update={"saltfront": saltfront}).model_dump(mode="json"))
    settings = Settings(api={"tokens": [ApiToken(role="viewer", token=TOKENS["viewer"])]})
    store = SqliteReadingStore(tmp_path / "r.db")
    ctx = api_context(settings, load_registry(), store, state, clock=FakeClock(NOW))
    with TestClient(create_app(ctx)) as client:
        (tien,) = client.get("/api/v1/saltfront", headers=auth("viewer")).json()
        assert tien["risk_declared"] == {"level": 3, "reason": "công bố của tỉnh", "by": "admin"}
    store.close()
    state.close()


def test_an_api_process_of_its_own_reads_the_rules_and_leaves_the_engine_work_to_it(
    tmp_path: Path,
) -> None:
    """``saltwatch api`` beside ``saltwatch alerts``: the rules are read as the alerts process
    applies them (the saved ones), while acknowledging, replacing the rules and the event stream,
    which only a running engine can do, answer 409 in JSON; health says nothing waits."""
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415

    state = SqliteAlertStore(tmp_path / "state.db")
    rules = load_rules()
    river = rules.salinity[Profile.RIVER].model_copy(update={"warning": 1.5})
    saved = rules.model_copy(update={"salinity": {**rules.salinity, Profile.RIVER: river}})
    state.save_rules(saved.model_dump(mode="json"))
    firing = Alert("a1", Fingerprint("salinity-river", "vam-kenh"), "salinity-river", "salinity",
                   "vam-kenh", "xa-tan-dong", "critical", "firing", 5.0, 4.0, "ppt", NOW,
                   NOW)  # fmt: skip
    state.save([(None, firing)], [])
    tokens = [ApiToken(role=r, token=t) for r, t in TOKENS.items()]
    store = SqliteReadingStore(tmp_path / "r.db")
    ctx = api_context(Settings(api={"tokens": tokens}), load_registry(), store, state)
    with TestClient(create_app(ctx)) as client:
        shown = client.get("/api/v1/rules", headers=auth("viewer"))
        assert shown.status_code == 200 and shown.json()["salinity"]["river"]["warning"] == 1.5
        for method, path, body in (
            ("POST", "/api/v1/alerts/a1/ack", {"note": "x"}),
            ("PUT", "/api/v1/rules", shown.json()),
        ):
            refused = client.request(method, path, json=body, headers=auth("admin"))
            assert refused.status_code == 409, (path, refused.text)
            assert refused.headers["content-type"].startswith("application/json")
        health = client.get("/health").json()
        assert health["alert_state_saved"] is True and health["alert_changes_waiting"] == 0
    store.close()
    state.close()


def test_csv_exports_open_with_their_accents(client: TestClient) -> None:
    """Spreadsheets: UTF-8 with a BOM, a header row, Vietnamese as written, the filters of the
    JSON list; readings or buckets of a station."""
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    def table(response: Any) -> list[dict[str, str]]:
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("text/csv")
        raw = response.content
        assert raw.startswith("\ufeff".encode())  # the BOM that spreadsheet programs look for
        return list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))

    viewer = auth("viewer")
    alerts = table(
        client.get("/api/v1/alerts.csv", params={"zone": "go-cong-dong"}, headers=viewer)
    )
    listed = client.get("/api/v1/alerts", params={"zone": "go-cong-dong"}, headers=viewer).json()
    assert [a["id"] for a in alerts] == [a["id"] for a in listed["items"]]
    vam_kenh = next(a for a in alerts if a["device"] == "vam-kenh")
    assert vam_kenh["zone_name"] == "Xã Tân Đông" and "Vàm Kênh" in vam_kenh["message_vi"]
    none = table(client.get("/api/v1/alerts.csv", params={"state": "pending"}, headers=viewer))
    assert none == []
    readings = table(client.get("/api/v1/stations/vam-kenh/readings.csv", headers=viewer))
    assert readings and float(readings[-1]["salinity_ppt"]) == pytest.approx(3.55)
    hourly = table(
        client.get("/api/v1/stations/vam-kenh/readings.csv", params={"every": "1h"}, headers=viewer)
    )
    assert hourly and set(hourly[0]) == {"time", "min_ppt", "mean_ppt", "max_ppt", "count"}
    assert client.get("/api/v1/stations/nowhere/readings.csv", headers=viewer).status_code == 404
    assert client.get("/api/v1/alerts.csv").status_code == 401


def test_csv_for_a_spreadsheet_in_vietnamese(client: TestClient) -> None:
    """A spreadsheet set to Vietnamese reads "3.55" as text: with style=vi the file has a
    semicolon between fields, decimal commas and plain Vietnam times, so numbers are numbers."""
    import csv  # noqa: PLC0415
    import io  # noqa: PLC0415

    response = client.get(
        "/api/v1/stations/vam-kenh/readings.csv", params={"style": "vi"}, headers=auth("viewer")
    )
    text = response.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    header, last = rows[0], rows[-1]
    assert header[:2] == ["time", "salinity_ppt"] and last[1] == "3,55"
    assert last[0] == "2024-03-12 16:55:00"  # Vietnam time, as a spreadsheet reads a date
    alerts = client.get("/api/v1/alerts.csv", params={"style": "vi"}, headers=auth("viewer"))
    first = next(csv.DictReader(io.StringIO(alerts.content.decode("utf-8-sig")), delimiter=";"))
    assert "," in first["value"] and "T" not in first["started_at"]


def test_exports_as_excel_workbooks(client: TestClient) -> None:
    """style=xlsx: a workbook whose numbers are numbers and whose times are dates, whatever the
    spreadsheet's language."""
    import datetime as dt  # noqa: PLC0415
    import io  # noqa: PLC0415

    from openpyxl import load_workbook  # noqa: PLC0415

    answer = client.get(
        "/api/v1/stations/vam-kenh/readings.csv", params={"style": "xlsx"}, headers=auth("viewer")
    )
    assert answer.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert 'filename="vam-kenh.xlsx"' in answer.headers["content-disposition"]
    rows = list(load_workbook(io.BytesIO(answer.content)).active.iter_rows(values_only=True))
    assert rows[0][:2] == ("time", "salinity_ppt")
    assert rows[-1][1] == pytest.approx(3.55) and rows[-1][0] == dt.datetime(2024, 3, 12, 16, 55)
    alerts = client.get("/api/v1/alerts.csv", params={"style": "xlsx"}, headers=auth("viewer"))
    sheet = load_workbook(io.BytesIO(alerts.content)).active
    header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    assert header[:3] == ["id", "started_at", "updated_at"] and sheet.max_row >= 2


def test_the_api_docs_need_no_cdn(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "cdn." not in page.text
    assert "/docs-assets/swagger-ui-bundle.js" in page.text
    script = client.get("/docs-assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs-assets/swagger-ui.css").status_code == 200


@pytest.mark.parametrize(
    ("path", "cached", "allows"),
    [
        ("/api/v1/zones", False, "default-src 'none'"),
        ("/health", False, "default-src 'none'"),
        ("/api/v1/reports/daily?format=html", False, "img-src data:"),
        ("/", True, "default-src 'self'"),
        ("/app.js", True, "default-src 'self'"),
        ("/docs", True, "script-src 'self' 'unsafe-inline'"),
    ],
)
def test_every_answer_carries_its_browser_policy(
    client: TestClient, path: str, cached: bool, allows: str
) -> None:
    response = client.get(path, headers=auth("viewer"))
    assert response.status_code == 200, response.text
    h = response.headers
    assert allows in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff" and h["referrer-policy"] == "no-referrer"
    assert (h.get("cache-control") == "no-store") is not cached


def test_who_did_what_is_in_the_audit_log(client: TestClient) -> None:
    """Acknowledging, silences and rule changes are recorded under the token's name (the "by"
    and "author" typed in are notes); only an admin reads the log, filtered and paged."""
    operator, admin = auth("operator"), auth("admin")
    alert_id = firing_id(client)
    acked = client.post(
        f"/api/v1/alerts/{alert_id}/ack",
        json={"by": "Anh Ba", "note": "đã đóng cống"},
        headers=operator,
    )
    assert acked.status_code == 200
    body = {"zone": "xa-tan-dong", "minutes": 30, "author": "Ba", "reason": "bảo trì trạm"}
    silence = client.post("/api/v1/silences", json=body, headers=operator).json()
    assert silence["author"] == "lan.nguyen"
    assert client.delete(f"/api/v1/silences/{silence['id']}", headers=operator).status_code == 204
    rules = client.get("/api/v1/rules", headers=admin).json()
    assert client.put("/api/v1/rules", json=rules, headers=admin).status_code == 200

    for role in ("viewer", "operator"):
        assert client.get("/api/v1/audit", headers=auth(role)).status_code == 403
    log = client.get("/api/v1/audit", headers=admin).json()
    assert log["total"] == 4
    assert [(e["actor"], e["role"], e["action"]) for e in log["items"]] == [
        (ADMIN_LABEL, "admin", "rules.update"),
        ("lan.nguyen", "operator", "silence.delete"),
        ("lan.nguyen", "operator", "silence.create"),
        ("lan.nguyen", "operator", "ack"),
    ]
    ack = log["items"][3]
    assert (ack["target"], ack["detail"]) == (alert_id, "Anh Ba — đã đóng cống")
    assert (
        log["items"][2]["detail"]
        == "zone xa-tan-dong, 2024-03-12T17:00:00+07:00 to 2024-03-12T17:30:00+07:00: "
        "bảo trì trạm (as Ba)"
    )
    previous = orjson.loads(log["items"][0]["detail"].removeprefix("previous: "))
    assert previous == rules  # the rules replaced, kept whole
    mine = client.get("/api/v1/audit?actor=lan.nguyen&limit=2", headers=admin).json()
    assert mine["total"] == 3 and len(mine["items"]) == 2
    later = client.get("/api/v1/audit", params={"since": "2099-01-01T00:00:00Z"}, headers=admin)
    assert later.json() == {"items": [], "total": 0}
    assert client.get("/api/v1/audit?since=yesterday", headers=admin).status_code == 422


def test_saltwatch_api_serves_https_when_given_a_certificate(tmp_path: Path) -> None:
    """With api.tls_cert and api.tls_key the API answers HTTPS (a phone on the network then
    sends its token encrypted); plain HTTP on that port gets no answer."""
    import subprocess  # noqa: PLC0415
    import sys  # noqa: PLC0415

    import httpx  # noqa: PLC0415
    import trustme  # noqa: PLC0415

    from harness.services import free_port  # noqa: PLC0415

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    port = free_port()
    env = {
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/readings.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
        "SALTWATCH_API__BIND": f"127.0.0.1:{port}",
        "SALTWATCH_API__TLS_CERT": str(cert_file),
        "SALTWATCH_API__TLS_KEY": str(key_file),
    }
    log = tmp_path / "api.log"
    exe = Path(sys.executable).with_name("saltwatch")
    process = subprocess.Popen(
        [str(exe), "api"], env={**os.environ, **env}, stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )  # fmt: skip

    trusted = ssl.create_default_context(cafile=str(ca_file))

    def answers() -> bool:
        assert process.poll() is None, log.read_text()[-2000:]
        try:
            return httpx.get(f"https://127.0.0.1:{port}/health", verify=trusted).is_success
        except httpx.HTTPError:
            return False

    try:
        wait_until(answers, 30, "the API over HTTPS")
        with pytest.raises(httpx.HTTPError):
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=3)
        assert "plain HTTP" not in log.read_text()
    finally:
        process.terminate()
        process.wait(20)


def test_a_handheld_reading_is_stored_judged_and_on_the_audit_log(client: TestClient) -> None:
    def firing_at(device: str) -> list[dict[str, Any]]:
        page = client.get("/api/v1/alerts", params={"state": "firing"}, headers=auth("viewer"))
        return [a for a in page.json()["items"] if a["device"] == device]

    assert firing_at("hoa-binh") == []
    a_minute_ago = "2024-03-12T16:59:00+07:00"
    body = {
        "value": 5000,
        "quantity": "chloride",
        "unit": "mg/L",
        "at": a_minute_ago,
        "note": "bến phà",
    }
    entered = client.post("/api/v1/stations/hoa-binh/readings", json=body, headers=auth("operator"))
    assert entered.status_code == 201, entered.text
    values = entered.json()["values"]
    assert values["salinity_ppt"] == pytest.approx(9.03, abs=0.01)  # 5,000 mg/L Cl⁻ × 1.80655
    assert (values["source"], values["by"], values["note"]) == ("manual", "lan.nguyen", "bến phà")
    stored = client.get("/api/v1/stations/hoa-binh/readings", headers=auth("viewer")).json()
    assert [r["values"]["source"] for r in stored["readings"]] == ["manual"]
    assert firing_at("hoa-binh"), "judged by the alert rules at once"
    audit = client.get("/api/v1/audit", headers=auth("admin")).json()["items"]
    assert (audit[0]["action"], audit[0]["actor"], audit[0]["target"]) == (
        "reading.manual",
        "lan.nguyen",
        "hoa-binh",
    )
    again = {"value": 1.0, "at": entered.json()["ts"]}
    refused = client.post(
        "/api/v1/stations/hoa-binh/readings", json=again, headers=auth("operator")
    )
    assert refused.status_code == 409  # another value for a time the station already has
    for station, payload, role, status in [
        ("hoa-binh", {"value": 1.0}, "viewer", 403),
        ("well-tan-hoa-1", {"value": 1.0}, "operator", 404),
        ("hoa-binh", {"value": 1.0, "unit": "furlongs"}, "operator", 422),
        ("hoa-binh", {"value": 99.0}, "operator", 422),  # outside 0…70 ‰, as from a device
        ("hoa-binh", {"value": 1.0, "at": "2030-01-01T00:00:00Z"}, "operator", 422),
    ]:
        answer = client.post(
            f"/api/v1/stations/{station}/readings", json=payload, headers=auth(role)
        )
        assert answer.status_code == status, (payload, answer.text)


def test_health_says_which_polled_source_is_stale(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert client.get("/health").json()["sources"] == []
    stale = [
        SourceStatus("vendor-buoys", 7300.0, True, True),
        SourceStatus("b", 60.0, False, False),
    ]
    monkeypatch.setattr(PipelineView, "sources", lambda self: stale)
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["sources"][0] == {
        "name": "vendor-buoys",
        "lag_s": 7300.0,
        "stale": True,
        "failing": True,
    }


def test_an_uploaded_file_is_imported_once_with_its_report(client: TestClient) -> None:
    csv = "datetime,value\n" + "".join(
        f"2024-03-10 {h:02d}:00,{0.5 + h / 10:.1f}\n" for h in range(12)
    )
    csv += "2024-03-10 25:00,1.0\n"  # no such hour: refused, named in the report

    def send(body: bytes, role: str = "operator", **query: str) -> httpx.Response:
        params = {"source": "logger-vam-kenh", "filename": "vam-kenh-10-03.csv", **query}
        answer: httpx.Response = client.post(
            "/api/v1/imports", params=params, content=body, headers=auth(role)
        )
        return answer

    dry = send(csv.encode(), dry_run="true")
    assert dry.status_code == 200, dry.text
    assert (dry.json()["stored"], dry.json()["dry_run"]) == (12, True)
    first = send(csv.encode()).json()
    assert (first["rows"], first["stored"], first["refused"]) == (13, 12, {"bad_timestamp": 1})
    assert first["examples"][0]["row"] == 13 and first["file"] == "vam-kenh-10-03.csv"
    again = send(csv.encode()).json()
    assert (again["stored"], again["already_stored"]) == (0, 12)
    audit = client.get("/api/v1/audit", headers=auth("admin")).json()["items"]
    imports = [a for a in audit if a["action"] == "import"]
    assert len(imports) == 2 and imports[0]["target"] == "logger-vam-kenh"
    assert "0 stored" in imports[0]["detail"] and "12 stored" in imports[1]["detail"]
    assert send(b"x", role="viewer").status_code == 403
    assert send(b"x", source="nope").status_code == 422
    assert send(b"\xff\xfe\x00garbage").status_code == 422
