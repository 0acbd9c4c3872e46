"""How SaltWatch reaches an MQTT broker, in one place for ingest, the alert publisher and the
simulator: the URL (``mqtt://`` or ``mqtts://``, credentials percent-decoded, so a password
with ``@`` or ``:`` can be written), TLS with an optional private CA, and a client configured
from them. Nothing here connects: the caller starts the network loop.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from core.errors import ConfigError


@dataclass(frozen=True, slots=True)
class BrokerAddress:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None


def parse_mqtt_url(url: str) -> BrokerAddress:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError("mqtt.url must look like mqtt://[user:pass@]host[:port]")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        parts.hostname,
        parts.port or (8883 if tls else 1883),
        tls,
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password is not None else None,
    )


def configure(
    client: mqtt.Client,
    address: BrokerAddress,
    ca_file: str | Path | None = None,
    login: tuple[str, str] | None = None,
) -> None:
    """Credentials (``login`` before the URL's) and TLS (verified against ``ca_file`` when
    given, else the system's CAs) on a paho client."""
    username, password = login or (address.username, address.password)
    if username is not None:
        client.username_pw_set(username, password)
    if address.tls:
        client.tls_set_context(ssl.create_default_context(cafile=ca_file))
