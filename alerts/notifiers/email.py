"""E-mail notifier: SMTP with STARTTLS, a message in Vietnamese then English."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from typing import Any

from saltwatch.core.errors import AuthError, BadInputError, RetryableError
from saltwatch.core.settings import SmtpSettings

STATE_VI = {
    "firing": "CẢNH BÁO",
    "resolved": "ĐÃ HẾT",
    "acknowledged": "ĐÃ XÁC NHẬN",
    "issued": "BẢN TIN",
}


def compose(event: dict[str, Any], sender: str, to: list[str]) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    state = STATE_VI.get(str(event["state"]), str(event["state"]))
    message["Subject"] = (
        f"[SaltWatch] {state} {event['severity']}: {event['zone_name']} — {event['rule']}"
    )
    message["X-SaltWatch-Event"] = str(event["id"])
    message.set_content(
        f"{event['message_vi']}\n\n{event['message_en']}\n\n"
        f"Bắt đầu / started: {event['started_at']}\nLúc / at: {event['at']}\n"
        f"Mã / id: {event['id']}\n"
    )
    return message


class EmailNotifier:
    def __init__(
        self, name: str, smtp: SmtpSettings, to: list[str], context: ssl.SSLContext | None = None
    ) -> None:
        self.channel = f"receiver:{name}"
        self._smtp = smtp
        self._to = to
        self._context = context or ssl.create_default_context()

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        if not self._to:
            raise BadInputError("no recipients")
        s = self._smtp
        try:
            with smtplib.SMTP(s.host, s.port, timeout=s.timeout_s) as client:
                if s.starttls:
                    client.starttls(context=self._context)
                if s.username:
                    client.login(s.username, s.password or "")
                client.send_message(compose(event, s.sender, self._to))
        except smtplib.SMTPAuthenticationError as exc:
            raise AuthError(f"SMTP login refused: {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise BadInputError(f"SMTP refused the recipients: {list(exc.recipients)}") from None
        except (OSError, smtplib.SMTPException) as exc:
            raise RetryableError(f"SMTP delivery failed: {type(exc).__name__}") from None
