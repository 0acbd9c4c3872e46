"""store.url parsing for InfluxDB and query quoting."""

from __future__ import annotations

import base64

import pytest

from saltwatch.core.errors import ConfigError
from saltwatch.core.schema import measurement_for
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.storage.influx import parse_influx_url
from saltwatch.storage.influx_lines import LineFormatter, to_line
from saltwatch.storage.influxql import quote_ident, quote_literal


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


NASTY = 'Cửa Tiểu, "nhánh" = 1 \\ it\'s\\'


@pytest.mark.parametrize(
    "reading",
    [
        Reading(
            TopicKind.SALINITY,
            "vam-kenh",
            10**18,
            {"salinity_ppt": 4.0, "temp_c": 29.25, "seq": 7},
            qc=3,
            zone=NASTY,
            river="tien",
        ),
        Reading(TopicKind.SALINITY, "a b,c=d", 1, {"salinity_ppt": 1e-7}, zone="z", river=NASTY),
        Reading(
            TopicKind.WELL,
            "w",
            5,
            {"running": False, "flow_m3h": 12.5, "fault": 'dry "x"\\'},
            zone="z",
        ),
        Reading(TopicKind.TAP, "t", 5, {"open": True, "volume_m3": 123456789.125}),
        Reading(TopicKind.SALINITY, "s", 5, {"salinity_ppt": 1.5, "source": "mrc-2024"}),
        Reading(TopicKind.WELL, "w", 5, {"running": True, "fault": "line\nbreak"}),
        Reading(TopicKind.SALINITY, "s", 5, {"salinity_ppt": 1.5, "temp_c": float("nan")}),
    ],
)
def test_fast_lines_equal_point_lines(reading: Reading) -> None:
    measurement = measurement_for(reading.kind)
    expected = to_line(reading, measurement)
    formatter = LineFormatter()
    got = formatter.line(reading, measurement)

    # the same content; Point sorts fields by name, the formatter keeps the reading's order
    def parts(line: str) -> tuple[str, set[str], str]:
        head, fields, ts = line.rsplit(" ", 2)
        return head, set(fields.split(",")), ts

    assert parts(got) == parts(expected)
    assert formatter.line(reading, measurement) == got  # from the cache
