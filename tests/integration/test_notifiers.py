"""Webhook and e-mail delivery to real local servers: signature, retries, STARTTLS."""

from __future__ import annotations

import ssl
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote

import orjson
import paho.mqtt.client as mqtt
import pytest
import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from paho.mqtt.enums import CallbackAPIVersion

from harness.services import MosquittoServer, free_port, tls_listener, wait_until
from saltwatch.alerts.dispatch import ChannelWorker
from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.notifiers.email import EmailNotifier
from saltwatch.alerts.notifiers.mqtt import MqttNotifier
from saltwatch.alerts.notifiers.template import BodyTemplate
from saltwatch.alerts.notifiers.webhook import SIGNATURE_HEADER, WebhookNotifier, signature
from saltwatch.core.clock import FakeClock
from saltwatch.core.errors import BadInputError, ConfigError, RetryableError
from saltwatch.core.registry import load_registry
from saltwatch.core.settings import ReceiverSettings, Settings, SmtpSettings
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.credentials import hash_password
from saltwatch.mqtt.connection import configure, parse_mqtt_url
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.wiring import receiver_notifier
from tests.alert_tools import rivers_alerting, sqlite_of
from tests.conftest import need_binary

pytestmark = pytest.mark.integration
T0 = 1_710_226_800 * 10**9
SECRET = "s3cret-hmac-key"


class Hook(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]]
    answers: list[int]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append((dict(self.headers), body))
        status = self.answers.pop(0) if self.answers else 200
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook() -> Iterator[tuple[str, type[Hook]]]:
    handler = type("H", (Hook,), {"received": [], "answers": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", handler
    server.shutdown()


def engine_with(tmp_path: Path, notifier: Any, receiver: ReceiverSettings) -> AlertEngine:
    return AlertEngine(
        rivers_alerting(),
        load_registry(),
        SqliteAlertStore(tmp_path / "s.db"),
        FakeClock(T0),
        {notifier.channel: notifier},
        receivers=[receiver],
    )


def fire(engine: AlertEngine) -> None:
    engine.on_readings([Reading(TopicKind.SALINITY, "vam-kenh", T0, {"salinity_ppt": 4.6})])


def test_webhook_is_signed_and_retried_on_5xx_only(tmp_path: Path, hook: Any) -> None:
    url, handler = hook
    handler.answers.extend([503, 200])
    receiver = ReceiverSettings(name="ops", type="webhook", url=url, secret=SECRET)
    engine = engine_with(tmp_path, WebhookNotifier("ops", url, SECRET), receiver)
    fire(engine)
    assert engine.dispatch() == 0  # 503: kept for a retry
    assert engine.dispatch() == 1
    assert len(handler.received) == 2
    headers, body = handler.received[-1]
    assert headers[SIGNATURE_HEADER] == signature(SECRET, body)
    event = orjson.loads(body)
    assert event["state"] == "firing" and event["device"] == "vam-kenh"
    assert "dong-thap" in event["zones"]
    # a 4xx is the receiver's refusal: recorded, never retried
    handler.answers.append(400)
    engine.acknowledge(event["id"], "Lan")
    engine.dispatch()
    engine.dispatch()
    assert len(handler.received) == 3
    assert sqlite_of(engine.state).sent("receiver:ops")[-1][1] is not None  # the error is kept


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.content or b""
        self.messages.append(content.encode() if isinstance(content, str) else content)
        return "250 OK"


def test_email_over_starttls_in_vietnamese_and_english(tmp_path: Path) -> None:
    ca = trustme.CA()
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1", "localhost").configure_cert(server_context)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox, hostname="127.0.0.1", port=port, tls_context=server_context, require_starttls=True
    )
    controller.start()
    try:
        client_context = ssl.create_default_context()
        ca.configure_trust(client_context)
        smtp = SmtpSettings(host="127.0.0.1", port=port, starttls=True, sender="sw@test")
        notifier = EmailNotifier("engineers", smtp, ["lan@test"], context=client_context)
        receiver = ReceiverSettings(name="engineers", type="email", to=["lan@test"])
        engine = engine_with(tmp_path, notifier, receiver)
        fire(engine)
        assert engine.dispatch() == 1
        (raw,) = inbox.messages
        mail = message_from_bytes(raw, policy=default_policy)
        assert "CẢNH BÁO" in str(mail["Subject"])
        text = mail.get_body().get_content()  # type: ignore[union-attr]
        assert "Mặn tại Vàm Kênh" in text and "Salinity at Vàm Kênh" in text
    finally:
        controller.stop()


class Clock:
    """Monotonic seconds the test moves by hand."""

    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def test_a_webhook_that_always_fails_is_retried_ever_less_often(tmp_path: Path, hook: Any) -> None:
    """Always 500: the attempts space out (1 s, 2 s, 4 s … up to 5 min), at most 8 in the first
    minute, the count and next try kept in the outbox, one warning per kind of error."""
    url, handler = hook
    handler.answers.extend([500] * 1000)
    receiver = ReceiverSettings(name="ops", type="webhook", url=url, secret=SECRET)
    engine = engine_with(tmp_path, WebhookNotifier("ops", url, SECRET), receiver)
    fire(engine)
    clock = Clock()
    worker = ChannelWorker(
        engine.notifiers["receiver:ops"], engine.state, engine.registry, monotonic=clock, seed=1
    )
    while clock.t <= 60.0:  # a minute, looked at every 100 ms
        worker.step()
        clock.t += 0.1
    attempts = len(handler.received)
    assert 5 <= attempts <= 8, attempts
    assert worker.failures == attempts
    assert engine.state.pending_attempt("receiver:ops")[0] == attempts
    # a restarted worker takes the backoff up where the outbox left it: not at once
    again = ChannelWorker(
        engine.notifiers["receiver:ops"], engine.state, engine.registry, monotonic=clock
    )
    assert again.step() is not None and len(handler.received) == attempts
    handler.answers.clear()  # the receiver is back: the next due try delivers, backoff reset
    clock.t += 400.0
    assert again.step() is None and again.failures == 0 and len(handler.received) == attempts + 1


class Recorder:
    channel = "mqtt"

    def __init__(self) -> None:
        self.sent: list[float] = []

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        self.sent.append(time.monotonic())


def test_a_hanging_receiver_delays_no_other_channel(tmp_path: Path) -> None:
    release = threading.Event()

    class Hang(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            release.wait(30)  # answers after 30 s at the earliest (or when the test ends)
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hang)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    recorder = Recorder()
    engine = AlertEngine(
        rivers_alerting(),
        load_registry(),
        SqliteAlertStore(tmp_path / "s.db"),
        FakeClock(T0),
        {"receiver:slow": WebhookNotifier("slow", url, SECRET, timeout_s=40), "mqtt": recorder},
        receivers=[ReceiverSettings(name="slow", type="webhook", url=url, secret=SECRET)],
    )
    engine.dispatcher.start()
    try:
        began = time.monotonic()
        fire(engine)  # queued for both channels; the webhook's worker now hangs for 30 s
        deadline = began + 5.0
        while not recorder.sent and time.monotonic() < deadline:
            time.sleep(0.02)
        assert recorder.sent and recorder.sent[0] - began < 2.0
        # and again while the webhook still hangs: the MQTT channel keeps up
        engine.on_readings([Reading(TopicKind.SALINITY, "xuan-hoa", T0, {"salinity_ppt": 2.0})])
        while len(recorder.sent) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(recorder.sent) >= 2 and recorder.sent[-1] - began < 3.0
        assert sqlite_of(engine.state).sent("receiver:slow") == []  # still waiting on its receiver
    finally:
        release.set()
        engine.dispatcher.stop()
        server.shutdown()


def test_alerts_reach_mqtt_over_tls_with_a_private_ca_and_an_encoded_password(
    tmp_path: Path,
) -> None:
    """The alert publisher reads the broker URL as ingest does: TLS verified against
    ``mqtt.ca_file``, and a password holding '@' and ':' written percent-encoded."""
    need_binary("mosquitto", "mosquitto")
    ca_file, tls = tls_listener(tmp_path)
    tls_port = int(tls.split()[1])
    password = "p@ss:w0rd/ổ"
    passwd = tmp_path / "passwd"
    passwd.write_text(f"alerts:{hash_password(password)}\n")
    passwd.chmod(0o600)
    broker = MosquittoServer(tmp_path / "mq", password_file=passwd, extra=tls)
    broker.start()
    url = f"mqtts://alerts:{quote(password, safe='')}@127.0.0.1:{tls_port}"
    received: list[bytes] = []
    listener = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="listener")
    address = parse_mqtt_url(url)
    configure(listener, address, ca_file)
    listener.on_connect = lambda c, *_: c.subscribe("tls/alerts/#", qos=1)
    listener.on_message = lambda c, u, m: received.append(bytes(m.payload))
    listener.connect(address.host, address.port)
    listener.loop_start()
    notifier = MqttNotifier(url, "tls", client_id="alerts-out", ca_file=ca_file)
    try:
        wait_until(listener.is_connected, 10, "the listener's TLS login")
        notifier.start()  # as the engine's start does; until the TLS login is done, retryable

        def sent() -> bool:
            try:
                notifier.send({"id": "a1", "state": "firing"}, ["dong-thap"])
            except RetryableError:
                return False
            return True

        wait_until(sent, 10, "the notifier's TLS login")
        wait_until(lambda: bool(received), 10, "the alert over TLS")
        assert orjson.loads(received[0])["id"] == "a1"
    finally:
        notifier.close()
        listener.loop_stop()
        listener.disconnect()
        broker.stop()


TEMPLATES = Path(__file__).parents[2] / "deploy" / "templates"


@pytest.mark.parametrize("example", ["sms-gateway.json.j2", "zalo-oa.json.j2"])
def test_a_gateway_receives_the_body_its_template_makes(
    tmp_path: Path, hook: Any, example: str
) -> None:
    """The two documented examples, loaded as an operator configures them, against a local fake
    gateway: it gets valid JSON carrying the alert in Vietnamese, with the configured headers."""
    url, handler = hook
    receiver = ReceiverSettings(
        name="gateway",
        type="webhook",
        url=url,
        template_path=TEMPLATES / example,
        headers={"access_token": "k-123"},
    )
    engine = engine_with(tmp_path, receiver_notifier(receiver, Settings()), receiver)
    fire(engine)
    assert engine.dispatch() == 1
    headers, body = handler.received[-1]
    assert headers["access_token"] == "k-123" and headers["Content-Type"] == "application/json"
    sent = orjson.loads(body)
    if example.startswith("sms"):
        assert sent["to"] and sent["ref"].endswith(":firing")
        text = sent["text"]
        assert text.startswith("SaltWatch NGUY HIEM: Man tai Vam Kenh") and len(text) <= 160
        assert text.isascii() and "4,6 phan nghin" in text
    else:
        text = sent["message"]["text"]
        assert text.startswith("⚠ Mặn tại Vàm Kênh") and "4,6‰" in text and "Xã Tân Đông" in text


def test_templates_are_sandboxed_and_checked_at_start(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"'bad'.*line 1"):
        BodyTemplate("{{ message_vi ", "bad")
    event = {"id": "a1", "message_vi": "x"}
    escape = BodyTemplate("{{ message_vi.__class__.__mro__[1].__subclasses__() }}", "esc")
    with pytest.raises(BadInputError, match="esc"):
        escape.render(event, [])
    with pytest.raises(BadInputError, match="undefined"):  # a typo is an error, not a blank SMS
        BodyTemplate("{{ mesage_vi }}", "typo").render(event, [])
    with pytest.raises(ConfigError, match="only a webhook"):
        receiver_notifier(
            ReceiverSettings(name="log1", type="log", template="{{ id }}"), Settings()
        )
