"""The MQTT side of ingest: the only ingest module that imports paho.

QoS 1 subscriptions on a persistent session with a fixed client id, subscribed again on every
connect; paho's manual acknowledgement so nothing is acknowledged before the pipeline made it
durable; reconnects with capped, jittered backoff; a refused login stops with a clear message.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.client import MQTTv5, time_func
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from saltwatch.core.clock import Clock
from saltwatch.core.errors import AuthError
from saltwatch.core.settings import IngestSettings, MqttSettings, default_of
from saltwatch.core.topics import READING_KINDS, TopicKind, subscription
from saltwatch.ingest.intake import Inbound
from saltwatch.ingest.wire import PUBACK, RawPublish, puback_packets, publishes
from saltwatch.mqtt.connection import Reconnects, configure, parse_mqtt_url

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
    """paho's Client, reading its socket in large chunks and its PUBLISH packets in bulk.

    paho 2.x reads each packet with several small ``recv`` calls (one byte for the command, one per
    length byte, then the body), builds an ``MQTTMessage`` for each and handles one packet per
    ``select``. At tens of thousands of messages a second that costs more than the messages. Here:

    - ``_sock_recv`` serves paho from a buffer filled by one large ``recv``;
    - ``_packet_read`` takes every complete QoS 0/1 PUBLISH waiting in that buffer in one pass
      and hands them to ``on_publishes`` as a list (no message objects, one callback); any other
      packet (CONNACK, SUBACK, PINGRESP, a QoS 2 PUBLISH, one not yet complete) goes through
      paho's own path;
    - ``ack_many`` queues the PUBACKs of a whole batch as one write.

    These hooks use paho internals (``_packet_read``, ``_packet_queue``, ``_in_packet``,
    ``_msgtime_mutex``, ``_last_bytes_received``, ``_sock_recv``): the project pins paho-mqtt
    below 3, ``tests/unit/ingest/test_paho_internals.py`` fails when any of them changes, and the
    ingest tests run them against a real mosquitto.
    """

    _READ_SIZE = 256 * 1024

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rbuf = b""
        self._rpos = 0
        self._rsock: object = None
        self.on_publishes: Callable[[list[RawPublish]], None] | None = None

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

    def _packet_read(self) -> MQTTErrorCode:
        sink = self.on_publishes
        if sink is None or self._in_packet["command"] != 0:
            return super()._packet_read()  # paho is half-way through a packet
        if self._rsock is not self._sock or self._rpos >= len(self._rbuf):
            try:
                self._sock_recv(0)  # refill the buffer (a zero-length slice is taken)
            except BlockingIOError:
                return MQTTErrorCode.MQTT_ERR_AGAIN
            except OSError:
                return super()._packet_read()  # paho reports the failure its own way
            if not self._rbuf:
                return MQTTErrorCode.MQTT_ERR_CONN_LOST
        batch, self._rpos = publishes(self._rbuf, self._rpos, self._protocol == MQTTv5)
        if not batch:
            return super()._packet_read()
        with self._msgtime_mutex:
            self._last_bytes_received = time_func()
        sink(batch)
        return MQTTErrorCode.MQTT_ERR_SUCCESS

    def ack_many(self, mids: list[int]) -> None:
        """Queue the PUBACKs of ``mids`` (QoS 1) as one packet write."""
        if mids:
            self._packet_queue(PUBACK, puback_packets(mids), 0, 0)

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
    """Feeds every message to ``on_inbound`` (in lists: what one read of the socket brought);
    ``ack_many`` is called by the pipeline once they are durable."""

    def __init__(
        self,
        url: str,
        client_id: str,
        topic_prefix: str,
        on_inbound: Callable[[list[Inbound]], None],
        clock: Clock,
        share_group: str | None = None,
        keepalive_s: int = default_of(MqttSettings, "keepalive_s"),
        receive_maximum: int = default_of(IngestSettings, "max_unacked"),
        ca_file: str | None = None,
        kinds: tuple[TopicKind, ...] = (*READING_KINDS, TopicKind.STATUS),
        login_as_client_id: bool = False,
        on_connection_change: Callable[[bool], None] | None = None,
        fast_path: bool = default_of(MqttSettings, "fast_path"),
        owns: Callable[[bytes], bool] | None = None,
        forget: tuple[str, ...] = (),
        also: tuple[str, ...] = (),
    ) -> None:
        self._address = parse_mqtt_url(url)
        self._client_id = client_id
        self._on_inbound = on_inbound
        self._clock = clock
        self._keepalive = keepalive_s
        self._topics = [subscription(topic_prefix, kind, share_group) for kind in kinds]
        # other publishers' topics: LoRaWAN network servers (docs/sources.md), shared alike
        self._topics += [f"$share/{share_group}/{t}" if share_group else t for t in also]
        self._v5 = share_group is not None or owns is not None
        self._owns = owns  # a member of ingest --workers: the devices it handles
        self._forget = list(forget)  # subscriptions an earlier version of this session held
        #: messages of devices other members handle, acknowledged unread
        self.passed_on = 0
        self._receive_maximum = max(1, min(receive_maximum, 65_535))
        self._client = (_BufferedClient if fast_path else mqtt.Client)(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=MQTTProtocolVersion.MQTTv5 if self._v5 else MQTTProtocolVersion.MQTTv311,
            clean_session=None if self._v5 else False,
            manual_ack=True,
        )
        own = client_id if login_as_client_id else None
        configure(self._client, self._address, ca_file, as_client_id=own)
        self._client.on_connect = self._handle_connect
        self._client.on_disconnect = self._handle_disconnect
        self._client.on_subscribe = self._handle_subscribe
        self._client.on_message = self._handle_message
        if isinstance(self._client, _BufferedClient):
            self._client.on_publishes = self._handle_publishes
        self._reconnects = Reconnects(self._client)
        self._epoch = 0
        self._accepting = True
        self.connected = threading.Event()
        self.fatal: AuthError | None = None
        self.fatal_event = threading.Event()
        self.on_connection_change = on_connection_change
        #: when (monotonic) the session was last lost or taken over: see ``_handle_connect``
        self.session_lost_at: float | None = None
        self._drops: deque[float] = deque(maxlen=3)

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

    def ack_many(self, acks: list[tuple[int, int, int]]) -> None:
        """Acknowledge (mid, qos, epoch) triples: the QoS 1 ones of this connection in one
        write, a QoS 2 one (rare) on its own."""
        epoch = self._epoch
        client = self._client
        if isinstance(client, _BufferedClient):
            client.ack_many([mid for mid, qos, e in acks if qos == 1 and e == epoch])
        for mid, qos, e in acks:
            if e == epoch and (qos == 2 or (qos == 1 and not isinstance(client, _BufferedClient))):
                client.ack(mid, qos)

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
        self._reconnects.connected()
        client.subscribe([(topic, 1) for topic in self._topics])
        if self._forget:
            client.unsubscribe(self._forget)
        log.info(
            "connected to MQTT %s:%d, session present: %s",
            self._address.host,
            self._address.port,
            flags.session_present,
        )
        if self._epoch > 1 and not flags.session_present:
            # we asked the broker to keep our session: it is gone, and with it whatever it held
            self._session_lost(
                "the broker no longer had our session: messages it held for us may be lost (a "
                "broker restarted without persistence, or another client used our client id)"
            )

    def _handle_subscribe(
        self, client: mqtt.Client, userdata: Any, mid: int, reasons: list[ReasonCode], props: Any
    ) -> None:
        """Ready once the broker confirmed the subscriptions (not at CONNACK: a message
        published between the two would reach no subscription of a new session)."""
        refused = [t for t, r in zip(self._topics, reasons, strict=False) if r.is_failure]
        if refused:
            log.error("the broker refused the subscriptions %s (its ACL?)", ", ".join(refused))
        self.connected.set()
        if self.on_connection_change:
            self.on_connection_change(True)

    def _handle_disconnect(
        self, client: mqtt.Client, userdata: Any, flags: Any, reason: ReasonCode, properties: Any
    ) -> None:
        self.connected.clear()
        now = time.monotonic()
        self._drops.append(now)
        if reason.getName() == "Session taken over":  # MQTT 5 says so
            self._session_lost(f"another client connected with our client id {self._client_id!r}")
        elif len(self._drops) == self._drops.maxlen and now - self._drops[0] < 60:
            self._session_lost(
                f"{self._drops.maxlen} disconnects within a minute: another client may be using "
                f"our client id {self._client_id!r}"
            )
            self._drops.clear()
        delay = self._reconnects.lost()
        if self.on_connection_change:
            self.on_connection_change(False)
        if reason.is_failure and not self.fatal_event.is_set():
            log.warning("MQTT connection lost (%s); reconnecting in %ds", reason.getName(), delay)

    def _session_lost(self, why: str) -> None:
        """Loudly: readings may have been lost without anyone seeing an error (a system alert
        follows, alerts/system.py)."""
        self.session_lost_at = time.monotonic()
        log.error("MQTT session of %s lost or taken over: %s", self._client_id, why)

    def _handle_publishes(self, batch: list[RawPublish]) -> None:
        if not self._accepting:
            return  # left unacknowledged: the broker delivers it again on the next session
        if self._owns is not None:
            batch = self._pass_on(batch)
        now, epoch = self._clock.now_ns(), self._epoch
        make = tuple.__new__  # an Inbound without its generated __new__: one call less each
        self._on_inbound(
            [
                make(
                    Inbound,
                    (topic.decode("utf-8", "replace"), payload, now, mid, qos, epoch, retain),
                )
                for topic, payload, mid, qos, retain in batch
            ]
        )

    def _pass_on(self, batch: list[RawPublish]) -> list[RawPublish]:
        """The messages of the devices this member handles; the rest acknowledged unread (the
        member that handles them has its own copy)."""
        owns = self._owns
        assert owns is not None
        mine = [m for m in batch if owns(m[0].rpartition(b"/")[2])]
        if len(mine) < len(batch):
            others = [m for m in batch if not owns(m[0].rpartition(b"/")[2])]
            self.passed_on += len(others)
            self.ack_many([(mid, qos, self._epoch) for _, _, mid, qos, _ in others])
        return mine

    def _handle_message(
        self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage
    ) -> None:
        if not self._accepting:
            return  # left unacknowledged: the broker delivers it again on the next session
        if self._owns is not None and not self._owns(message.topic.rpartition("/")[2].encode()):
            self.passed_on += 1
            self.ack(message.mid, message.qos, self._epoch)
            return
        self._on_inbound(
            [
                Inbound(
                    message.topic,
                    bytes(message.payload),
                    self._clock.now_ns(),
                    message.mid,
                    message.qos,
                    self._epoch,
                    bool(message.retain),
                )
            ]
        )
