"""The daily bulletin: ``GET /api/v1/reports/daily`` (a token's), and each issue at a link of its
own, ``/bulletins/<share>`` (HTML, ``.md``, ``.pdf``), to open on a phone, reload, and forward.

A day's bulletin is issued the first time it is asked for after the day ended and kept as issued
(analytics/issued.py); a day not yet over is provisional and says so."""

from __future__ import annotations

import base64
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from saltwatch.alerts.model import Alert
from saltwatch.analytics.issued import Issue, bulletin_key, publish
from saltwatch.api.auth import AUTH_RESPONSES, Viewer
from saltwatch.api.deps import Context, Rules
from saltwatch.core.errors import RetryableError
from saltwatch.core.timeutil import EARLIEST, LATEST, NS_PER_S, VN_TZ

if TYPE_CHECKING:
    from saltwatch.analytics.bulletin import Bulletin  # matplotlib: imported when first used

router = APIRouter(tags=["bulletins"])
Format = Literal["html", "markdown", "pdf"]
_PAGES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the bulletin",
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "text/markdown": {"schema": {"type": "string"}},
            "application/pdf": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@router.get(
    "/api/v1/reports/daily",
    summary="The daily bulletin in Vietnamese or English (`lang`; HTML with its 7-day chart, "
    "Markdown, or PDF). A day's bulletin is issued the first time it is asked for after the day "
    "ended and kept as issued; when the day's figures change later a numbered revision is issued "
    "beside it (`version` reads any issue); a day not yet over gives a provisional bulletin that "
    "says so. An issue's own link (no token needed) is in the `Content-Location` header",
    responses={**AUTH_RESPONSES, **_PAGES},
)
def daily_report(
    ctx: Context,
    in_force: Rules,
    _: Viewer,
    day: Annotated[
        str | None,
        Query(alias="date", description="YYYY-MM-DD (Vietnam time); default: yesterday"),
    ] = None,
    zone: Annotated[str | None, Query(description="a zone id; its sub-zones included")] = None,
    fmt: Annotated[Format, Query(alias="format")] = "html",
    lang: Annotated[Literal["vi", "en"], Query(description="the bulletin's language")] = "vi",
    version: Annotated[
        int | None, Query(ge=1, le=10_000, description="an issue: 1 as first issued, 2… revisions")
    ] = None,
) -> Response:
    from saltwatch.alerts.messages import firing_text  # noqa: PLC0415
    from saltwatch.analytics.bulletin import build, day_bounds, figures_digest  # noqa: PLC0415
    from saltwatch.analytics.bulletin_text import stamp, to_html, to_markdown  # noqa: PLC0415

    when = _day(day, ctx.clock.now_ns())
    if zone is not None and zone not in ctx.registry.zones:
        raise HTTPException(404, "no such zone")
    rules = in_force()
    now = ctx.clock.now_ns()
    key = bulletin_key(when.isoformat(), zone, lang)
    issued = ctx.issued
    if version is not None:
        issues = issued.issues(key)
        if version > len(issues):
            raise HTTPException(404, f"bulletin {key} has {len(issues)} issue(s)")
        return _page(issues[version - 1], fmt)

    def built() -> Bulletin:
        def describe(alert: Alert) -> str:
            return firing_text(alert, ctx.registry, lang)

        return build(
            ctx.store, ctx.state, ctx.registry, rules, when, zone, describe, lang, ctx.schedules
        )

    def written(b: Bulletin, status: str, share: str = "") -> tuple[str, str]:
        chart = "data:image/png;base64," + base64.b64encode(b.chart_png).decode()
        pdf = f"{share}.pdf" if share else ""
        return to_html(b, ctx.registry, lang, status, pdf), to_markdown(
            b, ctx.registry, chart, lang, status
        )

    minute = now // (60 * NS_PER_S)
    if now < day_bounds(when)[1]:  # the day is not over: not issued yet
        status = stamp(lang, now, None)
        html, markdown = ctx.cache.get(
            ("report", when, zone, lang, minute), lambda: written(built(), status)
        )
        return _page(Issue(0, now, "", html, markdown), fmt)
    try:
        b = ctx.cache.get(("bulletin", when, zone, lang, minute), built)
    except RetryableError:
        issues = issued.issues(key)
        if not issues:
            raise
        return _page(issues[-1], fmt)  # the store is away: the bulletin as last issued

    def issue_text(version: int, share: str) -> tuple[str, str]:
        return written(b, stamp(lang, now, version), share)

    return _page(publish(issued, key, figures_digest(b), issue_text, now), fmt)


@router.get(
    "/api/v1/reports/weekly",
    summary="The weekly bulletin in Vietnamese or English (`lang`; HTML, Markdown or PDF): each "
    "station's highest salinity expected in the coming days with its date and 90 % range, each "
    "river's 4 ‰ and 1 ‰ reach and indicative risk level per day with the structures and "
    "communes reached, the spring tides, the upstream flow, how last week's outlooks did against "
    "persistence, and advice. Issued once a week (from `[outlook] bulletin_weekday`, or the "
    "first time it is asked for that week) and kept as issued: later outlooks of the week do not "
    "change it. Before any station has an outlook, a preview that says so. An issue's own link "
    "(no token needed) is in the `Content-Location` header",
    responses={**AUTH_RESPONSES, **_PAGES, 404: {"description": "that week was not issued"}},
)
def weekly_report(
    ctx: Context,
    in_force: Rules,
    _: Viewer,
    week: Annotated[
        str | None,
        Query(description="the week's first day, YYYY-MM-DD; default: this week"),
    ] = None,
    zone: Annotated[str | None, Query(description="a zone id; its sub-zones included")] = None,
    fmt: Annotated[Format, Query(alias="format")] = "html",
    lang: Annotated[Literal["vi", "en"], Query(description="the bulletin's language")] = "vi",
) -> Response:
    from saltwatch.analytics.weekly_issue import (  # noqa: PLC0415
        issue_weekly,
        preview,
        week_of,
        weekly_key,
    )
    from saltwatch.api.routers.outlook import current_week  # noqa: PLC0415

    if zone is not None and zone not in ctx.registry.zones:
        raise HTTPException(404, "no such zone")
    now = ctx.clock.now_ns()
    when = _day(week, now) if week else None
    rules = in_force()
    try:
        found = current_week(ctx, in_force)
    except RetryableError:  # the store is away: the week's bulletin as issued, if it was
        key = weekly_key(when or week_of(now, rules), zone, lang)
        kept = ctx.issued.issues(key)
        if not kept:
            raise
        return _page(kept[-1], fmt)
    issued = issue_weekly(ctx.issued, found, ctx.registry, rules, zone, lang, now, when)
    if issued is not None:
        return _page(issued.issue, fmt)
    if when is not None and when != week_of(now, rules):
        raise HTTPException(404, "no weekly bulletin was issued for that week")
    return _page(Issue(0, now, "", *preview(found, ctx.registry, rules, zone, lang)), fmt)


@router.get(
    "/bulletins/{share}",
    summary="One issued bulletin at its own link: HTML, or `.md` / `.pdf` after the name. No "
    "token: the link, a random 128-bit name, is the permission to read (a bulletin is made to be "
    "forwarded)",
    responses={404: {"description": "no bulletin at this link"}, **_PAGES},
)
def shared_bulletin(
    ctx: Context,
    share: Annotated[str, Path(pattern=r"^[0-9a-f]{32}(\.md|\.pdf)?$")],
) -> Response:
    name, _, suffix = share.partition(".")
    found = ctx.issued.shared(name)
    if found is None:
        raise HTTPException(404, "no bulletin at this link")
    return _page(found, {"md": "markdown", "pdf": "pdf"}.get(suffix, "html"))


def _day(day: str | None, now_ns: int) -> date:
    if day is None:
        return datetime.fromtimestamp(now_ns / NS_PER_S, VN_TZ).date() - timedelta(days=1)
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise HTTPException(422, "date: expected YYYY-MM-DD") from None
    if not EARLIEST.date() <= when < LATEST.date():
        raise HTTPException(422, "date: must lie between 1900 and 2200")
    return when


def _page(issue: Issue, fmt: str) -> Response:
    headers = {"Content-Location": f"/bulletins/{issue.share}"} if issue.share else {}
    if fmt == "html":
        return HTMLResponse(issue.html, headers=headers)
    if fmt == "pdf":
        from saltwatch.analytics.bulletin_pdf import pdf_of  # noqa: PLC0415 - WeasyPrint

        return Response(pdf_of(issue.html), media_type="application/pdf", headers=headers)
    return PlainTextResponse(
        issue.markdown, media_type="text/markdown; charset=utf-8", headers=headers
    )
