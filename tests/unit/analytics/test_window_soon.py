"""An announced safe intake window opening soon (``intake-window-soon``): told once, shortly
before it opens, to the receivers that asked for it, and ended when it opens."""

from __future__ import annotations

from pathlib import Path

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.model import SOON_RULE, Alert, Fingerprint
from saltwatch.analytics.forecast_job import ForecastJob
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.settings import ReceiverSettings
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.sqlite import SqliteReadingStore
from tests.unit.alerts.test_routing import Recorder

H = 3600 * NS_PER_S
T0 = 1_710_226_800 * NS_PER_S
START = T0 + 3 * H  # the window opens three hours after T0, for four hours
RECEIVERS = [
    # asked for it: told, though it hears only of warnings otherwise
    ReceiverSettings(name="gate-keeper", type="log", min_severity="warning", windows_soon=True),
    # hears every notice, but did not ask for reminders
    ReceiverSettings(name="office", type="log", min_severity="info"),
    # asked, but for another zone
    ReceiverSettings(name="elsewhere", type="log", zones=["xa-tan-dong"], windows_soon=True),
]


def announced() -> Alert:
    """The window's notice as the alert state holds it (a restart in between)."""
    return Alert(
        "n1", Fingerprint("intake-window", "gia-thuan", str(START // NS_PER_S)), "intake-window",
        "intake_window", "gia-thuan", "xa-gia-thuan", "info", "firing", 4.0, 0.5, "h", START, T0,
    )  # fmt: skip


def test_a_window_opening_soon_is_told_to_who_asked_and_ends_when_it_opens(
    tmp_path: Path,
) -> None:
    clock = FakeClock(T0)
    recorders = {n: Recorder(f"receiver:{n}") for n in ("gate-keeper", "office", "elsewhere")}
    recorders["mqtt"] = Recorder("mqtt")
    rules = load_rules()
    assert rules.forecast.window_soon == 3600
    engine = AlertEngine(
        rules, load_registry(), SqliteAlertStore(tmp_path / "s.db"), clock,
        {r.channel: r for r in recorders.values()}, receivers=RECEIVERS,
    )  # fmt: skip
    store = SqliteReadingStore(tmp_path / "r.db")
    job = ForecastJob(
        store, engine.registry, lambda: rules, clock, open_notices=lambda: [announced()]
    )

    assert job.soon() == []  # three hours ahead: not soon yet
    clock.set(START - 30 * 60 * NS_PER_S)
    ((obs, zone),) = job.soon()
    assert obs.rule == SOON_RULE and obs.severity == "info" and zone is None
    assert obs.fingerprint == Fingerprint(SOON_RULE, "gia-thuan", str(START // NS_PER_S))
    assert obs.since_ns == START and obs.value == 4.0
    engine.observe([(obs, zone)])
    engine.dispatch()
    (told,) = recorders["gate-keeper"].events
    assert told["state"] == "firing" and "opens soon" in str(told["message_en"])
    assert "Sắp đến giờ lấy nước tại Cống Gia Thuận" in str(told["message_vi"])
    assert recorders["mqtt"].events and not recorders["office"].events
    assert not recorders["elsewhere"].events

    assert [o.severity for o, _ in job.soon()] == ["info"]  # still soon: the same notice
    engine.observe(job.soon())
    engine.dispatch()
    assert len(recorders["gate-keeper"].events) == 1

    clock.set(START + 60 * NS_PER_S)  # it opened
    ended = job.soon()
    assert [(o.fingerprint, o.severity) for o, _ in ended] == [(obs.fingerprint, None)]
    engine.observe(ended)
    assert not [a for a in engine.open_alerts() if a.rule == SOON_RULE]
    assert job.soon() == []
    store.close()


def test_a_soon_notice_open_before_a_restart_is_ended_after_it(tmp_path: Path) -> None:
    """The notice open in the alert state when the process restarted: ended once its window
    opened, by the job of the new process."""
    clock = FakeClock(START + H)
    told = announced()
    soon = Alert(
        "s1", Fingerprint(SOON_RULE, "gia-thuan", str(START // NS_PER_S)), SOON_RULE,
        "intake_window", "gia-thuan", "xa-gia-thuan", "info", "firing", 4.0, 0.5, "h", START,
        START - 1800 * NS_PER_S,
    )  # fmt: skip
    store = SqliteReadingStore(tmp_path / "r.db")
    job = ForecastJob(store, load_registry(), load_rules, clock, open_notices=lambda: [told, soon])
    assert [(o.fingerprint, o.severity) for o, _ in job.soon()] == [(soon.fingerprint, None)]
    store.close()
