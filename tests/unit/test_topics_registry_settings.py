"""Topics, the registry and settings: formats, validation and precise errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from saltwatch.core.errors import BadInputError, ConfigError
from saltwatch.core.registry import Registry, load_registry
from saltwatch.core.settings import load_settings
from saltwatch.core.timeutil import VN_TZ, parse_duration, to_rfc3339
from saltwatch.core.topics import TopicKind, format_topic, parse_topic, subscription


def test_topic_format_and_parse() -> None:
    topic = format_topic("saltwatch", TopicKind.SALINITY, "vam-kenh")
    assert topic == "saltwatch/salinity/vam-kenh"
    parsed = parse_topic("saltwatch", topic)
    assert (parsed.kind, parsed.ident) == (TopicKind.SALINITY, "vam-kenh")
    assert subscription("saltwatch", TopicKind.WELL, "grp") == "$share/grp/saltwatch/well/+"


@pytest.mark.parametrize(
    "ident", ["", "A", "-x", "a/b", "a+", "#", "a" * 65, "vàm", "a b", "a\x00"]
)
def test_ids_outside_the_pattern_never_become_topics(ident: str) -> None:
    with pytest.raises(BadInputError):
        format_topic("saltwatch", TopicKind.ALERTS, ident)


def test_bundled_registry_has_the_seed_counts_and_tree() -> None:
    reg = load_registry()
    kinds = [d.kind for d in reg.devices.values()]
    assert (kinds.count("well"), kinds.count("tap")) == (16, 60)
    assert kinds.count("salinity") >= 10
    wells_and_taps = [d for d in reg.devices.values() if d.kind in ("well", "tap")]
    assert {reg.ancestors(d.zone)[0] for d in wells_and_taps} == {"go-cong-dong", "tan-phu-dong"}
    assert reg.ancestors("xa-tan-hoa") == ["go-cong-dong", "dong-thap"]
    assert set(reg.descendants("tan-phu-dong")) == {"xa-tan-thoi", "xa-tan-phu-dong"}
    xuan_hoa = reg.device("xuan-hoa")
    assert xuan_hoa is not None and xuan_hoa.km == 42.0
    assert "ngot-hoa-go-cong" in reg.alert_zones(xuan_hoa)
    kms = [d.km or 0.0 for d in reg.stations_on("tien")]
    assert kms == sorted(kms) and len(kms) >= 8


BASE: dict[str, object] = {
    "zone": [{"id": "p", "name": "P", "kind": "province"}],
    "river": [{"id": "r", "name": "R"}],
}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"zone": [{"id": "c", "name": "C", "kind": "commune", "parent": "nowhere"}]},
            "unknown parent zone 'nowhere'",
        ),
        ({"zone": [{"id": "p", "name": "again", "kind": "province"}]}, "duplicate zone id 'p'"),
        (
            {"device": [{"id": "s", "kind": "salinity", "name": "S", "profile": "river"}]},
            "device 's'.zone: Field required",
        ),
        (
            {
                "device": [
                    {"id": "s", "kind": "salinity", "name": "S", "zone": "x", "profile": "river"}
                ]
            },
            "unknown zone 'x'",
        ),
        (
            {"device": [{"id": "s", "kind": "salinity", "name": "S", "zone": "p"}]},
            "needs a profile",
        ),
        ({"device": [{"id": "S!", "kind": "tap", "name": "S", "zone": "p"}]}, "device 'S!'.id"),
        ({"device": [{"id": "p", "kind": "tap", "name": "P", "zone": "p"}]}, "the id of a zone"),
        (
            {
                "device": [
                    {
                        "id": "s",
                        "kind": "salinity",
                        "name": "S",
                        "zone": "p",
                        "profile": "river",
                        "river": "nile",
                    }
                ]
            },
            "unknown river 'nile'",
        ),
    ],
)
def test_registry_errors_are_precise(extra: dict[str, list[object]], message: str) -> None:
    data = {key: list(value) for key, value in BASE.items()}  # type: ignore[call-overload]
    for key, items in extra.items():
        data.setdefault(key, []).extend(items)
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Registry.from_dict(data)


def test_registry_cycle_is_refused() -> None:
    data = {
        "zone": [
            {"id": "a", "name": "A", "kind": "district", "parent": "b"},
            {"id": "b", "name": "B", "kind": "district", "parent": "a"},
        ]
    }
    with pytest.raises(ConfigError, match="loops"):
        Registry.from_dict(data)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_registry(tmp_path / "nope.toml")


def test_settings_from_env_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "saltwatch.toml"
    config.write_text(
        '[store]\nurl = "influxdb://tok@db:8086/saltwatch"\n'
        '[ingest]\nmax_backfill = "7d"\nbatch_size = 100\n'
    )
    monkeypatch.setenv("SALTWATCH_INGEST__BATCH_SIZE", "250")
    monkeypatch.setenv("SALTWATCH_API__TOKENS", '[{"role": "viewer", "token": "0123456789abcdef"}]')
    settings = load_settings(config)
    assert settings.store.url == "influxdb://tok@db:8086/saltwatch"
    assert settings.ingest.max_backfill_s == 7 * 86400
    assert settings.ingest.batch_size == 250  # the environment wins over the file
    assert settings.api.tokens[0].role == "viewer"
    assert "0123456789abcdef" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "value", "expected"),
    [
        ("SALTWATCH_MQTT__URL", "http://broker", "mqtt.url"),
        ("SALTWATCH_STORE__URL", "postgres://x", "store.url"),
        ("SALTWATCH_INGEST__BATCH_SIZE", "0", "ingest.batch_size"),
        ("SALTWATCH_INGEST__MAX_BACKFILL", "soon", "ingest.max_backfill"),
        ("SALTWATCH_API__BIND", "everywhere", "api.bind"),
        ("SALTWATCH_API__TOKENS", '[{"role": "god", "token": "0123456789abcdef"}]', "api.tokens"),
    ],
)
def test_invalid_settings_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert expected in str(info.value)
    assert env.split("__", maxsplit=1)[0] in str(info.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load_settings(tmp_path / "none.toml")


def test_durations_and_times() -> None:
    assert [parse_duration(x) for x in ("15m", "1h", "1d", "30s", "2w")] == [
        900,
        3600,
        86400,
        30,
        1209600,
    ]
    for bad in ("", "0m", "15", "1.5h", "1y", "-1h", "15m; DROP"):
        with pytest.raises(BadInputError):
            parse_duration(bad)
    assert to_rfc3339(1_710_226_800 * 10**9, VN_TZ) == "2024-03-12T14:00:00+07:00"
