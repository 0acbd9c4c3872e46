"""The daily bulletin written out, in Vietnamese (the default) or English: HTML with the chart
inlined (one file to mail or print) and Markdown with the chart beside it. Numbers are written
as each language does (8,9 in Vietnamese, 8.9 in English)."""

from __future__ import annotations

import base64
import html

from saltwatch.analytics.bulletin import Bulletin, day_bounds
from saltwatch.analytics.risk import LINE_TEXT, RiskLevel
from saltwatch.analytics.saltfront import FrontDay
from saltwatch.core.catalogue import LANGS, Lang, words
from saltwatch.core.registry import Registry
from saltwatch.core.timeutil import VN_TZ, short_time, to_rfc3339

#: the daily bulletin's words in each language (core/catalogue.py)
WORDS: dict[str, dict[str, str]] = {lang: dict(words(lang, "daily")) for lang in LANGS}


#: the bulletins' page style: a phone first (tables scroll sideways), then print
PAGE_STYLE = (
    "body{font-family:system-ui,'DejaVu Sans',sans-serif;margin:1em;max-width:60em;"
    "line-height:1.4}h1{font-size:1.35em}h2{font-size:1.1em;margin-top:1.4em}"
    "table{border-collapse:collapse;margin-bottom:1em;display:block;overflow-x:auto;"
    "max-width:100%}td,th{border:1px solid #bbb;padding:.3em .5em;text-align:left;"
    "vertical-align:top}th{background:#eef3f7}.bad{color:#b71c1c;font-weight:600}"
    ".warn{color:#e65100}img{max-width:100%}a.pdf{display:inline-block;padding:.6em 1em;"
    "border:1px solid #0b4f6c;border-radius:6px;color:#0b4f6c;text-decoration:none}"
    "@media print{table{display:table}}"
)


def _fmt(value: float | None, lang: Lang, digits: int = 2) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return text.replace(".", ",") if lang == "vi" else text


def _when(ts_ns: int, same_day: bool) -> str:
    """``14:30`` on the bulletin's day, ``14:30 28/02`` before it: one way, both languages."""
    return short_time(ts_ns)[:5] if same_day else short_time(ts_ns)


def _title(b: Bulletin, registry: Registry, lang: Lang) -> str:
    roots = [z.name for z in registry.zones.values() if z.parent is None]
    where = registry.zones[b.zone].name if b.zone else ", ".join(roots)
    day = f"{b.day:%d/%m/%Y}" if lang == "vi" else b.day.isoformat()
    return WORDS[lang]["title"].format(day=day, where=where)


def _level_text(risk: RiskLevel, lang: Lang) -> str:
    """``cấp 2 (ranh 4‰)`` / ``level 2 (4‰ line)``: the level and the line that gave it."""
    w = WORDS[lang]
    text = w["level"].format(n=risk.level) if risk.level > 0 else w["below"]
    return w["by"].format(level=text, line=LINE_TEXT[risk.by]) if risk.by else text


def _reach_text(front: FrontDay, line: float, lang: Lang) -> str:
    reach = front.reaches.get(line)
    if reach is None:
        return "–"
    text = reach.text()
    return text.replace(".", ",") if lang == "vi" else text


Table = tuple[str, list[str], list[list[str]]]


def tables(b: Bulletin, registry: Registry, lang: Lang) -> list[Table]:
    """(heading, header, rows) of each section, shared by the two formats."""
    w = WORDS[lang]
    zone_name = {z.id: z.name for z in registry.zones.values()}
    stations = [
        [
            s.device.name,
            zone_name.get(s.device.zone, s.device.zone),
            _fmt(s.device.km, lang, 0) if s.device.km is not None else "–",
            _fmt(s.max_ppt, lang),
            _fmt(s.min_ppt, lang),
            f"{s.warning:g} / {s.critical:g}".replace(".", "," if lang == "vi" else "."),
            w[f"s_{s.status}"],
        ]
        for s in b.stations
    ]
    fronts = [
        [
            registry.rivers[f.river].name,
            _reach_text(f, 4.0, lang),
            _reach_text(f, 1.0, lang),
            _level_text(f.risk, lang),
            _level_text(f.forecast, lang) if f.forecast else w["no_forecast"],
        ]
        for f in b.fronts
    ]
    supply = [
        [
            zone_name.get(s.zone, s.zone),
            f"{s.wells_ran} / {s.wells_total}",
            _fmt(s.well_m3, lang, 1),
            f"{s.taps_opened} / {s.taps_total}",
            _fmt(s.tap_m3, lang, 1),
        ]
        for s in b.supply
    ]
    alerts = [
        [
            _when(a.started_at_ns, a.started_at_ns >= day_bounds(b.day)[0]),
            w.get(a.severity, a.severity),
            zone_name.get(a.zone, a.zone),
            b.alert_texts.get(a.id, a.rule),
            w.get(a.state, a.state),
        ]
        for a in b.alerts
    ]
    gates = [
        [
            g.structure.name,
            "; ".join(
                f"{_when(at, True)} {w.get('g_' + state, state)} ({by or w['g_sensor']})"
                for at, state, by in g.changes
            )
            or "–",
            "; ".join(f"{_when(a, False)}–{_when(b, True)} ({by})" for a, b, by in g.planned)
            or "–",
        ]
        for g in b.gates
    ]
    return [
        (
            w["stations"],
            [w[k] for k in ("station", "zone", "km", "max", "min", "levels", "status")],
            stations,
        ),
        (w["front"], [w[k] for k in ("river", "line4", "line1", "observed", "forecast")], fronts),
        (
            w["supply"],
            [w[k] for k in ("zone", "wells_ran", "well_m3", "taps_opened", "tap_m3")],
            supply,
        ),
        (w["gates"], [w[k] for k in ("structure", "changes", "planned")], gates),
        (
            w["alerts"],
            [w[k] for k in ("start", "severity", "zone", "text", "state")],
            alerts,
        ),
    ]


def vn_time(at_ns: int) -> str:
    """``14:30 12/03/2024``: a moment as the bulletins write it (Vietnam time)."""
    text = to_rfc3339(at_ns, VN_TZ)
    return f"{text[11:16]} {text[8:10]}/{text[5:7]}/{text[:4]}"


def stamp(lang: Lang, at_ns: int, version: int | None) -> str:
    """What a bulletin says of itself: issued (``version`` 1), a revision (2…), or provisional
    (``version`` None: the day is not over), with the time."""
    at = vn_time(at_ns)
    w = WORDS[lang]
    if version is None:
        return w["draft"].format(at=at)
    if version == 1:
        return w["issued"].format(at=at)
    return w["revised"].format(at=at, n=version - 1, before=version - 1)


def to_markdown(
    b: Bulletin, registry: Registry, chart_file: str, lang: Lang = "vi", status: str = ""
) -> str:
    w = WORDS[lang]
    lines = [f"# {_title(b, registry, lang)}", ""]
    if status:
        lines += [f"**{status}**", ""]
    for heading, header, rows in tables(b, registry, lang):
        lines += [f"## {heading}", ""]
        if not rows:
            lines += [w["none"], ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += [f"## {w['chart']}", "", f"![{w['chart']}]({chart_file})", "", f"_{w['note']}_", ""]
    return "\n".join(lines)


def to_html(
    b: Bulletin, registry: Registry, lang: Lang = "vi", status: str = "", pdf: str = ""
) -> str:
    """The bulletin as one HTML page, laid out for a phone first; ``pdf``: the link to its PDF
    (an issue's own), shown at the top."""
    e, w = html.escape, WORDS[lang]
    bad, warn = {w["critical"], w["s_critical"]}, {w["warning"], w["s_warning"]}
    parts = [
        "<!doctype html>",
        f'<html lang="{lang}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(_title(b, registry, lang))}</title>",
        f"<style>{PAGE_STYLE}</style>",
        "</head><body>",
        f"<h1>{e(_title(b, registry, lang))}</h1>",
    ]
    if pdf:
        parts.append(f'<p><a class="pdf" href="{e(pdf)}" download>{e(w["pdf"])}</a></p>')
    if status:
        parts.append(f'<p class="status"><strong>{e(status)}</strong></p>')
    for heading, header, rows in tables(b, registry, lang):
        parts.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            parts.append(f"<p>{e(w['none'])}</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            cells = (
                f'<td class="{"bad" if c in bad else "warn"}">{e(c)}</td>'
                if c in bad or c in warn
                else f"<td>{e(c)}</td>"
                for c in row
            )
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    chart = base64.b64encode(b.chart_png).decode()
    parts += [
        f"<h2>{e(w['chart'])}</h2>",
        f'<img alt="{e(w["chart"])}" src="data:image/png;base64,{chart}">',
        f"<p><em>{e(w['note'])}</em></p>",
        "</body></html>",
    ]
    return "\n".join(parts)
