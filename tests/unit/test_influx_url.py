"""store.url parsing for InfluxDB and query quoting."""

from __future__ import annotations

import base64

import pytest

from core.errors import ConfigError
from storage.influx import parse_influx_url, quote_ident, quote_literal


def test_token_url() -> None:
    target = parse_influx_url("influxdbs://my%2Btoken%3D%3D@db.example:9999/saltwatch")
    assert target.base_url == "https://db.example:9999"
    assert target.database == "saltwatch"
    assert target.headers == {"Authorization": "Token my+token=="}


def test_user_password_url() -> None:
    target = parse_influx_url("influxdb://user:p%40ss@127.0.0.1/sw")
    assert target.base_url == "http://127.0.0.1:8086"
    expected = base64.b64encode(b"user:p@ss").decode()
    assert target.headers == {"Authorization": f"Basic {expected}"}


@pytest.mark.parametrize("url", ["influxdb://host:8086", "influxdb://host:8086/a/b", "http://h/x"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ConfigError):
        parse_influx_url(url)


def test_quoting() -> None:
    assert quote_literal("it's \\ x\n") == "'it\\'s \\\\ x\\n'"
    assert quote_ident('we"ird') == '"we\\"ird"'
