"""How SaltWatch reaches an MQTT broker, in one place for ingest, the alert publisher and the
simulator: the URL (``mqtt://`` or ``mqtts://``, credentials percent-decoded, so a password
with ``@`` or ``:`` can be written), TLS with an optional private CA, and a client configured
from them. Nothing here connects: the caller starts the network loop (paho's own thread, or
``SharedLoop``: one thread for many clients).
"""

from __future__ import annotations

import contextlib
import math
import selectors
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as mqtt

from saltwatch.core.backoff import Backoff
from saltwatch.core.errors import ConfigError


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
    as_client_id: str | None = None,
) -> None:
    """Credentials (``login`` before the URL's; ``as_client_id``: that name with the URL's
    password, for a broker that binds client ids to logins) and TLS (verified against
    ``ca_file`` when given, else the system's CAs) on a paho client."""
    if login is None and as_client_id is not None and address.password is not None:
        login = (as_client_id, address.password)
    username, password = login or (address.username, address.password)
    if username is not None:
        client.username_pw_set(username, password)
    if address.tls:
        client.tls_set_context(ssl.create_default_context(cafile=ca_file))


class Reconnects:
    """The one reconnect policy of every SaltWatch MQTT client (ingest, the alerts feed, the
    notifier, the simulator): after a loss, wait a capped (30 s), jittered, growing delay from
    1 s; a connection that succeeds starts it over. Used through ``lost`` and ``connected``; for
    a client on its own network loop, paho waits the delay (``reconnect_delay_set``)."""

    FIRST_S = 1.0
    CAP_S = 30.0

    def __init__(self, client: mqtt.Client | None = None) -> None:
        self._client = client
        self._backoff = Backoff(initial=self.FIRST_S, cap=self.CAP_S)
        if client is not None:
            client.reconnect_delay_set(1, 1)

    def connected(self) -> None:
        self._backoff.reset()

    def lost(self) -> int:
        """Seconds to wait before the next attempt (told to paho when it reconnects itself)."""
        delay = math.ceil(self._backoff.next())
        if self._client is not None:
            self._client.reconnect_delay_set(delay, delay)
        return delay


class SharedLoop:
    """One network thread for many paho clients (the simulator's devices, each its own login and
    last will): a selector over their sockets instead of a thread per client. Keep-alive pings
    and reconnects (by ``Reconnects``, per client) are done here too; publish from any thread."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        self._clients: list[mqtt.Client] = []
        self._lock = threading.Lock()
        self._changes: list[tuple[mqtt.Client, Any, int]] = []  # (client, socket, events)
        self._reconnects: dict[int, Reconnects] = {}
        self._retry_at: dict[int, float] = {}
        self._stopping = threading.Event()
        self._closing = False  # no reconnects once the clients are told goodbye
        self._thread: threading.Thread | None = None

    def add(self, client: mqtt.Client) -> None:
        """Before ``start``: the client's socket is watched here (it must not run its own loop)."""
        client.on_socket_open = lambda c, _u, sock: self._change(c, sock, selectors.EVENT_READ)
        client.on_socket_close = lambda c, _u, sock: self._change(c, sock, 0)
        client.on_socket_register_write = lambda c, _u, sock: self._change(
            c, sock, selectors.EVENT_READ | selectors.EVENT_WRITE
        )
        client.on_socket_unregister_write = lambda c, _u, sock: self._change(
            c, sock, selectors.EVENT_READ
        )
        self._clients.append(client)
        self._reconnects[id(client)] = Reconnects()
        client.on_connect = self._on_connect

    def _change(self, client: mqtt.Client, sock: Any, events: int) -> None:
        with self._lock:
            self._changes.append((client, sock, events))
        with contextlib.suppress(BlockingIOError):
            self._wake_w.send(b"x")

    def start(self) -> None:
        """Connect every client (``connect_async`` first) and run the loop in its thread."""
        self._thread = threading.Thread(target=self._run, name="mqtt-shared-loop", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for client in self._clients:
            self._reconnect(client)
        last_misc = time.monotonic()
        while not self._stopping.is_set():
            self._apply_changes()
            for key, events in self._selector.select(timeout=0.5):
                client = key.data
                if client is None:
                    with contextlib.suppress(BlockingIOError):
                        self._wake_r.recv(4096)
                    continue
                if events & selectors.EVENT_READ:
                    client.loop_read()
                if events & selectors.EVENT_WRITE:
                    client.loop_write()
            now = time.monotonic()
            if now - last_misc >= 1.0:
                last_misc = now
                for client in self._clients:
                    if client.socket() is None:
                        if not self._closing and now >= self._retry_at.get(id(client), 0.0):
                            self._reconnect(client)
                    else:
                        client.loop_misc()

    def _apply_changes(self) -> None:
        with self._lock:
            changes, self._changes = self._changes, []
        for client, sock, events in changes:
            with contextlib.suppress(KeyError, ValueError):
                self._selector.unregister(sock)
            if events and sock.fileno() >= 0:
                self._selector.register(sock, events, client)

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        self._reconnects[id(client)].connected()

    def _reconnect(self, client: mqtt.Client) -> None:
        self._retry_at[id(client)] = time.monotonic() + self._reconnects[id(client)].lost()
        with contextlib.suppress(OSError):
            client.reconnect()

    def close(self, timeout: float = 5.0) -> None:
        """Disconnect every client (a clean goodbye: no last will) and stop the loop."""
        self._closing = True
        for client in self._clients:
            client.disconnect()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(c.socket() is not None for c in self._clients):
            self._stopping.wait(0.05)  # polling the DISCONNECTs out, with a deadline
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()
