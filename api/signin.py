"""Signing in on a phone without typing a 33-character token: a short one-time code, asked for
by someone already signed in (``POST /api/v1/signin-codes``: ten letters and digits, 10 minutes,
one use, the asker's role and name), exchanged on the phone for a session
(``POST /api/v1/session``): an HttpOnly, SameSite=Strict cookie that the browser sends itself and
no script can read. The port is here; the adapter keeps codes and sessions, hashed, in the alert
state's file (storage/signin_sqlite.py), so every API process knows them."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import secrets
from typing import Protocol

from saltwatch.api.auth import SESSION_COOKIE, Principal

__all__ = ["SESSION_COOKIE", "SignIns", "digest", "new_code", "new_session"]
CODE_TTL_S = 600
SESSION_TTL_S = 12 * 3600
#: letters and digits nobody mistakes for one another (no 0/O, 1/I/L)
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_PATTERN = re.compile(r"[A-HJKMNP-Z2-9]{5}-?[A-HJKMNP-Z2-9]{5}")


class SignIns(Protocol):
    """Codes and sessions, timed by the wall clock (never the demo's fast one: a code must last
    10 real minutes)."""

    def add(self, kind: str, digest: str, who: Principal, ttl_s: float) -> str:
        """Keep a code or a session (``kind``) under the digest of its secret for ``ttl_s``;
        returns when it expires (RFC 3339, Vietnam time)."""
        ...

    def take(self, digest: str) -> Principal | None:
        """The holder of the code ``digest`` if it is unused and unexpired, using it up."""
        ...

    def session(self, digest: str) -> Principal | None:
        """The holder of the session ``digest`` while it lasts."""
        ...

    def end(self, digest: str) -> None:
        """End the session ``digest`` (signing out)."""
        ...


def new_code() -> str:
    """``ABCDE-FGH23``: ten of 31 letters and digits (about 50 bits), one use, 10 minutes."""
    letters = "".join(secrets.choice(_ALPHABET) for _ in range(10))
    return f"{letters[:5]}-{letters[5:]}"


def qr_svg(link: str) -> str:
    """The link as a QR code, an SVG data URI for an ``<img>`` (a phone's camera opens it)."""
    import segno  # noqa: PLC0415 - only when a code is asked for

    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="svg", scale=5, border=2)
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def new_session() -> str:
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is kept of a code or a session: its SHA-256 (a code typed with or without its dash,
    in either case, is the same code)."""
    text = secret.replace("-", "").upper() if CODE_PATTERN.fullmatch(secret.upper()) else secret
    return hashlib.sha256(text.encode()).hexdigest()
