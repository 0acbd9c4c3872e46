"""``saltwatch report`` assembled: the daily bulletin built from the configured stores and
written as HTML, Markdown and PNG."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

from saltwatch.alerts.messages import firing_text
from saltwatch.analytics.bulletin import build
from saltwatch.analytics.bulletin_text import to_html, to_markdown
from saltwatch.core.registry import Registry
from saltwatch.core.rules import rules_in_force
from saltwatch.core.settings import Settings
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.factory import open_reading_store
from saltwatch.storage.schedule_sqlite import SqliteSchedules


def write_daily_bulletin(
    settings: Settings,
    registry: Registry,
    day: dt.date,
    zone: str | None,
    out: Path,
    language: Literal["vi", "en"],
) -> str:
    """Write the bulletin of ``day`` into ``out``; the line that says what was written."""
    state = SqliteAlertStore(settings.state.path) if settings.state.path.exists() else None
    plans = SqliteSchedules(settings.state.path) if state else None
    saved = state.saved_rules() if state else None
    rules = rules_in_force(saved, settings.alerts.rules_path)
    store = open_reading_store(settings.store)
    try:
        describe = lambda a: firing_text(a, registry, language)  # noqa: E731
        bulletin = build(store, state, registry, rules, day, zone, describe, language, plans)
    finally:
        store.close()
        if plans:
            plans.close()
        if state:
            state.close()
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bulletin-{day.isoformat()}" + (f"-{zone}" if zone else "")
    stem += "-en" if language == "en" else ""
    (out / f"{stem}.png").write_bytes(bulletin.chart_png)
    markdown = to_markdown(bulletin, registry, f"{stem}.png", language)
    (out / f"{stem}.md").write_text(markdown, encoding="utf-8")
    (out / f"{stem}.html").write_text(to_html(bulletin, registry, language), encoding="utf-8")
    return (
        f"{out / stem}.html (and .md, .png): {len(bulletin.stations)} stations, "
        f"{len(bulletin.fronts)} rivers, {len(bulletin.alerts)} alerts"
    )
