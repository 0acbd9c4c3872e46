"""Typed settings, one section per component (docs/interface.md §6).

Sources, highest priority first: environment variables ``SALTWATCH_<SECTION>__<NAME>``, then the
TOML file given by ``--config``, then the defaults below. Invalid settings fail at start with a
``ConfigError`` that names the setting and its environment variable.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from saltwatch.core.codec import DEFAULT_LIMITS
from saltwatch.core.errors import BadInputError, ConfigError
from saltwatch.core.qc import QcConfig
from saltwatch.core.sources import SourceSettings
from saltwatch.core.store import parse_store_url
from saltwatch.core.timeutil import duration_seconds
from saltwatch.core.topics import check_prefix, is_valid_id

ENV_PREFIX = "SALTWATCH_"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def default_of(section: type[BaseModel], name: str) -> Any:
    """A setting's default, for a component's own default argument: each default is written
    once, here (tests/unit/test_layers.py holds it)."""
    return section.model_fields[name].get_default(call_default_factory=True)


class MqttSettings(_Section):
    url: str = Field("mqtt://127.0.0.1:1883", description="mqtt://user:pass@host:port or mqtts://")
    topic_prefix: str = "saltwatch"
    client_id: str = Field("saltwatch-ingest", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    #: each connection logs in under its client id (the URL's password): for a broker that binds
    #: client ids to logins (use_username_as_clientid), so no login can take over another's
    login_as_client_id: bool = False
    share_group: str | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)
    ca_file: Path | None = None
    #: ingest reads PUBLISH packets in bulk and acknowledges a batch in one write (ingest/mqtt.py);
    #: false: paho's own path, a message and an acknowledgement at a time (slower, no internals)
    fast_path: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ValueError("must look like mqtt://[user:pass@]host[:port] or mqtts://…")
        _ = parts.port  # raises ValueError for a bad port
        return value

    @field_validator("topic_prefix")
    @classmethod
    def _prefix(cls, value: str) -> str:
        try:
            return check_prefix(value)
        except BadInputError as exc:
            raise ValueError(str(exc)) from None

    @field_validator("share_group")
    @classmethod
    def _group(cls, value: str | None) -> str | None:
        if value is not None and not is_valid_id(value):
            raise ValueError("share group must match [a-z0-9][a-z0-9_-]{0,63}")
        return value


class StoreSettings(_Section):
    url: str = Field("sqlite:///data/readings.db", description="influxdb(s)://… or sqlite:///path")
    timeout_s: float = Field(10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            parse_store_url(value)
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("store.url").lstrip(": ")) from None
        return value


class StateSettings(_Section):
    path: Path = Path("data/state.db")


class RegistrySettings(_Section):
    path: Path | None = Field(None, description="registry TOML; the bundled one when unset")


class ApiToken(_Section):
    role: Literal["viewer", "operator", "admin"]
    token: str = Field(min_length=16, repr=False)
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_.@-]{1,64}$")

    @property
    def label(self) -> str:
        """Who acts with this token (docs/interface.md): its name, else ``token-`` and the first 4
        hex digits of its SHA-256."""
        return self.name or f"token-{hashlib.sha256(self.token.encode()).hexdigest()[:4]}"


class ApiSettings(_Section):
    tokens: list[ApiToken] = []
    bind: str = "127.0.0.1:8000"
    #: serve HTTPS with this certificate and key (PEM files); else plain HTTP, fit for loopback
    #: or behind a TLS reverse proxy (docs/deploy.md)
    tls_cert: Path | None = None
    tls_key: Path | None = None
    #: the address people reach SaltWatch at (https://saltwatch.example.vn): links in what is
    #: sent out (the weekly bulletin's) start with it; unset, they are paths only
    public_url: str | None = Field(None, pattern=r"^https?://[^\s/]+(/[^\s]*)?$")

    @model_validator(mode="after")
    def _tls_pair(self) -> ApiSettings:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("tls_cert and tls_key go together: give both or neither")
        return self

    @field_validator("bind")
    @classmethod
    def _bind(cls, value: str) -> str:
        if re.fullmatch(r"[A-Za-z0-9_.:\[\]-]+:\d{1,5}", value) is None:
            raise ValueError("must be host:port, e.g. 127.0.0.1:8000")
        return value


class IngestSettings(_Section):
    accept_unknown: bool = False
    # the codec's limits are defined with the codec (core/codec.py CodecLimits)
    max_backfill_s: float = Field(DEFAULT_LIMITS.max_backfill_s, gt=0, alias="max_backfill")
    max_future_s: float = Field(DEFAULT_LIMITS.max_future_s, ge=0, alias="max_future")
    max_payload_bytes: int = Field(DEFAULT_LIMITS.max_payload_bytes, ge=256, le=16 * 1024 * 1024)
    max_items: int = Field(DEFAULT_LIMITS.max_items, ge=1)
    batch_size: int = Field(5_000, ge=1, le=100_000)
    batch_interval_s: float = Field(0.2, gt=0, le=60, alias="batch_interval")
    max_unacked: int = Field(20_000, ge=1)
    spool_path: Path = Path("data/spool")
    spool_max_bytes: int = Field(1024 * 1024 * 1024, ge=1024 * 1024)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _durations = field_validator(
        "max_backfill_s", "max_future_s", "batch_interval_s", mode="before"
    )(duration_seconds)


_QC = QcConfig()  # quality control's thresholds are defined with it (core/qc.py)


class QcSettings(_Section):
    plausible_max_ppt: float = Field(_QC.plausible_max, gt=0)
    spike_abs_ppt: float = Field(_QC.spike_abs, gt=0)
    spike_rel: float = Field(_QC.spike_rel, gt=0)
    flatline_count: int = Field(_QC.flatline_count, ge=3)
    max_rate_ppt_per_h: float = Field(_QC.max_rate_per_h, gt=0)
    low_battery_v: float = Field(_QC.low_battery_v, ge=0)

    def to_config(self) -> QcConfig:
        return QcConfig(
            plausible_max=self.plausible_max_ppt,
            spike_abs=self.spike_abs_ppt,
            spike_rel=self.spike_rel,
            flatline_count=self.flatline_count,
            max_rate_per_h=self.max_rate_ppt_per_h,
            low_battery_v=self.low_battery_v,
        )


class ReceiverSettings(_Section):
    """Who is told: a webhook, an e-mail list or the log, for some zones, from some severity."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    type: Literal["webhook", "email", "log"]
    zones: list[str] = Field(default_factory=list, description="empty: every zone")
    min_severity: Literal["info", "warning", "critical"] = "warning"
    escalation_only: bool = False  # told only of critical alerts nobody acknowledged in time
    bulletins: bool = False  # also sent the weekly bulletin (its title and link) when issued
    #: also told when an announced safe intake window opens soon (rule intake-window-soon,
    #: forecast.window_soon ahead); otherwise that notice goes to MQTT and the dashboard only
    windows_soon: bool = False
    url: str | None = None
    secret: str | None = Field(None, repr=False)
    to: list[str] = Field(default_factory=list)
    #: a webhook's body as a sandboxed Jinja2 template of the event (an SMS or Zalo gateway);
    #: unset: the event's JSON. ``template_path`` reads it from a file instead.
    template: str | None = None
    template_path: Path | None = None
    content_type: str = Field("application/json", pattern=r"^[\w.+-]+/[\w.+-]+(; ?[\w-]+=[\w-]+)?$")
    #: extra request headers (a gateway's API key); values are not logged
    headers: dict[str, str] = Field(default_factory=dict, repr=False)


class SmtpSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(587, ge=1, le=65535)
    username: str | None = None
    password: str | None = Field(None, repr=False)
    starttls: bool = True
    sender: str = "saltwatch@localhost"
    timeout_s: float = Field(10.0, gt=0)


class AlertsSettings(_Section):
    rules_path: Path | None = Field(None, description="rules TOML; the bundled one when unset")
    tick_s: float = Field(15.0, gt=0, le=3600)
    #: how often the salt front is recomputed (daily history, risk level and advance alerts)
    saltfront_s: float = Field(300.0, gt=0, le=86400, alias="saltfront_every")
    #: how often every station's 48 h forecast is refitted (forecast and intake window alerts)
    forecast_s: float = Field(3600.0, gt=0, le=86400, alias="forecast_every")
    client_id: str = Field("saltwatch-alerts", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    repeat_s: float = Field(4 * 3600, ge=0, alias="repeat")  # 0: no reminders
    escalate_after_s: float = Field(1800, ge=0, alias="escalate_after")  # 0: no escalation
    #: how long the broker may be lost, the store down or ingest stalled before a system alert
    system_after_s: float = Field(60.0, gt=0, alias="system_after")
    spool_growing_after_s: float = Field(600.0, gt=0, alias="spool_growing_after")
    #: a receiver failing this long raises a notifier-failing system alert
    notifier_failing_after_s: float = Field(900.0, gt=0, alias="notifier_failing_after")
    receivers: list[ReceiverSettings] = Field(default_factory=list)
    smtp: SmtpSettings = SmtpSettings()

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _durations = field_validator(
        "repeat_s",
        "escalate_after_s",
        "saltfront_s",
        "forecast_s",
        "system_after_s",
        "spool_growing_after_s",
        "notifier_failing_after_s",
        mode="before",
    )(duration_seconds)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True
    )

    mqtt: MqttSettings = MqttSettings()
    store: StoreSettings = StoreSettings()
    state: StateSettings = StateSettings()
    registry: RegistrySettings = RegistrySettings()
    api: ApiSettings = ApiSettings()
    ingest: IngestSettings = IngestSettings()
    qc: QcSettings = QcSettings()
    alerts: AlertsSettings = AlertsSettings()
    #: other ways readings arrive: files, LoRaWAN network servers (docs/sources.md)
    sources: list[SourceSettings] = Field(default_factory=list)

    @field_validator("sources")
    @classmethod
    def _one_name_each(cls, value: list[SourceSettings]) -> list[SourceSettings]:
        names = [s.name for s in value]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"source names must differ: {', '.join(twice)} given twice")
        return value

    def source(self, name: str) -> SourceSettings:
        """The source called ``name``; BadInputError naming those there are."""
        for source in self.sources:
            if source.name == name:
                return source
        there = ", ".join(s.name for s in self.sources) or "none configured"
        raise BadInputError(f"no source {name!r} in the settings ({there})")


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Build the settings from the environment, an optional TOML file and explicit overrides."""
    if config_file is not None and not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")

    class _FromSources(Settings):
        @classmethod
        def settings_customise_sources(
            cls,
            settings_cls: type[BaseSettings],
            init_settings: PydanticBaseSettingsSource,
            env_settings: PydanticBaseSettingsSource,
            dotenv_settings: PydanticBaseSettingsSource,
            file_secret_settings: PydanticBaseSettingsSource,
        ) -> tuple[PydanticBaseSettingsSource, ...]:
            sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
            if config_file is not None:
                sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
            return tuple(sources)

    try:
        loaded = _FromSources(**overrides)
    except ValidationError as exc:
        raise ConfigError(describe_errors(exc, config_file)) from None
    except ValueError as exc:  # TOML syntax errors and undecodable environment values
        raise ConfigError(f"invalid settings: {exc}") from None
    return loaded


def describe_errors(exc: ValidationError, config_file: Path | None) -> str:
    lines = ["invalid settings:"]
    for error in exc.errors():
        loc = [str(p) for p in error["loc"] if not str(p).isdigit()]
        dotted = ".".join(loc) or "(root)"
        env = ENV_PREFIX + "__".join(part.upper() for part in loc[:2])
        where = f"{env} or [{loc[0]}] {'.'.join(loc[1:])} in {config_file}" if config_file else env
        lines.append(f"  {dotted}: {error['msg']} (set by {where})")
    return "\n".join(lines)
