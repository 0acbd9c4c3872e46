"""The short chaos soak (bench/soak.py) in the test suite: 200 devices for two minutes on a real
mosquitto, influxd and ``saltwatch serve``, one fault of each kind; nothing may be lost, stored
twice, missed, raised wrongly or told twice."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import need_binary

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(900)
def test_short_soak_accounts_for_every_reading() -> None:
    need_binary("mosquitto", "mosquitto")
    need_binary("influxd", "influxdb")
    result = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--duration", "120", "--devices", "200"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=880,
        check=False,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    table = dict(
        line.split("  ", 1)
        for line in result.stdout.splitlines()
        if "  " in line and line[0] != " "
    )
    assert table["LOST"].strip() == "0" and table["STORED TWICE"].strip() == "0"
    assert table["MISSED / SPURIOUS critical episodes"].strip() == "0 / 0"
    assert table["NOTIFICATIONS DECIDED TWICE (same alert, state, other time)"].strip() == "0"
    assert table["CRITICAL ALERTS NEVER TOLD"].strip() == "0"
    for fault in ("broker-restart", "influxd-outage", "serve-kill", "duplicates", "malformed"):
        assert fault in table["faults injected"]
    implied = int(table["critical salinity episodes implied / raised"].split("/")[0])
    assert implied > 0  # the scenario does raise critical episodes: the comparison means something
