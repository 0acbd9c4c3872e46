"""The weekly bulletin written out, in Vietnamese (the default) or English: one HTML page laid
out for a phone first (and printed to PDF by analytics/bulletin_pdf.py) and Markdown."""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from datetime import date
from typing import Literal

from saltwatch.analytics.bulletin_text import PAGE_STYLE, vn_time
from saltwatch.analytics.reach import Reach
from saltwatch.analytics.risk import LINE_TEXT, RiskLevel
from saltwatch.analytics.weekly import SKILL_LEAD, RiverWeek, WeeklyBulletin
from saltwatch.core.catalogue import LANGS, Lang, words
from saltwatch.core.registry import Registry

#: the weekly bulletin's words in each language (core/catalogue.py)
WORDS: dict[str, dict[str, str]] = {lang: dict(words(lang, "weekly")) for lang in LANGS}


@dataclass(frozen=True)
class Part:
    """One part of the page: a heading, a paragraph, a note, a list or a table."""

    kind: Literal["h2", "p", "em", "ul", "table"]
    text: str = ""
    items: tuple[str, ...] = ()
    header: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()


def _table(header: list[str], rows: list[list[str]]) -> Part:
    return Part("table", header=tuple(header), rows=tuple(tuple(r) for r in rows))


def _num(value: float | None, lang: Lang, digits: int = 2) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "vi" else text


def _day(day: date, lang: Lang) -> str:
    return f"{day:%d/%m}" if lang == "vi" else f"{day:%d %b}"


def _days(first: date, last: date, lang: Lang) -> str:
    """A day, or the days from ``first`` to ``last``, the month once where both share it (a
    narrow column on a phone)."""
    if first == last:
        return _day(first, lang)
    if (first.year, first.month) != (last.year, last.month):
        return f"{_day(first, lang)}–{_day(last, lang)}"
    return f"{first:%d}–{_day(last, lang)}"


def _reach(reach: Reach | None, lang: Lang) -> str:
    if reach is None:
        return "–"
    text = reach.text().removesuffix(" km")
    return text.replace(".", ",") if lang == "vi" else text


def _level(risk: RiskLevel, lang: Lang) -> str:
    w = WORDS[lang]
    text = w["level"].format(n=risk.level) if risk.level > 0 else w["below"]
    return w["by"].format(level=text, line=LINE_TEXT[risk.by]) if risk.by else text


def title(b: WeeklyBulletin, registry: Registry, lang: Lang) -> str:
    roots = [z.name for z in registry.zones.values() if z.parent is None]
    where = registry.zones[b.zone].name if b.zone else ", ".join(roots)
    fmt = "%d/%m/%Y" if lang == "vi" else "%Y-%m-%d"
    return WORDS[lang]["title"].format(
        first=b.first.strftime(fmt), last=b.last.strftime(fmt), where=where
    )


def _river_blocks(r: RiverWeek, lang: Lang) -> list[Part]:
    w = WORDS[lang]
    today = (
        w["today"].format(river=r.name, level=_level(r.observed, lang))
        if r.observed is not None
        else w["today_none"].format(river=r.name)
    )
    if not r.days:
        return [Part("p", today), Part("p", w["no_front"].format(river=r.name))]
    rows = [
        [
            _day(d.day, lang),
            _reach(d.reach_4, lang),
            f"{_reach(d.range_4[0], lang)} – {_reach(d.range_4[1], lang)}",
            _reach(d.reach_1, lang),
            _level(d.risk, lang),
        ]
        for d in r.days
    ]
    header = [w[k] for k in ("day", "line4", "line4_range", "line1", "level_h")]
    out: list[Part] = [Part("p", today), _table(header, rows)]
    passed = [*r.reached, *r.communes]
    if passed:
        out.append(Part("p", w["reached"].format(what=", ".join(passed))))
    return out


def blocks(b: WeeklyBulletin, lang: Lang) -> list[Part]:
    """The bulletin's parts in order, shared by the two formats."""
    w = WORDS[lang]
    out: list[Part] = []
    if b.origin is not None:
        made = vn_time(b.made_at_ns)
        out.append(Part("p", w["made"].format(at=made, origin=_day(b.origin, lang))))
    out.append(Part("h2", w["stations"]))
    rows = [
        [s.name, s.zone, _num(s.peak, lang), _days(s.day, s.until, lang),
         f"{_num(s.lower, lang)} – {_num(s.upper, lang)}", w[s.level or "normal"]]
        for s in b.stations
    ]  # fmt: skip
    header = [w[k] for k in ("station", "zone", "peak", "day", "range", "status")]
    out.append(_table(header, rows))
    out.append(Part("h2", w["front"]))
    for river in b.rivers:
        out += _river_blocks(river, lang)
    out.append(Part("h2", w["springs"]))
    springs = [
        w["spring_height"].format(day=_day(s.day, lang), h=_num(s.height_m, lang))
        if s.height_m is not None
        else w["spring_day"].format(day=_day(s.day, lang))
        for s in b.springs
    ]
    out.append(Part("ul", items=tuple(springs)) if springs else Part("p", w["springs_none"]))
    out.append(Part("p", w[f"tide_{b.tide_basis}"]))
    out.append(Part("h2", w["flow"]))
    if b.flows:
        header = [w["station"], *[_day(d, lang) for d, _ in b.flows[0].days]]
        flows = [[f.name, *[_num(v, lang, 0) for _, v in f.days]] for f in b.flows]
        out.append(_table(header, flows))
    else:
        out.append(Part("p", w["flow_none"]))
    out += [Part("h2", w["skill"]), Part("p", skill_text(b, lang))]
    out += [Part("h2", w["advice"]), Part("ul", items=tuple(advice_text(b, lang)))]
    out.append(Part("em", w["note"]))
    return out


def skill_text(b: WeeklyBulletin, lang: Lang) -> str:
    w = WORDS[lang]
    s = b.scored
    if s is None or s.mae_persistence <= 0:
        return w["skill_none"]
    gain = 1.0 - s.mae / s.mae_persistence
    p = round(abs(gain) * 100)
    verdict = w["same"] if p < 2 else w["better" if gain > 0 else "worse"].format(p=p)
    return w["skill_text"].format(
        lead=SKILL_LEAD,
        mae=_num(s.mae, lang),
        base=_num(s.mae_persistence, lang),
        n=s.scored,
        verdict=verdict,
    )


def advice_text(b: WeeklyBulletin, lang: Lang) -> list[str]:
    w = WORDS[lang]
    out = []
    for key in b.advice:
        if key == "springs":
            days = ", ".join(_day(s.day, lang) for s in b.springs)
            out.append(w["a_springs"].format(days=days))
        elif key == "intake":
            what = "; ".join(
                f"{s.name} ({', '.join(_day(d, lang) for d in s.intake_days)})"
                for s in b.stations
                if s.intake_days
            )
            out.append(w["a_intake"].format(what=what))
        else:
            out.append(w[f"a_{key}"])
    return out


def to_markdown(b: WeeklyBulletin, registry: Registry, lang: Lang, status: str = "") -> str:
    lines = [f"# {title(b, registry, lang)}", ""]
    if status:
        lines += [f"**{status}**", ""]
    for part in blocks(b, lang):
        if part.kind == "h2":
            lines += [f"## {part.text}", ""]
        elif part.kind in ("p", "em"):
            lines += [f"_{part.text}_" if part.kind == "em" else part.text, ""]
        elif part.kind == "ul":
            lines += [f"- {item}" for item in part.items] + [""]
        else:
            lines.append("| " + " | ".join(part.header) + " |")
            lines.append("|" + "---|" * len(part.header))
            lines += [
                "| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in part.rows
            ]
            lines.append("")
    return "\n".join(lines)


def to_html(
    b: WeeklyBulletin, registry: Registry, lang: Lang, status: str = "", pdf: str = ""
) -> str:
    e, w = html.escape, WORDS[lang]
    bad, warn = w["critical"], w["warning"]
    heading = e(title(b, registry, lang))
    parts = [
        "<!doctype html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{heading}</title><style>{PAGE_STYLE}</style></head><body>",
        f"<h1>{heading}</h1>",
    ]
    if pdf:
        parts.append(f'<p><a class="pdf" href="{e(pdf)}" download>{e(w["pdf"])}</a></p>')
    if status:
        parts.append(f'<p class="status"><strong>{e(status)}</strong></p>')
    for part in blocks(b, lang):
        if part.kind in ("h2", "p"):
            parts.append(f"<{part.kind}>{e(part.text)}</{part.kind}>")
        elif part.kind == "em":
            parts.append(f"<p><em>{e(part.text)}</em></p>")
        elif part.kind == "ul":
            parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in part.items) + "</ul>")
        else:
            head = "".join(f"<th>{e(h)}</th>" for h in part.header)
            parts.append(f"<table><tr>{head}</tr>")
            for row in part.rows:
                cells = (
                    f'<td class="{"bad" if c == bad else "warn"}">{e(c)}</td>'
                    if c in (bad, warn)
                    else f"<td>{e(c)}</td>"
                    for c in row
                )
                parts.append("<tr>" + "".join(cells) + "</tr>")
            parts.append("</table>")
    parts.append("</body></html>")
    return "\n".join(parts)
