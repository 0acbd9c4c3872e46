"""Signing in on a phone with a one-time code (api/signin.py): asked for where one is signed in,
typed (or opened as a link) on the phone, exchanged for an HttpOnly session cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Cookie, HTTPException, Request, Response
from pydantic import BaseModel, Field

from saltwatch.api.auth import AUTH_RESPONSES, Viewer
from saltwatch.api.deps import Context
from saltwatch.api.schemas import Problem
from saltwatch.api.signin import (
    CODE_PATTERN,
    CODE_TTL_S,
    SESSION_COOKIE,
    SESSION_TTL_S,
    digest,
    new_code,
    new_session,
    qr_svg,
)

router = APIRouter(prefix="/api/v1", tags=["sign-in"])


class CodeOut(BaseModel):
    code: str = Field(description="ten letters and digits, to type on the phone (one use)")
    link: str = Field(description="the dashboard's address that signs in with the code")
    qr: str = Field(description="the link as a QR code: an SVG data URI")
    expires_at: str


class CodeIn(BaseModel):
    code: str = Field(max_length=16, description="the code, with or without its dash")


@router.post(
    "/signin-codes",
    status_code=201,
    response_model=CodeOut,
    summary="A one-time code that signs a phone in with this token's role and name (10 min)",
    responses=AUTH_RESPONSES,
)
def signin_code(ctx: Context, who: Viewer, request: Request) -> CodeOut:
    code = new_code()
    expires = ctx.signins.add("code", digest(code), who, CODE_TTL_S)
    link = f"{request.base_url}#code={code}"
    return CodeOut(code=code, link=link, qr=qr_svg(link), expires_at=expires)


@router.post(
    "/session",
    status_code=204,
    summary="Exchange a one-time code for a session: an HttpOnly, SameSite=Strict cookie",
    responses={
        400: {"model": Problem, "description": "the request body is not JSON"},
        401: {"model": Problem, "description": "no such code, used, or expired"},
        422: {"model": Problem, "description": 'the body is not {"code": …}'},
    },
)
def open_session(ctx: Context, body: CodeIn, request: Request) -> Response:
    code = body.code.strip().upper()
    who = ctx.signins.take(digest(code)) if CODE_PATTERN.fullmatch(code) else None
    if who is None:
        raise HTTPException(401, "no such code, or used, or expired: ask for a new one")
    session = new_session()
    ctx.signins.add("session", digest(session), who, SESSION_TTL_S)
    answer = Response(status_code=204)
    answer.set_cookie(
        SESSION_COOKIE, session, max_age=SESSION_TTL_S, path="/", httponly=True,
        samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return answer


@router.delete("/session", status_code=204, summary="Sign out: the session ends")
def end_session(
    ctx: Context, session: Annotated[str | None, Cookie(alias=SESSION_COOKIE)] = None
) -> Response:
    if session:
        ctx.signins.end(digest(session))
    answer = Response(status_code=204)
    answer.delete_cookie(SESSION_COOKIE, path="/")
    return answer
