"""Credentials from store.url against a real influxd with authentication on."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.services import InfluxServer, free_port
from saltwatch.core.errors import AuthError, RetryableError
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.influx import InfluxReadingStore
from tests.conftest import need_binary

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def secured_influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InfluxServer]:
    need_binary("influxd", "influxdb")
    server = InfluxServer(tmp_path_factory.mktemp("influxd-auth"), auth=True)
    server.start()
    created = server.query("CREATE USER \"admin\" WITH PASSWORD 's3cr:t@pw' WITH ALL PRIVILEGES")
    assert created.status_code == 200, created.text
    yield server
    server.stop()


def test_user_and_password_from_the_url(secured_influxd: InfluxServer) -> None:
    store = InfluxReadingStore(secured_influxd.store_url("sw", "admin:s3cr%3At%40pw"))
    reading = Reading(TopicKind.SALINITY, "a", 10**18, {"salinity_ppt": 1.0}, zone="z")
    store.write([reading])
    assert store.count(TopicKind.SALINITY) == 1
    store.close()


@pytest.mark.parametrize("credentials", ["admin:wrong", "", "sometoken"])
def test_refused_credentials_are_fatal_not_retried(
    secured_influxd: InfluxServer, credentials: str
) -> None:
    store = InfluxReadingStore(secured_influxd.store_url("sw", credentials))
    with pytest.raises(AuthError):
        store.write([Reading(TopicKind.SALINITY, "a", 10**18, {"salinity_ppt": 1.0})])
    store.close()


def test_unreachable_store_is_retryable() -> None:
    store = InfluxReadingStore(f"influxdb://127.0.0.1:{free_port()}/x", timeout_s=1)
    assert store.ping() is False
    with pytest.raises(RetryableError):
        store.write([Reading(TopicKind.SALINITY, "a", 10**18, {"salinity_ppt": 1.0})])
