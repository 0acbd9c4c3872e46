"""HTTP hygiene on every answer: what a browser may load and run for each kind of page, no
sniffing of content types, no framing, no referrer, and API answers never cached (they carry
what a token may see)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_API_CSP = "default-src 'none'; frame-ancestors 'none'"
#: the daily bulletin: one HTML page with its styles and its chart inlined
_REPORT_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'"
#: the dashboard: its own script, style and API; the bulletin it opens draws inline
_DASHBOARD_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
#: Swagger UI starts itself with an inline script
_DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; frame-ancestors 'none'"
)
_ALWAYS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]


def policy_for(path: str) -> tuple[str, bool]:
    """(Content-Security-Policy, whether the answer may be cached) for a request path."""
    if path.startswith("/api/v1/reports/"):
        return _REPORT_CSP, False
    if path.startswith("/bulletins/"):  # an issue at its own link: never changes
        return _REPORT_CSP, True
    if path.startswith("/api/") or path in ("/health", "/metrics", "/openapi.json"):
        return _API_CSP, False
    if path == "/docs" or path.startswith("/docs-assets/"):
        return _DOCS_CSP, True
    return _DASHBOARD_CSP, True


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csp, cacheable = policy_for(scope.get("path", ""))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k.lower() not in (b"content-security-policy", b"cache-control")
                    or (cacheable and k.lower() == b"cache-control")
                ]
                headers += [*_ALWAYS, (b"content-security-policy", csp.encode())]
                if not cacheable:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)
