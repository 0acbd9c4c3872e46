"""The alert store's contract, on its SQLite adapter: filters, paging and time ranges answered
in SQL, any age, with the true total; an older file is taken up with its new columns filled."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from saltwatch.alerts.model import Alert, Delivery, Event, Fingerprint, group_of
from saltwatch.alerts.store import AlertQuery
from saltwatch.storage.alert_sqlite import SqliteAlertStore

H = 3600 * 10**9
T0 = 1_700_000_000 * 10**9
ZONES = ["xa-tan-dong", "xa-gia-thuan", "cho-gao", "go-cong-dong"]
KINDS = ["salinity", "nodata", "well", "saltfront"]
STATES = ["firing", "acknowledged", "resolved"]


def alerts(n: int, seed: int = 1) -> list[Alert]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        start = T0 + rng.randrange(0, 400 * 24) * H  # over more than a year
        state = rng.choice(STATES)
        out.append(
            Alert(
                id=f"a{i:06d}",
                fingerprint=Fingerprint("r", str(i)),
                rule="r",
                kind=rng.choice(KINDS),
                device=None,
                zone=rng.choice(ZONES),
                severity=rng.choice(["info", "warning", "critical"]),
                state=state,  # type: ignore[arg-type]
                value=None,
                threshold=None,
                unit="",
                started_at_ns=start,
                updated_at_ns=start + i,
                resolved_at_ns=start + 5 * H if state == "resolved" else None,
            )
        )
    return out


def expected(all_: list[Alert], q: AlertQuery) -> list[Alert]:
    def keep(a: Alert) -> bool:
        return (
            (q.zones is None or a.zone in q.zones)
            and (q.state is None or a.state == q.state)
            and (q.severity is None or a.severity == q.severity)
            and (q.kind is None or a.kind == q.kind)
            and (q.until_ns is None or a.started_at_ns < q.until_ns)
            and (q.since_ns is None or a.resolved_at_ns is None or a.resolved_at_ns >= q.since_ns)
        )

    return sorted(filter(keep, all_), key=lambda a: (-a.updated_at_ns, a.id))


@pytest.fixture
def store(tmp_path: Path) -> SqliteAlertStore:
    return SqliteAlertStore(tmp_path / "state.db")


def test_filters_paging_and_time_ranges_in_sql(store: SqliteAlertStore) -> None:
    every = alerts(12_000)  # more than the 10,000 the list used to load and cap at
    store.save([(None, a) for a in every], [])
    queries = [
        AlertQuery(limit=50),
        AlertQuery(zones=frozenset({"cho-gao"}), limit=20, offset=40),
        AlertQuery(state="firing", severity="critical", kind="salinity", limit=500),
        AlertQuery(since_ns=T0 + 100 * 24 * H, until_ns=T0 + 130 * 24 * H, limit=500),
        AlertQuery(zones=frozenset({"xa-tan-dong", "xa-gia-thuan"}), state="resolved", limit=7),
    ]
    for q in queries:
        want = expected(every, q)
        got, total = store.query(q)
        assert total == len(want), q
        assert [a.id for a in got] == [a.id for a in want[q.offset : q.offset + q.limit]], q
    _, total = store.query(AlertQuery(limit=1))
    assert total == 12_000


def test_a_file_from_before_the_columns_is_taken_up(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE alerts (id TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, state TEXT NOT NULL,"
        " updated_at INTEGER NOT NULL, data BLOB NOT NULL)"
    )
    import dataclasses  # noqa: PLC0415

    import orjson  # noqa: PLC0415

    (a,) = alerts(1)
    old.execute(
        "INSERT INTO alerts VALUES (?, ?, ?, ?, ?)",
        (
            a.id,
            str(a.fingerprint),
            a.state,
            a.updated_at_ns,
            # as written then: the fingerprint as its text
            orjson.dumps({**dataclasses.asdict(a), "fingerprint": str(a.fingerprint)}),
        ),
    )
    old.commit()
    old.close()
    store = SqliteAlertStore(path)
    got, total = store.query(AlertQuery(zones=frozenset({a.zone}), kind=a.kind))
    assert total == 1 and got == [a]


def test_a_fingerprint_whose_subject_holds_a_colon_comes_back_whole(tmp_path: Path) -> None:
    """A failing channel ``receiver:ops`` is the subject of its alert: the stored alert and its
    queued event come back with the same fingerprint, so its group and the channels it is kept
    from stay the same after a restart."""
    fp = Fingerprint("notifier-failing", "receiver:ops")
    a = Alert(
        "a1", fp, "notifier-failing", "system", None, "root", "warning", "firing",
        None, None, "", T0, T0,
    )  # fmt: skip
    SqliteAlertStore(tmp_path / "s.db").save(
        [(None, a)], [Delivery("mqtt", Event(a, "firing", T0), "k1")]
    )
    reopened = SqliteAlertStore(tmp_path / "s.db")
    assert reopened.open_alerts() == {fp: a}
    assert group_of(reopened.open_alerts()[fp]) == "notifier:receiver:ops"
    ((_, event),) = reopened.unsent("mqtt")
    assert event.alert == a
