"""System alerts, groups and inhibition (docs/interface.md) with a fake clock and fake probes."""

from __future__ import annotations

from pathlib import Path

from saltwatch.alerts.dispatch import ChannelWorker, coalesce
from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.model import Alert, Event, Fingerprint, Observation, group_of
from saltwatch.alerts.system import Holds, Probes, SystemWatch
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.unit.alerts.test_routing import Recorder

S = 10**9
T0 = 1_710_226_800 * S


class Flags:
    """Probes a test sets by hand, and a monotonic clock it moves."""

    def __init__(self) -> None:
        self.connected = True
        self.store = True
        self.spool = 0
        self.taken, self.finished = 0, 0
        self.failing: dict[str, bool] = {}
        self.mono = 1000.0

    def probes(self) -> Probes:
        return Probes(
            broker_connected=lambda: self.connected,
            store_up=lambda: self.store,
            spool_depth=lambda: self.spool,
            progress=lambda: (self.taken, self.finished),
            channels_failing=lambda: self.failing,
        )


#: every fingerprint seen by ``rules_of``, by its text (a subject may hold a colon)
_SEEN: dict[str, Fingerprint] = {}


def rules_of(found: list[Observation]) -> dict[str, str | None]:
    _SEEN.update((str(o.fingerprint), o.fingerprint) for o in found)
    return {str(o.fingerprint): o.severity for o in found}


def open_of(seen: dict[str, str | None]) -> list[Fingerprint]:
    """The fingerprints of what ``rules_of`` gave, as the engine passes its open alerts."""
    return [_SEEN[text] for text in seen]


def test_each_condition_becomes_an_alert_after_its_hold_and_clears() -> None:
    f = Flags()
    watch = SystemWatch(f.probes(), Holds(60, 600, 900, 3600), monotonic=lambda: f.mono)
    assert watch.check(T0, []) == []
    f.connected, f.store, f.spool, f.taken = False, False, 3, 10
    f.failing = {"receiver:sms": True, "mqtt": False}
    assert watch.check(T0, []) == []  # bad, but not for long yet
    f.mono += 61
    f.spool = 4
    seen = rules_of(watch.check(T0 + 61 * S, []))
    assert seen == {
        "broker-disconnected:saltwatch": "critical",
        "store-down:saltwatch": "warning",
        "ingest-stalled:saltwatch": "critical",  # 10 waiting, none finished between checks
    }
    assert watch.blind  # no device can be seen: their no-data alerts wait
    f.mono += 900
    f.spool = 9
    seen = rules_of(watch.check(T0 + 961 * S, open_of(seen)))
    assert seen == {
        "broker-disconnected:saltwatch": "critical",
        "store-down:saltwatch": "warning",
        "ingest-stalled:saltwatch": "critical",
        "spool-growing:saltwatch": "warning",
        "notifier-failing:receiver:sms": "warning",
    }
    # all well again: every open one is told it cleared, and sight is regained now
    f.connected, f.store, f.spool, f.finished = True, True, 0, 10
    f.failing = {"receiver:sms": False}
    cleared = rules_of(watch.check(T0 + 1000 * S, open_of(seen)))
    assert set(cleared) == set(seen) and set(cleared.values()) == {None}
    assert not watch.blind and watch.regained_ns == T0 + 1000 * S


def test_a_draining_spool_and_a_moving_ingest_are_not_alerts() -> None:
    f = Flags()
    watch = SystemWatch(f.probes(), Holds(60, 600, 900, 3600), monotonic=lambda: f.mono)
    f.spool, f.taken, f.finished = 50, 100, 10
    for step in range(1, 20):
        f.mono += 60
        f.spool = 50 - step  # shrinking
        f.finished += 5  # ingest finishes messages every check, however many wait
        assert watch.check(T0 + step * 60 * S, []) == []


def test_forecasts_that_stop_are_stale_after_three_intervals() -> None:
    f = Flags()
    watch = SystemWatch(Probes(), Holds(forecast_every_s=100), monotonic=lambda: f.mono)
    f.mono += 250
    assert watch.check(T0, []) == []
    watch.forecast_done()
    f.mono += 301
    assert rules_of(watch.check(T0, [])) == {"forecast-stale:saltwatch": "warning"}


def engine_with(tmp_path: Path, clock: FakeClock) -> tuple[AlertEngine, Recorder, Flags]:
    mqtt = Recorder("mqtt")
    engine = AlertEngine(
        load_rules(), load_registry(), SqliteAlertStore(tmp_path / "s.db"), clock, {"mqtt": mqtt}
    )
    flags = Flags()
    engine.watch_system(flags.probes(), Holds(60, 600, 900, 3600), monotonic=lambda: flags.mono)
    return engine, mqtt, flags


def test_a_lost_broker_holds_back_no_data_behind_one_system_alert(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, _, flags = engine_with(tmp_path, clock)
    registry = engine.registry
    devices = list(registry.devices)
    engine.on_readings([Reading(TopicKind.SALINITY, "vam-kenh", T0, {"salinity_ppt": 0.2})])
    engine.tick()
    flags.connected = False
    for minutes in (1, 30, 90, 180):  # far past every device's no-data limit
        clock.set(T0 + minutes * 60 * S)
        flags.mono = 1000.0 + minutes * 60
        engine.tick()
    open_rules = [a.rule for a in engine.open_alerts()]
    assert open_rules.count("broker-disconnected") == 1 and "nodata" not in open_rules
    system = next(a for a in engine.open_alerts() if a.kind == "system")
    assert system.zone == registry.root and group_of(system) == "ingest:broker"
    # back: the alert resolves, and a device counts as silent only from now on
    flags.connected = True
    clock.set(T0 + 181 * 60 * S)
    engine.tick()
    assert not any(a.kind == "system" for a in engine.open_alerts())
    assert not any(a.rule == "nodata" for a in engine.open_alerts())
    # but devices that then stay silent past their limit do raise no-data, one group per zone
    clock.set(T0 + 181 * 60 * S + 48 * 3600 * S)
    engine.tick()
    nodata = [a for a in engine.open_alerts() if a.rule == "nodata"]
    assert len(nodata) >= len(devices) // 2
    assert {group_of(a) for a in nodata} == {f"nodata:{a.zone}" for a in nodata}


def test_no_data_alerts_of_one_zone_go_out_as_one_notification(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, mqtt, _ = engine_with(tmp_path, clock)
    clock.set(T0 + 48 * 3600 * S)
    engine.tick()
    engine.dispatch()
    nodata = [a for a in engine.open_alerts() if a.rule == "nodata"]
    zones = {a.zone for a in nodata}
    told = [e for e in mqtt.events if e["rule"] == "nodata"]
    assert len(told) == len(zones) < len(nodata)  # one per zone, not one per device
    big = max(told, key=lambda e: int(str(e.get("group_size", 1))))
    size = int(str(big["group_size"]))
    assert size == sum(a.zone == big["zone"] for a in nodata) >= 2
    assert f"Mất dữ liệu từ {size} thiết bị" in str(big["message_vi"])
    assert f"No data from {size} devices" in str(big["message_en"])
    assert str(big["group"]) == f"nodata:{big['zone']}"


def _alert(ident: str, rule: str, zone: str, device: str) -> Alert:
    return Alert(
        ident, Fingerprint(rule, device), rule, rule, device, zone, "warning", "firing",
        1.0, None, "min", T0, T0,
    )  # fmt: skip


def test_coalesce_keeps_order_and_groups_only_no_data_in_the_same_state() -> None:
    a = Event(_alert("a", "nodata", "z1", "d1"), "firing", T0)
    b = Event(_alert("b", "salinity-river", "z1", "d2"), "firing", T0)
    c = Event(_alert("c", "nodata", "z1", "d3"), "firing", T0)
    d = Event(_alert("d", "nodata", "z2", "d4"), "firing", T0)
    e = Event(_alert("e", "nodata", "z1", "d5"), "resolved", T0)
    batches = coalesce([(1, a), (2, b), (3, c), (4, d), (5, e)])
    assert [[seq for seq, _ in batch] for batch in batches] == [[1, 3], [2], [4], [5]]


def test_a_group_notification_is_marked_sent_for_every_alert_in_it(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, mqtt, _ = engine_with(tmp_path, clock)
    clock.set(T0 + 48 * 3600 * S)
    engine.tick()
    worker = ChannelWorker(mqtt, engine.state, engine.registry)
    worker.step()
    assert engine.state.unsent("mqtt") == []
    assert worker.delivered > len(mqtt.events)  # several alerts per notification


def test_a_lost_session_is_a_critical_alert_for_a_quarter_of_an_hour() -> None:
    f = Flags()
    lost: list[float | None] = [None]
    probes = Probes(session_lost_at=lambda: lost[0])
    watch = SystemWatch(probes, Holds(), monotonic=lambda: f.mono)
    assert watch.check(T0, []) == []
    lost[0] = f.mono
    found = rules_of(watch.check(T0, []))
    assert found == {"broker-session-lost:saltwatch": "critical"}  # at once: readings may be gone
    f.mono += 901
    assert rules_of(watch.check(T0, open_of(found))) == {"broker-session-lost:saltwatch": None}


def test_every_system_alert_is_listed_once_with_its_words() -> None:
    """The one table of system alerts decides severity, group and blindness; each has words
    for firing and for ending, in both languages."""
    from saltwatch.alerts.model import SYSTEM_ALERTS  # noqa: PLC0415
    from saltwatch.alerts.wording import ENDED, FIRING  # noqa: PLC0415

    assert {r for r, k in SYSTEM_ALERTS.items() if k.blinding} == {
        "broker-disconnected",
        "ingest-stalled",
    }
    for rule in SYSTEM_ALERTS:
        assert all(FIRING[rule]) and all(ENDED[rule]), rule


def test_a_stale_source_is_a_warning_of_its_own_and_ends_when_readings_come() -> None:
    f = Flags()
    stale: dict[str, float] = {}
    watch = SystemWatch(Probes(sources_stale=lambda: stale), Holds(), monotonic=lambda: f.mono)
    assert watch.check(T0, []) == []
    stale["vendor-buoys"] = 2.5  # the poller's stale_after is its hold: at once
    observed = watch.check(T0, [])
    assert rules_of(observed) == {"source-stale:vendor-buoys": "warning"}
    assert observed[0].value == 2.5
    stale.clear()
    assert rules_of(watch.check(T0, open_of(rules_of(observed)))) == {
        "source-stale:vendor-buoys": None
    }
