"""Table and timeline tests of the pure alert logic: levels, hysteresis, hold times, windows."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from harness.services import wait_until
from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.judgement import trailing_run_start
from saltwatch.alerts.model import Alert, Fingerprint
from saltwatch.alerts.salinity_rules import judge_levels
from saltwatch.core.clock import FakeClock
from saltwatch.core.errors import ConfigError
from saltwatch.core.qc import QcFlag
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import SalinityLevels, load_rules, parse_rules
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.alert_tools import api_context, rivers_alerting, sqlite_of

M = 60 * 10**9
T0 = 1_710_226_800 * 10**9  # 2024-03-12 14:00 in Vietnam
RIVER = SalinityLevels(
    warning=1.0, critical=4.0, hold_warning=900, hold_critical=0, hold_clear=1800, alerts=True
)


def series(*values: float, step_min: int = 15) -> tuple[np.ndarray, np.ndarray]:
    ts = np.array([T0 + i * step_min * M for i in range(len(values))], np.int64)
    return ts, np.array(values, np.float64)


@pytest.mark.parametrize(
    ("values", "current", "severity", "pending"),
    [
        ((0.5, 0.6, 0.7), None, None, None),
        ((0.5, 4.2), None, "critical", None),  # critical holds for 0 s: the first reading fires
        ((0.5, 1.2), None, None, "warning"),  # warning must hold 15 min
        ((0.5, 1.2, 1.3), None, "warning", None),  # …and did (15 min between readings)
        ((4.2, 3.9, 3.7, 3.65), "critical", "critical", None),  # above 90 % of 4: still critical
        ((4.2, 3.5), "critical", "critical", None),  # below 3.6 but not yet 30 min
        ((4.2, 3.5, 3.4, 3.3), "critical", "warning", None),  # 30 min below 3.6: down to warning
        ((4.2, 0.5, 0.5, 0.5), "critical", None, None),  # 30 min below 0.9: clear
        ((1.1, 0.95, 0.92, 0.91, 0.95), "warning", "warning", None),  # no flapping around 1 ‰
    ],
)
def test_levels_hold_times_and_hysteresis(
    values: tuple[float, ...], current: str | None, severity: str | None, pending: str | None
) -> None:
    ts, v = series(*values)
    judged = judge_levels(ts, v, RIVER, 0.9, current)  # type: ignore[arg-type]
    assert (judged.severity, judged.pending) == (severity, pending)


def test_flapping_signal_raises_one_episode() -> None:
    """A value that rose past the warning level and then oscillates around it (above the 90 %
    clear level) fires once and never clears: exactly one episode."""
    current = None
    changes = 0
    values = [0.5, 1.2, 1.2, 1.2] + [1.05 if i % 2 else 0.95 for i in range(40)]
    for n in range(2, len(values) + 1):
        ts, v = series(*values[:n])
        judged = judge_levels(ts, v, RIVER, 0.9, current)
        if judged.severity != current:
            changes += 1
            current = judged.severity
    assert changes == 1 and current == "warning"


def test_trailing_run() -> None:
    ts = np.array([1, 2, 3, 4], np.int64)
    assert trailing_run_start(np.array([True, False, True, True]), ts) == 3
    assert trailing_run_start(np.array([True, True]), ts[:2]) == 1
    assert trailing_run_start(np.array([True, False]), ts[:2]) is None


def test_rules_file_errors_are_precise() -> None:
    data = {"salinity": {"river": {"warning": 4.0, "critical": 1.0}}}
    with pytest.raises(ConfigError, match="critical must exceed warning"):
        parse_rules(data)
    with pytest.raises(ConfigError, match=r"salinity\.river\.warning"):
        parse_rules({"salinity": {"river": {"warning": -1, "critical": 1.0}}})


def test_overrides_by_zone_device_and_season() -> None:
    registry = load_registry()
    base = load_rules()
    rules = base.model_copy(
        update={
            "override": parse_rules(
                {
                    "salinity": {k.value: v.model_dump() for k, v in base.salinity.items()},
                    "override": [
                        {"zone": "ngot-hoa-go-cong", "profile": "intake", "warning": 0.4},
                        {"device": "xuan-hoa", "critical": 0.8},
                        {"season": "wet", "warning": 2.5},
                    ],
                }
            ).override
        }
    )
    xuan_hoa = registry.device("xuan-hoa")
    assert xuan_hoa is not None
    march = rules.levels_for(xuan_hoa, registry, 3)
    assert (march.warning, march.critical) == (0.4, 0.8)
    august = rules.levels_for(xuan_hoa, registry, 8)
    assert (august.warning, august.critical) == (0.4, 0.8)  # zone beats season
    vam_kenh = registry.device("vam-kenh")
    assert vam_kenh is not None
    assert rules.levels_for(vam_kenh, registry, 8).warning == 2.5
    assert rules.levels_for(vam_kenh, registry, 3).warning == 1.0


# ---------------------------------------------------------------- engine timelines (fake clock)
class Recorder:
    channel = "test"

    def __init__(self) -> None:
        self.events: list[dict[str, object]] = []

    def send(self, event: dict[str, object], zones: list[str]) -> None:
        self.events.append({**event, "zones": zones})


def engine(tmp_path: Path, clock: FakeClock, recorder: Recorder) -> AlertEngine:
    return AlertEngine(
        rivers_alerting(),
        load_registry(),
        SqliteAlertStore(tmp_path / "state.db"),
        clock,
        {"mqtt": recorder},
    )


def sal(device: str, minutes: float, value: float, qc: int = 0) -> Reading:
    return Reading(
        TopicKind.SALINITY, device, T0 + int(minutes * M), {"salinity_ppt": value}, qc=qc
    )


def test_episode_rise_fire_acknowledge_resolve(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    e.on_readings([sal("vam-kenh", 0, 0.6)])
    clock.set(T0 + 15 * M)
    e.on_readings([sal("vam-kenh", 15, 4.6)])
    e.dispatch()
    (fired,) = recorder.events
    assert (fired["state"], fired["severity"], fired["rule"]) == (
        "firing",
        "critical",
        "salinity-river",
    )
    assert fired["zones"] == ["xa-tan-dong", "go-cong-dong", "dong-thap"]
    assert fired["zone_name"] == "Xã Tân Đông" and "Vàm Kênh" in str(fired["message_vi"])
    assert fired["started_at"] == "2024-03-12T14:15:00+07:00"
    e.on_readings([sal("vam-kenh", 30, 4.8)])  # still critical: nothing new
    e.dispatch()
    assert len(recorder.events) == 1
    acked = e.acknowledge(str(fired["id"]), "kỹ sư Lan", "đã đóng cống")
    assert acked.state == "acknowledged"
    for minute in (45, 60, 75):
        e.on_readings([sal("vam-kenh", minute, 0.4)])
    e.dispatch()
    states = [ev["state"] for ev in recorder.events]
    assert states == ["firing", "acknowledged", "resolved"]
    assert len({ev["id"] for ev in recorder.events}) == 1


def test_qc_flagged_readings_never_fire_on_their_own(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    e.on_readings(
        [
            sal("vam-kenh", 0, 0.5),
            sal("vam-kenh", 15, 12.0, qc=QcFlag.SPIKE),
            sal("vam-kenh", 30, 0.5),
        ]
    )
    e.dispatch()
    assert recorder.events == []


def test_missing_data_never_resolves_a_firing_alert(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    e.on_readings([sal("xuan-hoa", 0, 1.5)])
    clock.set(T0 + 6 * 3600 * 10**9)  # six hours of silence
    e.tick()
    e.dispatch()
    by_rule = {(ev["rule"], ev["state"]) for ev in recorder.events if ev["device"] == "xuan-hoa"}
    assert ("salinity-intake", "firing") in by_rule
    assert ("nodata", "firing") in by_rule
    assert not any(state == "resolved" for _, state in by_rule)
    assert any(a.rule == "salinity-intake" for a in e.open_alerts())


def test_late_backfill_is_judged_at_its_own_times_and_marked_late(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0 + 5 * 3600 * 10**9), Recorder()
    e = engine(tmp_path, clock, recorder)
    backlog = [sal("vam-kenh", m, v) for m, v in ((0, 0.5), (15, 2.0), (30, 4.3), (45, 4.4))]
    e.on_readings(backlog)
    e.dispatch()
    (fired,) = [ev for ev in recorder.events if ev["rule"] == "salinity-river"]
    assert fired["started_at"] == "2024-03-12T14:30:00+07:00"
    assert fired["late"] is True


def test_restart_neither_forgets_nor_resends(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    first = engine(tmp_path, clock, recorder)
    first.on_readings([sal("vam-kenh", 0, 4.5)])
    first.dispatch()
    assert len(recorder.events) == 1
    first.state.close()
    again = engine(tmp_path, clock, recorder)  # a new process on the same state file
    again.on_readings([sal("vam-kenh", 15, 4.7)])
    again.dispatch()
    assert len(recorder.events) == 1  # the open alert was remembered: no second "firing"
    assert [a.rule for a in again.open_alerts()] == ["salinity-river"]


def test_a_watch_station_salty_all_day_raises_no_alert_but_an_intake_does(tmp_path: Path) -> None:
    """The bundled rules: Vàm Kênh, 18 km from the mouth, is a watch station (its values feed
    the salt front and the risk level); salty every day of the season, it raised a critical
    alert that stayed open for months. Xuân Hòa, the intake, alerts."""
    clock, recorder = FakeClock(T0), Recorder()
    e = AlertEngine(
        load_rules(),
        load_registry(),
        SqliteAlertStore(tmp_path / "s.db"),
        clock,
        {"mqtt": recorder},
    )
    tide = [8.0, 14.0, 22.0, 16.0, 9.0, 7.5, 9.0, 15.0, 21.5, 15.0, 8.5]  # two high waters a day
    e.on_readings([sal("vam-kenh", i * 150, v) for i, v in enumerate(tide)])
    e.on_readings([sal("xuan-hoa", i * 150, v / 18) for i, v in enumerate(tide)])  # to 1.22 ‰
    clock.set(T0 + 10 * 150 * M)
    e.tick()
    e.dispatch()
    fired = {(ev["device"], ev["rule"]) for ev in recorder.events if ev["state"] == "firing"}
    assert ("xuan-hoa", "salinity-intake") in fired
    assert not any(device == "vam-kenh" for device, _ in fired), fired


def test_a_watch_station_alert_left_open_by_an_earlier_version_resolves(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    old = engine(tmp_path, clock, recorder)  # rivers alerting, as before
    old.on_readings([sal("vam-kenh", 0, 6.0)])
    old.dispatch()
    old.state.close()
    state = SqliteAlertStore(tmp_path / "state.db")  # the file engine() keeps
    e = AlertEngine(load_rules(), load_registry(), state, clock, {"mqtt": recorder})
    clock.set(T0 + 15 * M)
    e.on_readings([sal("vam-kenh", 15, 6.5)])
    e.dispatch()
    assert [ev["state"] for ev in recorder.events] == ["firing", "resolved"]
    assert e.open_alerts() == []


def test_an_override_makes_one_river_station_alert() -> None:
    registry, base = load_registry(), load_rules()
    rules = base.model_copy(
        update={"override": parse_rules({"override": [{"device": "hoa-binh", "alerts": True}]})
        .override}
    )  # fmt: skip
    hoa_binh, vam_kenh = registry.device("hoa-binh"), registry.device("vam-kenh")
    assert hoa_binh is not None and vam_kenh is not None
    assert rules.levels_for(hoa_binh, registry, 3).alerts
    assert not rules.levels_for(vam_kenh, registry, 3).alerts


def test_tidal_day_maximum_keeps_a_regime_alert_through_low_water(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    tide = [0.3, 1.4, 5.0, 1.2, 0.3, 0.2, 0.3, 1.5, 4.8, 1.1, 0.3]  # two high waters a day
    e.on_readings([sal("vam-kenh", i * 150, v) for i, v in enumerate(tide)])
    clock.set(T0 + 10 * 150 * M)
    e.tick()
    e.dispatch()
    regime = [ev for ev in recorder.events if ev["rule"] == "salinity-river-tidal-day"]
    assert [(ev["state"], ev["severity"]) for ev in regime] == [("firing", "critical")]


def test_open_alert_type_round_trips_through_state(tmp_path: Path) -> None:
    state = SqliteAlertStore(tmp_path / "s.db")
    alert = Alert(
        "a1",
        Fingerprint("f", "x"),
        "salinity-river",
        "salinity",
        "x",
        "z",
        "critical",
        "firing",
        4.5,
        4.0,
        "‰",
        T0,
        T0,
    )
    state.save([(None, alert)], [])
    assert state.open_alerts() == {Fingerprint("f", "x"): alert}


def test_an_episode_inside_a_backlog_is_raised_late_and_resolved(tmp_path: Path) -> None:
    """A device away for hours uploads its backlog: the exceedance it missed is still told."""
    clock, recorder = FakeClock(T0 + 6 * 3600 * 10**9), Recorder()
    e = engine(tmp_path, clock, recorder)
    values = [0.5, 2.0, 3.5, 4.5, 4.6, 3.5, 2.0, 0.8, 0.5, 0.4, 0.4, 0.4]
    e.on_readings([sal("vam-kenh", 15 * i, v) for i, v in enumerate(values)])
    e.dispatch()
    river = [ev for ev in recorder.events if ev["rule"] == "salinity-river"]
    assert [(ev["state"], ev["severity"]) for ev in river] == [
        ("firing", "warning"),
        ("firing", "critical"),
        ("resolved", "warning"),
    ]
    assert all(ev["late"] is True for ev in river)
    assert river[0]["started_at"] == "2024-03-12T14:15:00+07:00"  # 2.0 ‰ held 15 min from here
    assert not e.open_alerts() or all(a.rule != "salinity-river" for a in e.open_alerts())


def well(minutes: float, salinity: float, level: float = 8.0) -> Reading:
    fields: dict[str, float | int | bool | str] = {
        "running": True,
        "flow_m3h": 30.0,
        "level_m": level,
        "salinity_ppt": salinity,
    }
    return Reading(TopicKind.WELL, "well-tan-hoa-1", T0 + int(minutes * M), fields)


def test_well_salinity_wavering_at_the_limit_raises_one_alert(tmp_path: Path) -> None:
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    for i, value in enumerate([0.44, 0.46, 0.44, 0.46, 0.43, 0.46, 0.41]):  # limit 0.45
        clock.set(T0 + i * 15 * M)
        e.on_readings([well(i * 15, value)])
    e.dispatch()
    assert [(ev["rule"], ev["state"]) for ev in recorder.events] == [("well-salinity", "firing")]
    clock.set(T0 + 7 * 15 * M)
    e.on_readings([well(7 * 15, 0.39)])  # under 90 % of the limit: resolved
    e.dispatch()
    resolved = recorder.events[-1]
    assert resolved["state"] == "resolved"
    assert str(resolved["message_en"]).startswith("Resolved: salty well water at ")
    assert str(resolved["message_en"]).endswith("Now 0.39‰.")
    assert str(resolved["message_vi"]).startswith("Đã hết nước giếng mặn tại ")


def test_a_two_hourly_seasonal_station_is_judged_on_its_own_schedule(tmp_path: Path) -> None:
    """Hòa Bình reads every 2 h in the dry season only: 5 h of silence is no news, 7 h is; out of
    its months nothing is missing (the open no-data alert ends) and the simulator sends nothing."""
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    e.on_readings([sal("hoa-binh", 0, 3.0)])

    def nodata() -> set[str]:
        e.tick()
        e.dispatch()
        return {
            str(ev["state"])
            for ev in recorder.events
            if ev["rule"] == "nodata" and ev["device"] == "hoa-binh"
        }

    clock.set(T0 + 5 * 3600 * 10**9)
    assert nodata() == set()
    clock.set(T0 + 7 * 3600 * 10**9)  # 3 × 2 h without a reading
    assert nodata() == {"firing"}
    clock.set(int(1_720_000_000e9))  # 3 July 2024: the wet season, out of its months
    assert nodata() == {"firing", "resolved"}

    registry = load_registry()
    cfg = SimConfig(SCENARIOS["2024"], seed=1, faults=FaultRates.none())
    fleet = Fleet(registry, cfg, [registry.devices["hoa-binh"]])
    sent = fleet.messages(epoch("2024-06-29"), epoch("2024-07-03"))
    june = [m for m in sent if "/salinity/" in m.topic]
    assert all(m.t_s < epoch("2024-07-01") for m in june)
    assert len(june) == 24  # two days of 2-hourly readings, then silence


def test_judging_runs_off_ingest_thread_and_a_full_handoff_never_blocks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started, the engine judges new readings on its own thread: ingest's call only queues
    them. With the judge held up and the hand-off full, ingest still returns at once and adds
    what it could not hand over to the windows itself; the next tick judges it."""
    import saltwatch.alerts.judging as judging  # noqa: PLC0415

    monkeypatch.setattr(judging, "HANDOFF_BATCHES", 2)
    monkeypatch.setattr(judging, "PASS_INTERVAL_S", 3600.0)  # its second pass waits an hour
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    e.start(tick_s=3600)
    try:
        began = time.monotonic()
        e.on_readings([sal("vam-kenh", 0, 0.5)])
        wait_until(lambda: e.windows.get("vam-kenh") is not None, 5, "the first pass")
        e.on_readings([sal("vam-kenh", 1, 5.0)])
        wait_until(e.judge._handoff.empty, 5, "the judge holding the second batch")
        for i in range(2, 10):
            e.on_readings([sal("vam-kenh", i, 5.0)])
        assert time.monotonic() - began < 1.0  # no waiting on the judge
        assert e.metrics.handoff_dropped._value.get() == 6  # 2 queued, 6 not
        window = e.windows.get("vam-kenh")
        assert window is not None and window.ts.size == 7  # the first and the 6 dropped
        assert e.open_alerts() == []
        e.tick()
        assert any(a.rule == "salinity-river" for a in e.open_alerts())
    finally:
        e.stop()


def test_an_alert_is_shown_only_once_saved_and_none_is_lost_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Durable before visible: while the alert state cannot be written (a full disk), a 9 ‰
    reading raises nothing in memory, the API or the notifiers; once it can, the next tick
    raises it, with the reading's time."""
    from saltwatch.core.errors import RetryableError  # noqa: PLC0415

    clock, recorder = FakeClock(T0), Recorder()
    e = engine(tmp_path, clock, recorder)
    real_save = e.state.save

    def full(*args: object, **kwargs: object) -> None:  # as the port says SQLite's full disk
        raise RetryableError("SQLite busy or unavailable: database or disk is full")

    monkeypatch.setattr(e.state, "save", full)
    e.on_readings([sal("vam-kenh", 0, 9.0)])
    e.dispatch()
    told = [ev["rule"] for ev in recorder.events if ev["rule"] != "alert-state-unsaved"]
    assert e.open_alerts() == [] and told == []  # told only that the state cannot be saved
    assert e.episodes.unsaved_since == T0 and e.metrics.unsaved._value.get() >= 1
    health = health_of(e)
    assert health["status"] == "degraded" and health["alert_state_saved"] is False
    monkeypatch.setattr(e.state, "save", real_save)  # space came back
    clock.set(T0 + 60 * 10**9)
    e.tick()
    e.dispatch()
    fired = [a for a in e.open_alerts() if a.rule == "salinity-river"]
    assert len(fired) == 1 and fired[0].started_at_ns == T0 and fired[0].severity == "critical"
    assert ("salinity-river", "firing") in {(ev["rule"], ev["state"]) for ev in recorder.events}
    assert e.state.open_alerts()[fired[0].fingerprint] == fired[0]  # saved, as shown
    assert e.episodes.unsaved_since is None and health_of(e)["alert_state_saved"] is True


def health_of(e: AlertEngine, folder: Path | None = None) -> dict[str, object]:
    """/health of an API over this engine (the store: an empty SQLite one in ``folder``, by
    default beside the alert state)."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from saltwatch.api.app import create_app  # noqa: PLC0415
    from saltwatch.core.settings import Settings  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415

    store = SqliteReadingStore((folder or sqlite_of(e.state).path.parent) / "readings.db")
    ctx = api_context(Settings(), e.registry, store, e.state, e, clock=e.clock)
    with TestClient(create_app(ctx)) as client:
        body: dict[str, object] = client.get("/health").json()
    store.close()
    return body
