"""The daily bulletin written out, in Vietnamese (the default) or English: HTML with the chart
inlined (one file to mail or print) and Markdown with the chart beside it. Numbers are written
as each language does (8,9 in Vietnamese, 8.9 in English)."""

from __future__ import annotations

import base64
import html

from saltwatch.analytics.bulletin import Bulletin, Lang, day_bounds
from saltwatch.analytics.risk import LINE_TEXT, RiskLevel
from saltwatch.analytics.saltfront import FrontDay
from saltwatch.core.registry import Registry
from saltwatch.core.timeutil import VN_TZ, short_time, to_rfc3339

WORDS: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Bản tin xâm nhập mặn ngày {day} — {where}",
        "stations": "Độ mặn tại các trạm",
        "front": "Ranh mặn và cấp độ rủi ro (QĐ 18/2021/QĐ-TTg)",
        "supply": "Giếng dự phòng và vòi nước công cộng",
        "gates": "Cống: đóng mở trong ngày và lịch mở 3 ngày tới",
        "structure": "Công trình", "changes": "Trong ngày", "planned": "Lịch mở",
        "g_open": "mở", "g_closed": "đóng", "g_partial": "mở một phần", "g_sensor": "cảm biến",
        "alerts": "Cảnh báo trong ngày",
        "chart": "Độ mặn 7 ngày qua",
        "none": "Không có.",
        "station": "Trạm", "zone": "Khu vực", "km": "Cách cửa sông (km)", "max": "Lớn nhất (‰)",
        "min": "Nhỏ nhất (‰)", "levels": "Ngưỡng cảnh báo / nguy hiểm (‰)", "status": "Đánh giá",
        "river": "Sông", "line4": "Ranh mặn 4‰", "line1": "Ranh mặn 1‰",
        "observed": "Cấp độ theo số liệu đo trong ngày",
        "forecast": "Cấp độ theo dự báo 48 giờ tới (lần tính cuối trong ngày)",
        "no_forecast": "chưa tính được (chưa có dự báo của các trạm)",
        "wells_ran": "Giếng đã chạy", "well_m3": "Nước giếng (m³)", "taps_opened": "Vòi đã mở",
        "tap_m3": "Nước tại vòi (m³)", "start": "Bắt đầu", "severity": "Mức", "rule": "Quy tắc",
        "text": "Nội dung", "state": "Trạng thái",
        "s_nodata": "không có số liệu", "s_critical": "vượt ngưỡng nguy hiểm",
        "s_warning": "vượt ngưỡng cảnh báo", "s_normal": "bình thường",
        "critical": "nguy hiểm", "warning": "cảnh báo", "info": "thông tin",
        "firing": "đang xảy ra", "acknowledged": "đã xác nhận", "resolved": "đã kết thúc",
        "below": "dưới cấp 1", "level": "cấp {n}", "by": "{level} (ranh {line})",
        "note": "Số liệu tự động, chỉ tính các giá trị đạt kiểm tra chất lượng. Cấp độ rủi ro là "
        "cấp tham khảo, tính theo ranh mặn 4‰ và 1‰ (Điều 49, QĐ 18/2021/QĐ-TTg) từ số liệu "
        "quan trắc trong ngày và từ dự báo 48 giờ; cấp độ chính thức do cơ quan có thẩm quyền "
        "công bố.",
        "issued": "Phát hành lúc {at}.", "pdf": "Tải bản PDF",
        "revised": "Bản sửa đổi lần {n}, phát hành lúc {at}: số liệu của ngày đã thay đổi sau "
        "lần phát hành trước (số liệu đến muộn hoặc được kiểm tra lại). Các bản trước vẫn được "
        "lưu (version=1…{before}).",
        "draft": "Bản tạm, chưa phát hành: số liệu đến {at}. Bản tin được phát hành khi hết ngày.",
    },
    "en": {
        "title": "Saltwater intrusion bulletin for {day} — {where}",
        "stations": "Salinity at the stations",
        "front": "Salt front and risk level (Decision 18/2021/QĐ-TTg)",
        "supply": "Backup wells and public taps",
        "gates": "Sluices: opened and closed that day, openings planned for the next 3 days",
        "structure": "Structure", "changes": "That day", "planned": "Planned openings",
        "g_open": "opened", "g_closed": "closed", "g_partial": "partly opened",
        "g_sensor": "sensor",
        "alerts": "Alerts of the day",
        "chart": "Salinity, last 7 days",
        "none": "None.",
        "station": "Station", "zone": "Zone", "km": "From the mouth (km)", "max": "Maximum (‰)",
        "min": "Minimum (‰)", "levels": "Warning / critical level (‰)", "status": "Assessment",
        "river": "River", "line4": "4‰ line", "line1": "1‰ line",
        "observed": "Level from the day's measurements",
        "forecast": "Level from the next 48 h forecast (the day's last)",
        "no_forecast": "not computed (no station forecasts yet)",
        "wells_ran": "Wells run", "well_m3": "Well water (m³)", "taps_opened": "Taps opened",
        "tap_m3": "Water at taps (m³)", "start": "Start", "severity": "Severity", "rule": "Rule",
        "text": "Message", "state": "State",
        "s_nodata": "no data", "s_critical": "above the critical level",
        "s_warning": "above the warning level", "s_normal": "normal",
        "critical": "critical", "warning": "warning", "info": "info",
        "firing": "ongoing", "acknowledged": "acknowledged", "resolved": "ended",
        "below": "below level 1", "level": "level {n}", "by": "{level} ({line} line)",
        "note": "Automatic data; only readings that passed quality control count. The risk level "
        "is indicative, computed from the 4‰ and 1‰ lines (Article 49, Decision 18/2021/QĐ-TTg) "
        "from the day's measurements and from the 48-hour forecast; the official level is "
        "declared by the authorities.",
        "issued": "Issued at {at}.", "pdf": "Download the PDF",
        "revised": "Revision {n}, issued at {at}: the day's figures changed after the previous "
        "issue (late readings, or readings checked again). The earlier issues are kept "
        "(version=1…{before}).",
        "draft": "Provisional, not issued: readings up to {at}. The bulletin is issued once the "
        "day is over.",
    },
}  # fmt: skip


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
