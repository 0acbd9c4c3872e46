"""The MQTT side of ingest: the only ingest module that imports paho.

QoS 1 subscriptions on a persistent session with a fixed client id, subscribed again on every
connect; paho's manual acknowledgement so nothing is acknowledged before the pipeline made it
durable; reconnects with capped, jittered backoff; a refused login stops with a clear message.
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from core.backoff import Backoff
from core.broker import configure, parse_mqtt_url
from core.clock import Clock
from core.errors import AuthError
from core.topics import READING_KINDS, TopicKind, subscription
from ingest.pipeline import Inbound

log = logging.getLogger("saltwatch.ingest.mqtt")

#: CONNACK reason codes that retrying cannot mend (v3 return codes 4, 5; v5 0x84-0x8C).
_AUTH_FAILURES = {
    "Bad user name or password",
    "Not authorized",
    "Banned",
    "Bad authentication method",
    "Client identifier not valid",
}


class _BufferedClient(mqtt.Client):
    """paho's Client, reading its socket in large chunks.

    paho 2.x reads each packet with several small ``recv`` calls (one byte for the command, one per
    length byte, then the body) and handles one packet per ``select``. At tens of thousands of
    messages a second those system calls cost more than the messages. Here ``_sock_recv`` serves
    paho from a buffer filled by one large ``recv``, and ``loop_read`` goes on while the buffer
    holds data (otherwise buffered packets would wait for the next ``select``). Both hooks are paho
    internals (as is ``_handle_on_message``, below): the project pins paho-mqtt below 3 and the
    ingest tests exercise them.
    """

    _READ_SIZE = 256 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: object = None

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._rsock is not self._sock:  # a new connection: forget the old one's bytes
            self._rbuf, self._rpos, self._rsock = b"", 0, self._sock
        if self._rpos >= len(self._rbuf):
            self._rbuf = super()._sock_recv(self._READ_SIZE)  # BlockingIOError when none waits
            self._rpos = 0
            if not self._rbuf:
                return b""  # the peer closed the connection
        start = self._rpos
        self._rpos = min(start + bufsize, len(self._rbuf))
        return self._rbuf[start : self._rpos]

    def _handle_on_message(self, message: mqtt.MQTTMessage) -> None:
        # This client never registers topic-filtered callbacks (message_callback_add), so paho's
        # per-message topic matching is skipped: on_message gets every message directly.
        on_message = self.on_message
        if on_message is not None:
            with self._in_callback_mutex:
                on_message(self, self._userdata, message)

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        rc = super().loop_read(max_packets)
        while (
            rc == MQTTErrorCode.MQTT_ERR_SUCCESS
            and self._sock is not None
            and self._rpos < len(self._rbuf)
        ):
            rc = super().loop_read(max_packets)
        return rc


class MqttConsumer:
    """Feeds every message to ``on_inbound``; ``ack`` is called by the pipeline when durable."""

    def __init__(
        self,
        url: str,
        client_id: str,
        topic_prefix: str,
        on_inbound: Callable[[Inbound], None],
        clock: Clock,
        share_group: str | None = None,
        keepalive_s: int = 30,
        receive_maximum: int = 20_000,
        ca_file: str | None = None,
        kinds: tuple[TopicKind, ...] = (*READING_KINDS, TopicKind.STATUS),
    ) -> None:
        self._address = parse_mqtt_url(url)
        self._on_inbound = on_inbound
        self._clock = clock
        self._keepalive = keepalive_s
        self._topics = [subscription(topic_prefix, kind, share_group) for kind in kinds]
        self._v5 = share_group is not None
        self._receive_maximum = max(1, min(receive_maximum, 65_535))
        self._client = _BufferedClient(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if self._v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if self._v5 else False,
            manual_ack=True,
        )
        configure(self._client, self._address, ca_file)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_message = self._handle_message
        self._backoff = Backoff(initial=1.0, cap=30.0)
        self._client.reconnect_delay_set(1, 1)
        self._epoch = 0
        self._accepting = True
        self.connected = threading.Event()
        self.fatal: AuthError | None = None
        self.fatal_event = threading.Event()
        self.on_connection_change: Callable[[bool], None] | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        properties = None
        if self._v5:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = 0xFFFFFFFF  # keep the session while we are away
            properties.ReceiveMaximum = self._receive_maximum
        self._client.connect_async(
            self._address.host,
            self._address.port,
            self._keepalive,
            clean_start=False if self._v5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=properties,
        )
        self._client.loop_start()

    def stop_accepting(self) -> None:
        """Leave new messages unacknowledged from now on: the broker redelivers them later."""
        self._accepting = False

    def stop(self) -> None:
        self._accepting = False
        self._client.disconnect()
        self._client.loop_stop()

    # ------------------------------------------------------------------ acker
    def ack(self, mid: int, qos: int, epoch: int) -> None:
        if qos == 0 or epoch != self._epoch:
            return  # QoS 0 needs none; an older connection's message is redelivered anyway
        self._client.ack(mid, qos)

    # ------------------------------------------------------------------ callbacks
    def _handle_connect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        if reason.is_failure:
            name = reason.getName()
            if name in _AUTH_FAILURES:
                self.fatal = AuthError(f"MQTT broker refused the login: {name}")
                self.fatal_event.set()
                client.disconnect()
            else:
                log.warning("MQTT connection refused: %s", name)
            return
        self._epoch += 1
        self._backoff.reset()
        client.subscribe([(topic, 1) for topic in self._topics])
        log.info(
            "connected to MQTT %s:%d, session present: %s",
            self._address.host,
            self._address.port,
            flags.session_present,
        )
        self.connected.set()
        if self.on_connection_change:
            self.on_connection_change(True)

    def _handle_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self.connected.clear()
        delay = math.ceil(self._backoff.next())
        client.reconnect_delay_set(delay, delay)  # paho waits this long: jittered, capped
        if self.on_connection_change:
            self.on_connection_change(False)
        if reason.is_failure and not self.fatal_event.is_set():
            log.warning("MQTT connection lost (%s); reconnecting in %ds", reason.getName(), delay)

    def _handle_message(
        self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        if not self._accepting:
            return  # left unacknowledged: the broker delivers it again on the next session
        self._on_inbound(
            Inbound(
                message.topic,
                bytes(message.payload),
                self._clock.now_ns(),
                message.mid,
                message.qos,
                self._epoch,
                bool(message.retain),
            )
        )
