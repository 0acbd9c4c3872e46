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
    result = run("check", env={"SALTWATCH_STORE__URL": f"sqlite:///{tmp_path}/r.db"})
    assert result.returncode == 0, result.stderr
    assert "16 wells, 60 taps" in result.stdout


def test_invalid_setting_is_named(tmp_path: Path) -> None:
    result = run("check", env={"SALTWATCH_MQTT__URL": "ftp://x"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "mqtt.url" in result.stderr and "SALTWATCH_MQTT__URL" in result.stderr
