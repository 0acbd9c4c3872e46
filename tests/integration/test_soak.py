"""The short chaos soak (bench/soak.py) in the test suite: 200 devices for two minutes on a real
mosquitto, influxd and ``saltwatch serve``, one fault of each kind; nothing may be lost, stored
twice, missed, raised wrongly or told twice."""

from __future__ import annotations

import pytest

from bench.soak import SoakOptions, run_soak
from tests.conftest import need_binary

pytestmark = pytest.mark.integration


@pytest.mark.timeout(900)
def test_short_soak_accounts_for_every_reading() -> None:
    need_binary("mosquitto", "mosquitto")
    need_binary("influxd", "influxdb")
    outcome = run_soak(SoakOptions(duration=120, devices=200))
    assert outcome.lost == 0 and outcome.stored_twice == 0
    assert (outcome.missed, outcome.spurious) == (0, 0)
    assert outcome.decided_twice == 0
    assert outcome.never_told == 0
    for fault in ("broker-restart", "influxd-outage", "serve-kill", "duplicates", "malformed"):
        assert fault in outcome.faults
    assert outcome.critical_implied > 0  # the scenario does raise critical episodes
