"""The installed console script answers --help and validates settings."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(sys.executable).with_name("saltwatch")


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        cwd=cwd,
    )


def test_help_lists_commands() -> None:
    result = run("--help")
    assert result.returncode == 0
    for command in ("check", "registry"):
        assert command in result.stdout


def test_check_reports_registry_and_store(tmp_path: Path) -> None:
    env = {
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/r.db",
        "SALTWATCH_INGEST__SPOOL_PATH": str(tmp_path / "spool"),
        "SALTWATCH_STATE__PATH": str(tmp_path / "state" / "state.db"),
    }
    result = run("check", env=env)
    assert result.returncode == 0, result.stderr
    assert "16 wells, 60 taps" in result.stdout and "spool folder" in result.stdout
    # a spool that cannot be written (here: below a file) fails the check, saying so
    (tmp_path / "a-file").write_text("")
    env["SALTWATCH_INGEST__SPOOL_PATH"] = str(tmp_path / "a-file" / "spool")
    bad = run("check", env=env)
    assert bad.returncode == 1 and "CANNOT BE WRITTEN" in bad.stderr


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    result = run("check", env={"SALTWATCH_MQTT__URL": "ftp://x"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "mqtt.url" in result.stderr and "SALTWATCH_MQTT__URL" in result.stderr


def test_report_on_a_fresh_install(tmp_path: Path) -> None:
    env = {
        "SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/r.db",
        "SALTWATCH_STATE__PATH": str(tmp_path / "state.db"),
    }
    out = tmp_path / "reports"
    result = run(
        "report", "--date", "2024-03-12", "--zone", "go-cong-dong", "--out", str(out), env=env
    )
    assert result.returncode == 0, result.stderr
    stem = out / "bulletin-2024-03-12-go-cong-dong"
    page = stem.with_suffix(".html").read_text()
    assert "Bản tin xâm nhập mặn ngày 12/03/2024 — Gò Công Đông" in page
    assert "không có số liệu" in page  # nothing stored yet: said so, not an error
    assert stem.with_suffix(".png").read_bytes().startswith(b"\x89PNG")
    assert "bulletin-2024-03-12-go-cong-dong.png" in stem.with_suffix(".md").read_text()
    english = run("report", "--date", "2024-03-12", "--lang", "en", "--out", str(out), env=env)
    assert english.returncode == 0, english.stderr
    page = (out / "bulletin-2024-03-12-en.html").read_text()
    assert '<html lang="en">' in page and "Saltwater intrusion bulletin for 2024-03-12" in page
    assert "Salinity at the stations" in page and "no data" in page and "Độ mặn" not in page
    refused = run("report", "--date", "12/03/2024", env=env)
    assert refused.returncode == 2 and "YYYY-MM-DD" in refused.stderr
