"""The weekly bulletin issued: once a week (from ``[outlook] bulletin_weekday``, or the first
time it is due or asked for in a week), in each language, for the whole registry, and kept as
issued (analytics/issued.py): later outlooks of the same week never change it. What is sent to
the receivers that asked for it (``bulletins = true``): its title and link."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from saltwatch.alerts.model import Fingerprint
from saltwatch.analytics.bulletin_text import stamp
from saltwatch.analytics.issued import Issue, IssuedBulletins, publish
from saltwatch.analytics.outlook_kept import StationOutlook, vn_date
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.week import WeekAhead, week_ahead
from saltwatch.analytics.weekly import WeeklyBulletin, build_weekly, week_start
from saltwatch.analytics.weekly_text import WORDS, title, to_html, to_markdown
from saltwatch.core.catalogue import Lang
from saltwatch.core.clock import Clock
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import VN_TZ, to_rfc3339

LANGS: tuple[Lang, ...] = ("vi", "en")


def weekly_key(week_of: date, zone: str | None, lang: str) -> str:
    return f"weekly:{week_of.isoformat()}:{zone or '*'}:{lang}"


def week_of(now_ns: int, rules: RuleSet) -> date:
    """The first day of the bulletin week holding ``now`` (Vietnam time)."""
    return week_start(vn_date(now_ns), rules.outlook.bulletin_weekday)


@dataclass(frozen=True)
class Issued:
    issue: Issue
    bulletin: WeeklyBulletin | None  # None: issued before (read back as it was)
    new: bool


def issue_weekly(
    archive: IssuedBulletins,
    week: WeekAhead,
    registry: Registry,
    rules: RuleSet,
    zone: str | None,
    lang: Lang,
    now_ns: int,
    when: date | None = None,
) -> Issued | None:
    """The bulletin of the week ``when`` (default: this week) as issued; issued now from
    ``week`` when it was not yet and the week is this one. None: not issued and cannot be (no
    station has an outlook yet, or a past week never issued)."""
    current = week_of(now_ns, rules)
    target = when or current
    key = weekly_key(target, zone, lang)
    issues = archive.issues(key)
    if issues:
        return Issued(issues[-1], None, False)
    if target != current or not week.stations or week.origin is None:
        return None
    b = build_weekly(week, registry, rules, zone, week.origin + timedelta(days=1))

    def render(version: int, share: str) -> tuple[str, str]:
        status = stamp(lang, now_ns, version)
        return to_html(b, registry, lang, status, f"{share}.pdf"), to_markdown(
            b, registry, lang, status
        )

    digest = hashlib.blake2b(to_markdown(b, registry, lang).encode(), digest_size=16).hexdigest()
    return Issued(publish(archive, key, digest, render, now_ns), b, True)


def preview(
    week: WeekAhead, registry: Registry, rules: RuleSet, zone: str | None, lang: Lang
) -> tuple[str, str]:
    """The bulletin as it would read now, not issued: before any station has an outlook it
    says, river by river, that nothing ahead can be stated yet."""
    first = week.origin + timedelta(days=1) if week.origin else vn_date(week.made_at_ns)
    b = build_weekly(week, registry, rules, zone, first)
    status = WORDS[lang]["draft"]
    return to_html(b, registry, lang, status), to_markdown(b, registry, lang, status)


def announcement(
    issued: dict[Lang, Issued], registry: Registry, zone: str | None, public_url: str | None
) -> dict[str, Any]:
    """What a receiver is sent: shaped like an alert event (docs/interface.md §4), so that
    every notifier carries it, with ``kind`` ``bulletin`` and each language's ``link``."""
    base = (public_url or "").rstrip("/")
    links = {lang: f"{base}/bulletins/{i.issue.share}" for lang, i in issued.items()}
    root = zone or next(z.id for z in registry.zones.values() if z.parent is None)
    first = next(iter(issued.values()))
    at = to_rfc3339(first.issue.issued_at_ns, VN_TZ)
    text = {
        lang: (title(i.bulletin, registry, lang) if i.bulletin else "SaltWatch")
        for lang, i in issued.items()
    }
    vi, en = links.get("vi", ""), links.get("en", "")
    return {
        "id": f"bulletin-{first.issue.share[:12]}",
        "fingerprint": str(Fingerprint("weekly-bulletin", root)),
        "rule": "weekly-bulletin",
        "kind": "bulletin",
        "severity": "info",
        "state": "issued",
        "zone": root,
        "zone_name": registry.zones[root].name,
        "device": None,
        "value": None,
        "threshold": None,
        "unit": "",
        "started_at": at,
        "at": at,
        "message_vi": f"{text.get('vi', '')}. Xem bản tin: {vi} (PDF: {vi}.pdf)",
        "message_en": f"{text.get('en', '')}. Read it at {en} (PDF: {en}.pdf)",
        "late": False,
        "group": f"bulletin:{root}",
        "links": links,
    }


class WeeklyIssuer:
    """Issues the week's bulletin in each language the first time it is due (the job runs on
    the forecast cadence) and tells the receivers that asked for it."""

    def __init__(
        self,
        archive: IssuedBulletins,
        store: ReadingStore,
        registry: Registry,
        rules: Callable[[], RuleSet],
        clock: Clock,
        observed: Callable[[], dict[str, RiskLevel]],
        send: Callable[[dict[str, Any]], None],
        public_url: str | None = None,
    ) -> None:
        self.archive = archive
        self.store = store
        self.registry = registry
        self.rules = rules
        self.clock = clock
        self.observed = observed
        self.send = send
        self.public_url = public_url

    def update(self, outlooks: dict[str, StationOutlook]) -> dict[Lang, Issued]:
        """The bulletins issued now (none when this week's were issued before)."""
        now = self.clock.now_ns()
        rules = self.rules()
        week = week_ahead(self.store, self.registry, rules, outlooks, self.observed(), now)
        new: dict[Lang, Issued] = {}
        for lang in LANGS:
            issued = issue_weekly(self.archive, week, self.registry, rules, None, lang, now)
            if issued is not None and issued.new:
                new[lang] = issued
        if new:
            self.send(announcement(new, self.registry, None, self.public_url))
        return new
