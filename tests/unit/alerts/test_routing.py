"""Routing, silences, dedup, reminders and escalation with a fake clock and recording notifiers."""

from __future__ import annotations

from pathlib import Path

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.model import Silence
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import ReceiverSettings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from tests.alert_tools import rivers_alerting

M = 60 * 10**9
T0 = 1_710_226_800 * 10**9


class Recorder:
    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.events: list[dict[str, object]] = []

    def send(self, event: dict[str, object], zones: list[str]) -> None:
        self.events.append(event)


RECEIVERS = [
    ReceiverSettings(name="gcd-office", type="log", zones=["go-cong-dong"], min_severity="warning"),
    ReceiverSettings(name="tpd-office", type="log", zones=["tan-phu-dong"]),
    ReceiverSettings(
        name="province-duty",
        type="log",
        zones=["dong-thap"],
        min_severity="critical",
        escalation_only=True,
    ),
]


def setup(tmp_path: Path, clock: FakeClock) -> tuple[AlertEngine, dict[str, Recorder]]:
    recorders = {
        name: Recorder(f"receiver:{name}") for name in ("gcd-office", "tpd-office", "province-duty")
    }
    recorders["mqtt"] = Recorder("mqtt")
    notifiers = {r.channel: r for r in recorders.values()}
    engine = AlertEngine(
        rivers_alerting(),
        load_registry(),
        SqliteAlertStore(tmp_path / "s.db"),
        clock,
        notifiers,
        receivers=RECEIVERS,
        repeat_s=3600,
        escalate_after_s=1800,
    )
    return engine, recorders


def salty(minutes: float, value: float = 4.6, device: str = "vam-kenh") -> Reading:
    return Reading(TopicKind.SALINITY, device, T0 + int(minutes * M), {"salinity_ppt": value})


def test_receivers_hear_their_zones_only(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, rec = setup(tmp_path, clock)
    engine.on_readings([salty(0)])  # vam-kenh is in xã Tân Đông, Gò Công Đông
    engine.dispatch()
    assert len(rec["gcd-office"].events) == 1
    assert rec["tpd-office"].events == []
    assert rec["province-duty"].events == []  # escalation only


def test_reminders_until_acknowledged_then_escalation(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, rec = setup(tmp_path, clock)
    engine.on_readings([salty(0)])
    for minute in range(15, 4 * 60, 15):  # it stays salty; the tick runs every 15 minutes
        clock.set(T0 + minute * M)
        engine.on_readings([salty(minute, 4.7)])
        engine.episodes.remind_and_escalate()
        engine.dispatch()
        if minute == 150:
            (alert,) = [a for a in engine.open_alerts() if a.rule == "salinity-river"]
            engine.acknowledge(alert.id, "Lan")
    office = rec["gcd-office"].events
    states = [(e["state"]) for e in office]
    # firing, reminder at 60 and 120 min, acknowledged at 150; no reminder after that
    assert states == ["firing", "firing", "firing", "acknowledged"]
    assert len(rec["province-duty"].events) == 1  # escalated once, after 30 min
    assert [e["state"] for e in rec["mqtt"].events] == ["firing", "acknowledged"]


def test_silence_mutes_then_expires(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, rec = setup(tmp_path, clock)
    engine.state.add_silence(
        Silence(
            "s1", "go-cong-dong", None, None, T0, T0 + 3600 * 10**9, "Lan", "sensor maintenance"
        )
    )
    engine.on_readings([salty(0)])
    engine.dispatch()
    assert rec["gcd-office"].events == [] and rec["mqtt"].events == []
    assert engine.state.expire_silence("s1", T0 + 10 * M)
    clock.set(T0 + 20 * M)
    engine.on_readings([salty(20, 0.3), salty(40, 0.3), salty(55, 0.3)])
    engine.on_readings([salty(70, 4.8, "hoa-binh")])  # another station, after the silence
    engine.dispatch()
    # vam-kenh's episode was silenced from its start: its end is not announced either;
    # hoa-binh (Chợ Gạo) is not the Gò Công Đông office's
    assert rec["gcd-office"].events == []
    assert [(e["device"], e["state"]) for e in rec["mqtt"].events] == [("hoa-binh", "firing")]


def test_the_same_notification_is_never_queued_twice(tmp_path: Path) -> None:
    clock = FakeClock(T0)
    engine, rec = setup(tmp_path, clock)
    engine.on_readings([salty(0)])
    (alert,) = engine.open_alerts()
    event_deliveries = engine.episodes.deliveries
    from saltwatch.alerts.model import Event  # noqa: PLC0415

    again = event_deliveries(Event(alert, "firing", T0), T0)
    engine.state.save([], again)  # queued a second time: ignored by the unique key
    engine.dispatch()
    assert len(rec["gcd-office"].events) == 1 and len(rec["mqtt"].events) == 1
