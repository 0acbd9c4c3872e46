"""Disks that fill up, for real: a 2 MiB tmpfs mounted for each test, filled until the kernel
says ENOSPC, emptied again, and unmounted afterwards (the tests run as root, as CI does)."""

from __future__ import annotations

import errno
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.services import wait_until
from saltwatch.core.clock import FakeClock
from saltwatch.ingest.spool import Spool
from tests.alert_tools import api_context
from tests.unit.alerts.test_evaluate import T0, M, Recorder, engine, health_of, sal
from tests.unit.ingest.test_pipeline import FakeAcker, FakeStore, five_submitted

pytestmark = pytest.mark.integration


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, f"cannot mount a tmpfs (run as root): {done.stderr}"
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(disk: Path) -> Path:
    """Take every free byte of ``disk``; the filler file, to delete when space should return."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_under_the_alert_state_delays_alerts_and_loses_none(
    small_disk: Path, tmp_path: Path
) -> None:
    """The attack: a 9 ‰ reading on a full disk raised nothing anywhere, /health said ok, and
    nothing came once space returned. Now nothing is shown before it is saved, /health is
    degraded, every channel is told at once that the state cannot be saved, and the alert goes
    out when space returns."""
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(small_disk, clock, recorder)  # its state.db on the small disk
    filler = fill(small_disk)
    e.on_readings([sal("vam-kenh", 0, 9.0)])
    e.dispatch()
    assert e.open_alerts() == []
    assert not [ev for ev in recorder.events if ev["rule"] == "salinity-river"]
    wait_until(
        lambda: any(ev["rule"] == "alert-state-unsaved" for ev in recorder.events),
        10,
        "every channel told the alert state cannot be saved",
    )
    told = next(ev for ev in recorder.events if ev["rule"] == "alert-state-unsaved")
    assert told["state"] == "firing" and told["kind"] == "system"
    assert "không lưu được trạng thái cảnh báo" in str(told["message_vi"])
    health = health_of(e, tmp_path)
    assert health["status"] == "degraded" and health["alert_state_saved"] is False
    filler.unlink()  # space returns
    clock.set(T0 + 60 * 10**9)
    e.tick()
    e.dispatch()
    fired = [a for a in e.open_alerts() if a.rule == "salinity-river"]
    assert len(fired) == 1 and fired[0].severity == "critical" and fired[0].started_at_ns == T0
    assert any(ev["rule"] == "salinity-river" and ev["state"] == "firing" for ev in recorder.events)
    wait_until(
        lambda: any(
            ev["rule"] == "alert-state-unsaved" and ev["state"] == "resolved"
            for ev in recorder.events
        ),
        10,
        "the all-clear",
    )
    cleared = next(
        ev
        for ev in recorder.events
        if ev["rule"] == "alert-state-unsaved" and ev["state"] == "resolved"
    )
    assert re.search(
        r"\(\d+ lượt thay đổi đã chờ, nay được lưu và gửi\)", str(cleared["message_vi"])
    )
    assert float(str(cleared["value"])) >= 1  # how many sets of changes waited
    assert health_of(e, tmp_path)["alert_state_saved"] is True


def test_a_full_spool_disk_holds_acknowledgements_and_resumes(small_disk: Path) -> None:
    """Store down, spool disk full: nothing acknowledged (the broker keeps the messages), the
    pipeline goes on, nothing half-written stays; once there is space the batch is spooled and
    acknowledged."""
    store, acker = FakeStore(), FakeAcker()
    store.down = True
    spool = Spool(small_disk / "spool", 10**7)
    filler = fill(small_disk)
    pipeline = five_submitted(store, acker, spool)
    try:
        wait_until(lambda: spool.disk_full and store.calls >= 2, 10, "retries on a full disk")
        assert acker.acked == [] and pipeline.failure is None and pipeline.spool_disk_full
        assert not list((small_disk / "spool").glob("*.tmp"))
        filler.unlink()
        wait_until(lambda: len(acker.acked) == 5, 15, "acknowledged once there is space")
        assert spool.depth == 1 and not pipeline.spool_disk_full
    finally:
        pipeline.stop(5)


def remount(disk: Path, mode: str) -> None:
    done = subprocess.run(
        ["mount", "-o", f"remount,{mode}", str(disk)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


def test_a_read_only_spool_disk_holds_acknowledgements_like_a_full_one(small_disk: Path) -> None:
    """Serve exited at the first store outage when its spool's disk had turned read-only
    (EROFS on the temporary file); now it holds back as on a full disk, and goes on when the
    disk is writable again."""
    store, acker = FakeStore(), FakeAcker()
    store.down = True
    spool = Spool(small_disk / "spool", 10**7)
    Spool(small_disk / "spool" / "refused", 10**7)  # as the pipeline makes it, before the turn
    remount(small_disk, "ro")
    pipeline = five_submitted(store, acker, spool)
    try:
        try:
            wait_until(lambda: spool.disk_full and store.calls >= 2, 10, "retries, read-only")
            assert acker.acked == [] and pipeline.failure is None and pipeline.spool_disk_full
        finally:
            remount(small_disk, "rw")
        wait_until(lambda: len(acker.acked) == 5, 15, "acknowledged once it is writable")
        assert spool.depth == 1 and not pipeline.spool_disk_full and pipeline.failure is None
    finally:
        pipeline.stop(5)


def test_a_short_episode_while_the_state_is_unsaved_is_told_late_not_lost(
    small_disk: Path, tmp_path: Path
) -> None:
    """The attack: an intake station rose from 0.3 to 1.2 ‰ and fell back within 100 minutes
    while the alert state's disk was full; once space returned nothing of it was told (the
    judgement was made again on the now-fresh water). Now every change waits, in order, and
    goes out when space returns; /health counts what waits."""
    clock, recorder = FakeClock(T0), Recorder()
    e = engine(small_disk, clock, recorder)
    filler = fill(small_disk)
    for minute, ppt in ((0, 0.3), (10, 1.2), (20, 1.2), (40, 0.3), (80, 0.3), (100, 0.3)):
        clock.set(T0 + minute * M)
        e.on_readings([sal("xuan-hoa", minute, ppt)])
        e.tick()
    e.dispatch()
    assert not [ev for ev in recorder.events if ev["rule"] == "salinity-intake"]
    health = health_of(e, tmp_path)
    assert health["alert_state_saved"] is False and int(str(health["alert_changes_waiting"])) >= 2
    filler.unlink()
    clock.set(T0 + 101 * M)
    e.tick()
    e.dispatch()
    told = [(ev["state"], ev["at"]) for ev in recorder.events if ev["rule"] == "salinity-intake"]
    assert [state for state, _ in told] == ["firing", "resolved"], told
    assert not [a for a in e.open_alerts() if a.rule == "salinity-intake"]
    health = health_of(e, tmp_path)
    assert health["alert_state_saved"] is True and health["alert_changes_waiting"] == 0


def test_acknowledging_while_the_state_is_unsaved_is_a_503_in_json(
    small_disk: Path, tmp_path: Path
) -> None:
    """Acknowledging while the state disk was full answered 500 text/plain."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from saltwatch.api.app import create_app  # noqa: PLC0415
    from saltwatch.core.settings import ApiToken, Settings  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415
    from tests.alert_tools import audit_beside  # noqa: PLC0415

    clock, recorder = FakeClock(T0), Recorder()
    e = engine(small_disk, clock, recorder)
    e.on_readings([sal("vam-kenh", 0, 9.0)])
    (alert,) = [a for a in e.open_alerts() if a.rule == "salinity-river"]
    settings = Settings(api={"tokens": [ApiToken(role="operator", token="op-token-000000000")]})
    store = SqliteReadingStore(tmp_path / "readings.db")
    audit = audit_beside(e.state)
    app = create_app(api_context(settings, e.registry, store, e.state, e, audit=audit, clock=clock))
    filler = fill(small_disk)
    with TestClient(app, raise_server_exceptions=False) as client:
        client.headers["Authorization"] = "Bearer op-token-000000000"
        refused = client.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": "on my way"})
        assert refused.status_code == 503, refused.text
        assert refused.headers["content-type"].startswith("application/json")
        assert refused.headers["retry-after"]
        filler.unlink()
        done = client.post(f"/api/v1/alerts/{alert.id}/ack", json={"note": "on my way"})
        assert done.status_code == 200, done.text
        assert done.json()["state"] == "acknowledged"
    store.close()


def test_every_route_answers_json_and_never_a_500_while_the_state_disk_is_full(
    small_disk: Path, tmp_path: Path
) -> None:
    """The API with its alert state (alerts, audit log, issued bulletins) on a full disk: each
    route answers as usual where it only reads, and where it must write, a 503 with JSON and
    Retry-After, never a 500 (a bulletin issued now, an acknowledgement, a silence, a rules
    change)."""
    from fastapi.testclient import TestClient  # noqa: PLC0415

    from saltwatch.api.app import create_app  # noqa: PLC0415
    from saltwatch.core.settings import ApiToken, Settings  # noqa: PLC0415
    from saltwatch.storage.bulletin_sqlite import SqliteIssuedBulletins  # noqa: PLC0415
    from saltwatch.storage.schedule_sqlite import SqliteSchedules  # noqa: PLC0415
    from saltwatch.storage.sqlite import SqliteReadingStore  # noqa: PLC0415
    from tests.integration.test_security import ROUTES, TOKENS, call  # noqa: PLC0415

    clock, recorder = FakeClock(T0 + 2 * 86_400 * 10**9), Recorder()
    e = engine(small_disk, clock, recorder)  # its state.db on the small disk
    store = SqliteReadingStore(tmp_path / "readings.db")  # the readings' disk has room
    reading = sal("vam-kenh", 0, 5.0)
    store.write([reading])
    e.on_readings([reading])
    e.dispatch()
    (alert,) = e.open_alerts()
    tokens = [ApiToken(role=r, token=t) for r, t in TOKENS.items()]
    issued = SqliteIssuedBulletins(small_disk / "state.db")
    ctx = api_context(
        Settings(api={"tokens": tokens}), e.registry, store, e.state, e,
        clock=clock, issued=issued, schedules=SqliteSchedules(small_disk / "state.db"),
    )  # fmt: skip
    filler = fill(small_disk)
    ids = {"station": "vam-kenh", "alert_id": alert.id, "silence_id": "none", "share": "0" * 32}
    ids |= {"structure": "cong-xuan-hoa", "opening_id": "0" * 12, "lang": "vi"}
    answers: dict[str, int] = {}
    with TestClient(create_app(ctx)) as client:
        for method, path in sorted(ROUTES):
            if path.endswith("/stream") or path == "/metrics":
                continue
            response = call(client, method, path, TOKENS[ROUTES[(method, path)] or "admin"], ids)
            answers[f"{method} {path}"] = response.status_code
            assert response.status_code != 500, (method, path, response.text)
            if response.status_code == 204:
                continue  # no body (signing out)
            assert response.headers["content-type"].split(";")[0] in (
                "application/json", "text/html", "text/markdown", "text/csv", "text/plain",
            ), (method, path)  # fmt: skip
            if response.status_code == 503:
                assert response.json()["detail"] and response.headers["retry-after"].isdigit()
    # what must write could not: said as a 503, to try again
    for route in (
        "POST /api/v1/alerts/{alert_id}/ack",
        "POST /api/v1/silences",
        "PUT /api/v1/rules",
        "GET /api/v1/reports/daily",
    ):
        assert answers[route] == 503, (route, answers[route])
    assert answers["GET /api/v1/alerts"] == 200  # reading goes on
    filler.unlink()
    issued.close()
    store.close()
