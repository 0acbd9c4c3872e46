"""Shared fixtures: real influxd and mosquitto servers, started once per session or per test."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

_machine_monotonic = time.monotonic
_started = _machine_monotonic() - 1.0


def _monotonic_since_start() -> float:
    """``time.monotonic`` as on a machine booted a second ago: a test (or a product default) that
    reads it keeps no hidden dependency on how long this machine has been up."""
    return _machine_monotonic() - _started


# before any product module is imported, so default arguments bound at import see it too
time.monotonic = _monotonic_since_start

from harness.services import InfluxServer, MosquittoServer, binary  # noqa: E402

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def need_binary(name: str, package: str) -> None:
    """Skip locally when a server binary is missing; in CI that is a failure, never a skip."""
    if binary(name, "/usr/sbin", "/usr/bin") is None:
        message = f"{name} is missing: apt-get install {package}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    need_binary("influxd", "influxdb")
    server = InfluxServer(tmp_path_factory.mktemp("influxd"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def influx_db(influxd: InfluxServer) -> str:
    """A fresh database name per test (created on first write)."""
    return "t_" + uuid.uuid4().hex[:12]


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[MosquittoServer]:
    need_binary("mosquitto", "mosquitto")
    server = MosquittoServer(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def topic_prefix() -> str:
    """Every integration test gets its own topic prefix."""
    return "t" + uuid.uuid4().hex[:10]
