"""Bearer tokens with roles: viewer < operator < admin. Tokens are compared in constant time and
never written to a log line or an error body. A browser signed in with a one-time code
(api/signin.py) sends its session cookie instead, and holds the role of whoever asked for the
code."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any, Literal, NamedTuple

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from saltwatch.api.schemas import Problem
from saltwatch.core.settings import ApiToken

Role = Literal["viewer", "operator", "admin"]
RANK: dict[str, int] = {"viewer": 0, "operator": 1, "admin": 2}
_bearer = HTTPBearer(auto_error=False, description="A token from api.tokens")
SESSION_COOKIE = "sw_session"  # HttpOnly, SameSite=Strict: set by POST /api/v1/session


class Principal(NamedTuple):
    """Who holds the request's token: its name (docs/interface.md) and its role."""

    name: str
    role: Role


def principal_of(token: str, tokens: Sequence[ApiToken]) -> Principal | None:
    """Whose ``token`` it is; every configured token is compared, in constant time."""
    found: Principal | None = None
    for candidate in tokens:
        if hmac.compare_digest(candidate.token.encode(), token.encode()):
            found = Principal(candidate.label, candidate.role)
    return found


def require(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency: 401 without a valid token, 403 when its role is below ``role``."""

    async def check(  # async: no thread hop for a few microseconds of work
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        ctx = request.app.state.ctx
        tokens: Sequence[ApiToken] = ctx.settings.api.tokens
        granted = principal_of(credentials.credentials, tokens) if credentials else None
        cookie = request.cookies.get(SESSION_COOKIE)
        if credentials is None and cookie:
            session = hashlib.sha256(cookie.encode()).hexdigest()
            granted = ctx.signins.session(session)
        if granted is None:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "a valid bearer token (or a signed-in session) is required",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if RANK[granted.role] < RANK[role]:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"this needs the {role} role")
        return granted

    return check


#: Documented on every route that needs a token (422 detail: a text, or pydantic's error list).
AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "the request body is not JSON"},
    401: {"model": Problem, "description": "no valid bearer token"},
    403: {"model": Problem, "description": "the token's role is not enough"},
    404: {"model": Problem, "description": "no such station, zone, alert or silence"},
    409: {"model": Problem, "description": "not possible in this state or this process"},
    422: {"model": Problem, "description": "a parameter or the body is invalid; detail says why"},
}

Viewer = Annotated[Principal, Depends(require("viewer"))]
Operator = Annotated[Principal, Depends(require("operator"))]
Admin = Annotated[Principal, Depends(require("admin"))]
