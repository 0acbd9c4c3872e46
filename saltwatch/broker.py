"""The demo's embedded MQTT broker: amqtt on its own asyncio loop in a thread, loopback only.

Devices log in with the passwords of ``saltwatch devices credentials`` (the same ``$7$`` password
file Mosquitto reads), connect with their login as client id (as Mosquitto's
``use_username_as_clientid`` makes them) and may publish only below their own id, as Mosquitto's
ACL ``pattern write <prefix>/+/%u`` says; the backend account reads and writes everything. A
packet larger than ingest accepts (plus its topic) is not read: its sender is disconnected at the
header, where Mosquitto's ``message_size_limit`` would drop and acknowledge it. Enough for a
demonstration on one machine (about 1,500 messages/s), not for production: use Mosquitto.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amqtt.broker import Broker
from amqtt.contexts import Action
from amqtt.mqtt.packet import MQTTFixedHeader
from amqtt.plugins.base import BaseAuthPlugin, BaseTopicPlugin
from amqtt.session import Session
from paho.mqtt.client import topic_matches_sub

from saltwatch.core.errors import FatalError
from saltwatch.credentials import BACKEND_USER, DEVICE_KINDS, read_password_file, verify_password

log = logging.getLogger("saltwatch.broker")


class PasswordFileAuth(BaseAuthPlugin):  # type: ignore[misc]  # amqtt is untyped
    """Logins checked against a Mosquitto ``$7$`` password file; anonymous refused."""

    @dataclass
    class Config:
        password_file: str = ""

    def __init__(self, context: Any) -> None:
        super().__init__(context)
        self._users = read_password_file(Path(self.config.password_file))
        self._cache: dict[tuple[str, str], bool] = {}  # PBKDF2 once per login, not per connect

    async def authenticate(self, *, session: Session) -> bool | None:
        user, password = session.username, session.password
        if not user or password is None or user not in self._users:
            log.warning("refused a login as %r", (user or "")[:64])
            return False
        if user not in (BACKEND_USER, session.client_id):
            # a client id is its login: no login takes over another's session (the backend's)
            log.warning("refused %r connecting with another client id", user[:64])
            return False
        key = (user, password)
        if key not in self._cache:
            self._cache[key] = verify_password(password, self._users[user])
        if not self._cache[key]:
            log.warning("refused a login as %r: wrong password", user[:64])
        return self._cache[key]


class DeviceTopicAcl(BaseTopicPlugin):  # type: ignore[misc]
    """Devices publish to ``<prefix>/<kind>/<their id>`` only, and subscribe to nothing; the
    backend account may do anything below ``<prefix>/``."""

    @dataclass
    class Config:
        topic_prefix: str = "saltwatch"
        backend_user: str = BACKEND_USER
        #: a LoRaWAN network server's login → the uplink topics it may publish (the backend reads)
        uplinks: dict[str, list[str]] = field(default_factory=dict)

    async def topic_filtering(
        self,
        *,
        session: Session | None = None,
        topic: str | None = None,
        action: Action | None = None,
    ) -> bool | None:
        user = session.username if session is not None else None
        if not user or topic is None:
            return False
        prefix = self.config.topic_prefix
        uplinks = self.config.uplinks
        if user in uplinks:
            return action is Action.PUBLISH and any(
                topic_matches_sub(f, topic) for f in uplinks[user]
            )
        if user == self.config.backend_user:
            return (
                topic == prefix
                or topic.startswith(prefix + "/")
                or any(
                    topic == f or topic_matches_sub(f, topic) for t in uplinks.values() for f in t
                )
            )
        if action is Action.PUBLISH and topic.startswith(prefix + "/"):
            levels = topic[len(prefix) + 1 :].split("/")  # the same four kinds as Mosquitto's ACL
            return len(levels) == 2 and levels[0] in DEVICE_KINDS and levels[1] == user
        return False


def free_port() -> int:
    """A loopback TCP port free at the time of asking."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class PacketTooLargeError(Exception):
    """A client sent a packet over the limit: its connection ends."""


_packet_limit = [0]  # bytes after the fixed header; 0: none (amqtt reads one broker per process)


def _limit_packets(limit: int) -> None:
    """Refuse MQTT packets over ``limit`` bytes at their fixed header, before their body is read:
    amqtt has no setting for it, so its header decoder is wrapped (once; pinned by
    tests/integration/test_demo_broker.py)."""
    _packet_limit[0] = limit
    if getattr(MQTTFixedHeader.from_stream, "saltwatch_limit", False):
        return
    decode = MQTTFixedHeader.from_stream.__func__

    async def from_stream(cls: type[MQTTFixedHeader], reader: Any) -> MQTTFixedHeader | None:
        header = await decode(cls, reader)
        if header is not None and _packet_limit[0] and header.remaining_length > _packet_limit[0]:
            log.warning("refused an MQTT packet of %d bytes", header.remaining_length)
            # not an MQTTError, which amqtt skips reading on (mid-packet): this ends the connection
            raise PacketTooLargeError(f"packet of {header.remaining_length} bytes")
        return header

    from_stream.saltwatch_limit = True  # type: ignore[attr-defined]
    MQTTFixedHeader.from_stream = classmethod(from_stream)


class EmbeddedBroker:
    def __init__(
        self,
        port: int,
        password_file: Path,
        topic_prefix: str = "saltwatch",
        max_packet_bytes: int = 65_536 + 1024,
        uplinks: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.port = port
        self.max_packet_bytes = max_packet_bytes
        self.url = f"mqtt://127.0.0.1:{port}"
        self._config = {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {
                f"{__name__}.PasswordFileAuth": {"password_file": str(password_file)},
                f"{__name__}.DeviceTopicAcl": {
                    "topic_prefix": topic_prefix,
                    "uplinks": {k: list(v) for k, v in (uplinks or {}).items()},
                },
            },
        }
        self._loop = asyncio.new_event_loop()
        self._broker: Broker | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Event()
        self._error: BaseException | None = None

    def start(self, timeout: float = 15.0) -> None:
        _limit_packets(self.max_packet_bytes)
        logging.getLogger("amqtt").setLevel(logging.ERROR)
        logging.getLogger("transitions").setLevel(logging.ERROR)
        self._thread = threading.Thread(target=self._run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not self._started.wait(timeout):
            raise FatalError("the embedded broker did not start")
        if self._error is not None:
            raise FatalError(f"the embedded broker could not listen on {self.url}: {self._error}")

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                self._broker = Broker(self._config, loop=self._loop)
                self._loop.run_until_complete(self._broker.start())
        except BaseException as exc:  # reported to start()'s caller
            self._error = exc
            self._started.set()
            return
        self._started.set()
        self._loop.run_forever()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is None or not self._thread.is_alive():
            return
        if self._broker is not None:
            future = asyncio.run_coroutine_threadsafe(self._broker.shutdown(), self._loop)
            try:
                future.result(timeout)
            except Exception:  # stopping anyway
                log.exception("embedded broker shutdown")
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
