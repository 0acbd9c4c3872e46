"""Request bodies are bounded: the API's bodies are a few hundred bytes (an acknowledgement, a
silence, a rules file), so anything over ``max_bytes`` is refused with 413 before it is read
whole, whether it says its length or streams in chunks; a file uploaded for import may be larger
(``upload_bytes``). A ``Content-Length`` that is not a number is the caller's error (400)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_BODY_BYTES = 1024 * 1024
#: a file of readings uploaded for import (docs/sources.md): a season's logger export fits
UPLOAD_PATH, MAX_UPLOAD_BYTES = "/api/v1/imports", 64 * 1024 * 1024


class BodyLimitMiddleware:
    def __init__(
        self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES, upload_bytes: int = MAX_UPLOAD_BYTES
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_bytes = upload_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.upload_bytes if scope.get("path") == UPLOAD_PATH else self.max_bytes
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and not declared.strip().isdigit():
            await _refuse(send, 400, b'{"detail": "Content-Length is not a number of bytes"}')
            return
        if declared is not None and int(declared) > limit:
            await _refuse(send, 413, _too_large(limit))
            return
        received = 0
        started = refused = False

        async def limited() -> Message:
            nonlocal received, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    refused = True
                    if not started:
                        await _refuse(send, 413, _too_large(limit))
                    return {"type": "http.disconnect"}  # the app stops reading here
            return message

        async def sending(message: Message) -> None:
            nonlocal started
            if refused:
                return  # the 413 went out; whatever the app says after it is dropped
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, sending)
        except Exception:
            if not refused:
                raise  # the app's own failure; after a refusal, its "client went away" is ours


def _too_large(limit: int) -> bytes:
    return f'{{"detail": "the request body is over {limit} bytes"}}'.encode()


async def _refuse(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
