"""Device credentials: Mosquitto's $7$ hashes, keep-unless-rotate, the command's files."""

from __future__ import annotations

import csv
import io
import stat
from pathlib import Path

from saltwatch.core.registry import load_registry
from saltwatch.credentials import (
    BACKEND_USER,
    acl_text,
    generate,
    hash_password,
    read_password_file,
    verify_password,
)
from tests.unit.test_cli import run

# written by `mosquitto_passwd -b passwd dev1 secret` (mosquitto 2.0.11)
FROM_MOSQUITTO = (
    "$7$101$5AitAHwIm+333IBS$1v/m420y0ZmgvL+H0XCVkH6JZ48Z6dz8jvHsg93POgufEg9DpFbMzHLrTK//C0r1"
    "OXESuRypalAH4qnh5sYT5A=="
)


def test_hashes_are_mosquittos_own_format() -> None:
    assert verify_password("secret", FROM_MOSQUITTO)
    assert not verify_password("Secret", FROM_MOSQUITTO)
    salt = b"\xe4\x08\xad\x00|\x08\x9b\xed\xf7\xdc\x80R"  # the salt of the line above
    assert hash_password("secret", salt) == FROM_MOSQUITTO
    fresh = hash_password("pw")
    assert fresh.startswith("$7$101$") and verify_password("pw", fresh)
    assert hash_password("pw") != fresh  # a new salt each time
    for broken in ("", "$6$x$y", "$7$101$!!$!!", "$7$abc$AA==$AA=="):
        assert not verify_password("pw", broken)


def test_rerun_keeps_passwords_unless_rotated() -> None:
    registry = load_registry()
    stations = list(registry.devices_of("salinity"))
    first = generate(stations, {})
    assert sorted(first.created) == sorted([d.id for d in stations] + [BACKEND_USER])
    before = {x.device: x.password for x in first.logins}
    again = generate(stations, {x.device: x for x in first.logins})
    assert {x.device: x.password for x in again.logins} == before and not again.created
    one = generate(stations[:1], {x.device: x for x in first.logins}, rotate=[stations[0].id])
    after = {x.device: x.password for x in one.logins}
    assert one.rotated == [stations[0].id]
    assert after[stations[0].id] != before[stations[0].id]
    assert {k: v for k, v in after.items() if k != stations[0].id} == {
        k: v for k, v in before.items() if k != stations[0].id
    }  # naming one device never drops or re-keys the others
    assert len({x.password for x in first.logins}) == len(first.logins)


def test_acl_confines_devices_to_their_id() -> None:
    text = acl_text("sw")
    writes = [line for line in text.splitlines() if line.startswith("pattern write")]
    assert writes == [
        f"pattern write sw/{k}/%u" for k in ("salinity", "well", "tap", "gate", "hydro", "status")
    ]
    assert f"user {BACKEND_USER}\ntopic readwrite sw/#" in text
    readers = acl_text("sw", readers=["xa-tan-dong"])
    assert "user zone-xa-tan-dong\ntopic read sw/alerts/xa-tan-dong\n" in readers


def test_command_writes_files_and_keeps_passwords(tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    first = run("devices", "credentials", "--out", str(out))
    assert first.returncode == 0, first.stderr
    rows = list(csv.DictReader(io.StringIO(first.stdout)))
    assert len(rows) == 96 + 1 and {r["kind"] for r in rows} == {
        "salinity",
        "well",
        "tap",
        "gate",
        "hydro",
        "backend",
    }
    assert stat.S_IMODE((out / "devices.csv").stat().st_mode) == 0o600
    hashes = read_password_file(out / "passwd")
    assert all(verify_password(r["password"], hashes[r["username"]]) for r in rows)
    second = run("devices", "credentials", "--out", str(out), "vam-kenh")
    assert second.returncode == 0 and "0 created, 0 rotated" in second.stderr
    (row,) = csv.DictReader(io.StringIO(second.stdout))
    assert row["password"] == next(r["password"] for r in rows if r["device"] == "vam-kenh")
    rotated = run("devices", "credentials", "--out", str(out), "--rotate", "vam-kenh")
    (new,) = csv.DictReader(io.StringIO(rotated.stdout))
    assert new["password"] != row["password"]
    assert verify_password(new["password"], read_password_file(out / "passwd")["vam-kenh"])
    refused = run("devices", "credentials", "--out", str(out), "no-such-device")
    assert refused.returncode == 2 and "no-such-device" in refused.stderr
