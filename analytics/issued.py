"""Issued bulletins, kept as issued (docs/interface.md ``/reports/daily``).

A day's bulletin is *issued* the first time it is asked for after the day ended; from then on
that text is what the bulletin says. When the day's figures change later (a late reading, a
reading QC flags afterwards, an alert judged late), a *revision* is issued beside it, marked as
one and numbered; the earlier issues stay readable. Nothing an engineer forwarded changes under
his feet. The port is here; the adapter (storage/bulletin_sqlite.py) keeps the issues in the
alert state's file.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from saltwatch.core.errors import RetryableError


@dataclass(frozen=True, slots=True)
class Issue:
    """One issued text of one bulletin (day, zone, language)."""

    version: int  # 1: as first issued; 2…: revisions
    issued_at_ns: int
    digest: str  # of the figures it states (analytics/bulletin.py ``figures_digest``)
    html: str
    markdown: str
    #: its link, ``/bulletins/<share>``: a random 128-bit name, the link itself the permission
    #: to read (a bulletin is made to be forwarded; it holds nothing a token guards more)
    share: str = ""


class IssuedBulletins(Protocol):
    def issues(self, key: str) -> list[Issue]:
        """Every issue of the bulletin ``key``, oldest first."""
        ...

    def shared(self, share: str) -> Issue | None:
        """The issue whose link is ``/bulletins/<share>``."""
        ...

    def add(self, key: str, issue: Issue) -> bool:
        """Keep ``issue`` durably; False when that version was issued meanwhile (by another
        API process): the caller reads the issues again."""
        ...

    def close(self) -> None: ...


def bulletin_key(day: str, zone: str | None, lang: str) -> str:
    return f"{day}:{zone or '*'}:{lang}"


def publish(
    archive: IssuedBulletins,
    key: str,
    digest: str,
    render: Callable[[int, str], tuple[str, str]],
    now_ns: int,
) -> Issue:
    """The bulletin as issued: its last issue when that states these figures (``digest``); else
    a new issue, the first or a revision, written by ``render(version, share)`` (HTML, Markdown)
    and kept before it is shown."""
    for _ in range(3):
        issues = archive.issues(key)
        if issues and issues[-1].digest == digest:
            return issues[-1]
        version = len(issues) + 1
        share = secrets.token_hex(16)
        html, markdown = render(version, share)
        issue = Issue(version, now_ns, digest, html, markdown, share)
        if archive.add(key, issue):
            return issue
    raise RetryableError("the bulletin is being issued by another process; try again")
