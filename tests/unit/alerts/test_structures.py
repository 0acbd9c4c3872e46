"""A structure open to salt (alerts/structures.py), judged from gate reports and guard readings."""

from __future__ import annotations

from pathlib import Path

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.model import Observation
from saltwatch.alerts.structures import RULE, GateSeen, StructureWatch, gate_readings
from saltwatch.core.clock import FakeClock
from saltwatch.core.qc import QcFlag
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.alert_tools import Quiet

S = 10**9
T0 = 1_710_000_000 * S
REGISTRY = load_registry()
RULES = load_rules()  # Xuân Hòa serves fruit: limit 1.0 ‰; hold 10 min


def watch() -> StructureWatch:
    return StructureWatch(REGISTRY, lambda: RULES)


def salinity(ppt: float, at: int, qc: int = 0) -> Reading:
    return Reading(TopicKind.SALINITY, "xuan-hoa", at, {"salinity_ppt": ppt}, qc)


def gate(state: str, at: int) -> Reading:
    return Reading(TopicKind.GATE, "gate-xuan-hoa", at, {"state": state})


def severities(found: list[tuple[Observation, str]]) -> list[tuple[object, object, str]]:
    return [(obs.severity, obs.pending, zone) for obs, zone in found]


def test_a_gate_opened_into_salty_water_is_critical_at_once_and_resolves_when_it_closes() -> None:
    w = watch()
    assert RULES.structure_limit(REGISTRY.structures["cong-xuan-hoa"]) == 1.0
    assert severities(w.on_readings([salinity(1.4, T0)])) == [(None, None, "xa-binh-ninh")]
    (found,) = w.on_readings([gate("open", T0 + 60 * S)])
    obs, zone = found
    assert (obs.rule, obs.severity, obs.value, obs.threshold) == (RULE, "critical", 1.4, 1.0)
    assert str(obs.fingerprint) == f"{RULE}:cong-xuan-hoa" and zone == "xa-binh-ninh"
    assert w.status("cong-xuan-hoa").open_to_salt  # type: ignore[union-attr]
    assert severities(w.on_readings([gate("closed", T0 + 120 * S)]))[0][0] is None


def test_salt_reaching_an_open_gate_waits_the_hold_then_fires_and_resolves_below_the_limit() -> (
    None
):
    w = watch()
    w.on_readings([gate("open", T0), salinity(0.3, T0)])
    assert severities(w.on_readings([salinity(1.2, T0 + 60 * S)])) == [
        (None, "critical", "xa-binh-ninh")
    ]
    assert severities(w.check(T0 + 5 * 60 * S))[0][:2] == (None, "critical")
    assert severities(w.check(T0 + 11 * 60 * S))[0][:2] == ("critical", None)
    assert severities(w.on_readings([salinity(0.8, T0 + 12 * 60 * S)]))[0][:2] == (None, None)


def test_a_flagged_reading_or_an_old_one_says_nothing_of_the_guard_now() -> None:
    w = watch()
    w.on_readings([salinity(0.3, T0 + 60 * S), gate("open", T0)])
    assert w.on_readings([salinity(9.0, T0 + 90 * S, QcFlag.SPIKE)]) == []
    assert w.on_readings([salinity(2.0, T0)]) == []  # older than what is known
    assert not w.status("cong-xuan-hoa").open_to_salt  # type: ignore[union-attr]


def test_the_newer_report_decides_and_a_sensor_contradicting_the_operator_shows() -> None:
    w = watch()
    (entry,) = gate_readings([GateSeen("closed", T0, "operator", by="lan.nguyen")], "cong-xuan-hoa")
    w.on_readings([salinity(1.5, T0), entry])
    status = w.status("cong-xuan-hoa")
    assert status is not None and status.gate is not None
    assert status.gate.source == "operator" and status.gate.by == "lan.nguyen"
    assert not status.open_to_salt and not status.disagree
    (found,) = w.on_readings([gate("partial", T0 + 30 * S)])
    assert found[0].severity == "critical"  # the sensor says it stands partly open
    status = w.status("cong-xuan-hoa")
    assert status is not None and status.disagree and status.gate.source == "sensor"  # type: ignore[union-attr]


def test_an_unknown_gate_or_structure_is_ignored() -> None:
    w = watch()
    stray = Reading(TopicKind.GATE, "gate-nowhere", T0, {"state": "open"})
    entry = Reading(TopicKind.OPERATION, "cong-nowhere", T0, {"state": "open"})
    assert w.on_readings([stray, entry]) == [] and w.status("cong-nowhere") is None


def test_a_gate_sensor_gone_silent_raises_the_usual_no_data_alert(tmp_path: Path) -> None:
    engine = AlertEngine(
        RULES, REGISTRY, SqliteAlertStore(tmp_path / "s.db"), FakeClock(T0), {"mqtt": Quiet()}
    )
    engine.on_readings([gate("closed", T0)])
    engine.tick()
    assert not [a for a in engine.open_alerts() if a.device == "gate-xuan-hoa"]
    engine.clock.set(T0 + 50 * 60 * S)  # type: ignore[attr-defined]  # 3 × its 15 min, and more
    engine.tick()
    (silent,) = [a for a in engine.open_alerts() if a.device == "gate-xuan-hoa"]
    assert silent.rule == "nodata" and silent.zone == "xa-binh-ninh"


def test_a_river_station_s_readings_are_judged_and_its_silence_told(tmp_path: Path) -> None:
    """Another agency's river station (kind hydro) has no rule of its own: its readings pass
    through the engine without stopping the judging of the others, and it goes silent as any
    device does."""
    engine = AlertEngine(
        RULES, REGISTRY, SqliteAlertStore(tmp_path / "s.db"), FakeClock(T0), {"mqtt": Quiet()}
    )
    flow = Reading(TopicKind.HYDRO, "tan-chau", T0, {"discharge_m3s": 2300.0, "level_m": 0.6})
    engine.on_readings([flow, gate("open", T0)])
    engine.tick()
    window = engine.windows.get("tan-chau")
    assert window is not None and window.values["discharge_m3s"].tolist() == [2300.0]
    assert engine.windows.get("gate-xuan-hoa") is not None  # judged in the same batch
    engine.clock.set(T0 + 4 * 3600 * S)  # type: ignore[attr-defined]  # 3 × its hour, and more
    engine.tick()
    (silent,) = [a for a in engine.open_alerts() if a.device == "tan-chau"]
    assert silent.rule == "nodata" and silent.zone == "dong-thap"


def test_a_gate_opened_before_a_restart_or_through_another_process_is_learnt_from_the_store(
    tmp_path: Path,
) -> None:
    """An operator's entry made through ``saltwatch api`` alone (no engine there to tell), or
    before the engine restarted, is in the store only: the engine reads it there (at every tick
    in serve and in the alerts process) and alerts the gate open to salt."""
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415

    store = SqliteReadingStore(tmp_path / "r.db")
    seen = GateSeen("open", T0 + 60 * S, "operator", 100.0, "lan.nguyen", "mở lấy nước")
    store.write(gate_readings([seen], "cong-xuan-hoa"))
    engine = AlertEngine(
        RULES, REGISTRY, SqliteAlertStore(tmp_path / "s.db"), FakeClock(T0), {"mqtt": Quiet()}
    )
    engine.on_readings([salinity(1.4, T0)])  # salty already when the gate was opened
    assert not [a for a in engine.open_alerts() if a.rule == RULE]  # the gate is not known
    assert engine.learn_gates(store) == 1
    (alert,) = [a for a in engine.open_alerts() if a.rule == RULE]
    assert alert.severity == "critical" and alert.state == "firing"
    assert engine.learn_gates(store) == 1  # read again: nothing new
    assert [a.id for a in engine.open_alerts() if a.rule == RULE] == [alert.id]
    store.close()
