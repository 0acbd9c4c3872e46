"""Webhook notifier: the event as a POST, signed with HMAC-SHA256.

The body is the event's JSON, or what the receiver's template makes of it (alerts/notifiers/
template.py) with its ``content_type`` and extra ``headers``. Headers: ``X-SaltWatch-Signature:
sha256=<hex of HMAC(secret, body)>`` and ``X-SaltWatch-Event`` (the alert id). A 5xx answer, a 429
or a timeout is retried by the dispatcher; another 4xx is not.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from saltwatch.alerts.notifiers.template import BodyTemplate
from saltwatch.core.errors import BadInputError, RetryableError

SIGNATURE_HEADER = "X-SaltWatch-Signature"


def signature(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookNotifier:
    def __init__(
        self,
        name: str,
        url: str,
        secret: str | None,
        timeout_s: float = 10.0,
        client: httpx.Client | None = None,
        template: BodyTemplate | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.channel = f"receiver:{name}"
        self._url = url
        self._secret = secret
        self._http = client or httpx.Client(timeout=timeout_s)
        self._template = template
        self._headers = {**(headers or {}), "Content-Type": content_type}

    def send(self, event: dict[str, Any], zones: list[str]) -> None:
        if self._template is not None:
            body = self._template.render(event, zones)
        else:
            body = orjson.dumps({**event, "zones": zones})
        headers = {**self._headers, "X-SaltWatch-Event": str(event["id"])}
        if self._secret:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        try:
            response = self._http.post(self._url, content=body, headers=headers)
        except httpx.TransportError as exc:
            raise RetryableError(f"webhook unreachable: {type(exc).__name__}") from None
        if response.status_code >= 500 or response.status_code == 429:
            raise RetryableError(f"webhook answered {response.status_code}")
        if response.status_code >= 400:
            raise BadInputError(f"webhook refused the event ({response.status_code})")
