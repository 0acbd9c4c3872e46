"""The daily bulletin, in Vietnamese: each station's maximum and minimum of the day against its
levels, the salt front and risk level per river, wells and taps (running / total, water
delivered), the day's alerts, and a chart of the last 7 days. HTML (the chart inlined, one file
to mail or print) and Markdown (the chart beside it as a PNG).
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from alerts.model import Alert
from analytics.risk import LINE_TEXT, RiskLevel
from analytics.saltfront import FrontDay, compute_days, forecast_of, rivers_with_stations
from core.qc import BAD_FLAGS
from core.registry import Device, Registry
from core.rules import RuleSet
from core.timeutil import NS_PER_S, VN_TZ, to_rfc3339
from core.topics import TopicKind
from core.types import Reading
from storage.alert_sqlite import AlertState
from storage.ports import ReadingStore

SEVERITY_VI = {"critical": "nguy hiểm", "warning": "cảnh báo", "info": "thông tin"}
STATE_VI = {"firing": "đang xảy ra", "acknowledged": "đã xác nhận", "resolved": "đã kết thúc"}
LEVEL_VI = {0: "dưới cấp 1", 1: "cấp 1", 2: "cấp 2", 3: "cấp 3", 4: "cấp 4", 5: "cấp 5"}


@dataclass
class StationDay:
    device: Device
    max_ppt: float | None
    min_ppt: float | None
    warning: float
    critical: float

    @property
    def status(self) -> str:
        if self.max_ppt is None:
            return "không có số liệu"
        if self.max_ppt >= self.critical:
            return "vượt ngưỡng nguy hiểm"
        if self.max_ppt >= self.warning:
            return "vượt ngưỡng cảnh báo"
        return "bình thường"


@dataclass
class SupplyDay:
    zone: str
    wells_ran: int
    wells_total: int
    well_m3: float
    taps_opened: int
    taps_total: int
    tap_m3: float


@dataclass
class Bulletin:
    day: date
    zone: str | None
    stations: list[StationDay]
    fronts: list[FrontDay]
    supply: list[SupplyDay]
    alerts: list[Alert]
    chart_png: bytes
    alert_texts: dict[str, str] = field(default_factory=dict)  # alert id → its message


def _bounds(day: date) -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
    return int(start.timestamp()) * NS_PER_S, int(
        (start + timedelta(days=1)).timestamp()
    ) * NS_PER_S


def _covered(registry: Registry, zone: str | None) -> set[str] | None:
    return None if zone is None else {zone, *registry.descendants(zone)}


def _in(device: Device, covered: set[str] | None) -> bool:
    return covered is None or bool({device.zone, *device.also_zones} & covered)


def _good(readings: list[Reading], name: str) -> list[float]:
    out = []
    for r in readings:
        value = r.fields.get(name)
        if not r.qc & BAD_FLAGS and isinstance(value, float | int) and not isinstance(value, bool):
            out.append(float(value))
    return out


def build(
    store: ReadingStore,
    state: AlertState | None,
    registry: Registry,
    rules: RuleSet,
    day: date,
    zone: str | None = None,
    describe: Callable[[Alert], str] | None = None,
) -> Bulletin:
    """The day's bulletin; ``describe`` gives an alert's text in Vietnamese (alerts/messages.py
    ``firing_text_vi``, passed in by the caller: analytics knows alerts by their model only)."""
    start, end = _bounds(day)
    covered = _covered(registry, zone)
    stations = []
    for device in registry.devices_of("salinity"):
        if not _in(device, covered) or device.profile is None:
            continue
        values = _good(
            store.query(TopicKind.SALINITY, device.id, start, end, 5_000), "salinity_ppt"
        )
        levels = rules.levels_for(device, registry, day.month)
        stations.append(
            StationDay(
                device,
                max(values) if values else None,
                min(values) if values else None,
                levels.warning,
                levels.critical,
            )
        )
    stations.sort(key=lambda s: (s.device.river or "~", s.device.km or math.inf, s.device.id))
    fronts = []
    for river in rivers_with_stations(registry):
        if covered is None or any(_in(d, covered) for d in registry.stations_on(river)):
            _, region = rules.saltfront.region_of(river)
            found = compute_days(store, registry, river, start, end, region)
            kept = {r.ts_ns: r for r in store.query(TopicKind.SALTFRONT, river, start, end)}
            for front in found:  # the forecast level, as the keeper last saw it that day
                stored = kept.get(front.start_ns)
                front.forecast = forecast_of(stored) if stored else None
            fronts.extend(found)
    alerts = _alerts_of(state, registry, covered, zone, start, end) if state else []
    return Bulletin(
        day,
        zone,
        stations,
        fronts,
        _supply(store, registry, zone, start, end),
        alerts,
        chart_png(store, stations, end),
        {a.id: describe(a) for a in alerts} if describe else {},
    )


def _alerts_of(
    state: AlertState,
    registry: Registry,
    covered: set[str] | None,
    zone: str | None,
    start: int,
    end: int,
) -> list[Alert]:
    """Alerts under way at some moment of the day, in the zone, its sub-zones, or above it (a
    province-wide salt front alert concerns every commune)."""
    above = set(registry.ancestors(zone)) if zone else set()
    return sorted(
        (
            a
            for a in state.all(20_000)
            if a.state != "pending"
            and a.started_at_ns < end
            and (a.resolved_at_ns is None or a.resolved_at_ns >= start)
            and (covered is None or a.zone in covered or a.zone in above)
        ),
        key=lambda a: a.started_at_ns,
    )


def _supply(
    store: ReadingStore, registry: Registry, zone: str | None, start: int, end: int
) -> list[SupplyDay]:
    """Per zone holding wells or taps (the chosen zone's sub-zones, or every commune)."""
    wells = {
        d.id: store.query(TopicKind.WELL, d.id, start, end, 5_000)
        for d in registry.devices_of("well")
    }
    taps = {
        d.id: store.query(TopicKind.TAP, d.id, start, end, 5_000)
        for d in registry.devices_of("tap")
    }
    out = []
    zones = [zone, *registry.descendants(zone)] if zone else list(registry.zones)
    for zone_id in zones:
        here = {zone_id}
        mine_w = [d for d in registry.devices_of("well") if d.zone in here]
        mine_t = [d for d in registry.devices_of("tap") if d.zone in here]
        if not mine_w and not mine_t:
            continue
        out.append(
            SupplyDay(
                zone_id,
                sum(1 for d in mine_w if any(r.fields.get("running") is True for r in wells[d.id])),
                len(mine_w),
                round(sum(_pumped(wells[d.id], d.interval_s) for d in mine_w), 1),
                sum(1 for d in mine_t if any(r.fields.get("open") is True for r in taps[d.id])),
                len(mine_t),
                round(sum(_drawn(taps[d.id]) for d in mine_t), 2),
            )
        )
    return out


def _pumped(readings: list[Reading], interval_s: float) -> float:
    """m³ a well pumped: each running reading's flow over the reading interval."""
    return sum(
        float(r.fields.get("flow_m3h", 0.0)) * interval_s / 3600.0
        for r in readings
        if r.fields.get("running") is True and isinstance(r.fields.get("flow_m3h"), float)
    )


def _drawn(readings: list[Reading]) -> float:
    """m³ drawn at a tap: its meter's rise over the day."""
    meter = [float(v) for r in readings if isinstance(v := r.fields.get("volume_m3"), float)]
    return max(0.0, meter[-1] - meter[0]) if len(meter) >= 2 else 0.0


def chart_png(store: ReadingStore, stations: list[StationDay], end_ns: int) -> bytes:
    """Hourly maxima of the last 7 days, one line per station, its critical level dashed."""
    import matplotlib  # noqa: PLC0415 - heavy: only for bulletins

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    start = end_ns - 7 * 86400 * NS_PER_S
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    try:
        for i, s in enumerate(stations[:10]):
            hourly: dict[int, float] = {}  # good readings only, as everywhere in the bulletin
            for r in store.query(TopicKind.SALINITY, s.device.id, start, end_ns, 20_000):
                value = _good([r], "salinity_ppt")
                if value:
                    hour = r.ts_ns // (3600 * NS_PER_S)
                    hourly[hour] = max(value[0], hourly.get(hour, -math.inf))
            if not hourly:
                continue
            hours = sorted(hourly)
            times: Any = [datetime.fromtimestamp(h * 3600, VN_TZ) for h in hours]
            values = [hourly[h] for h in hours]
            (line,) = ax.plot(times, values, lw=1.2, label=s.device.name)
            if i < 6:
                ax.axhline(s.critical, color=line.get_color(), ls="--", lw=0.7, alpha=0.6)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_ylabel("Độ mặn lớn nhất mỗi giờ (‰)")
        ax.set_title("Độ mặn 7 ngày qua (nét đứt: ngưỡng nguy hiểm của trạm)")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7, ncol=2, loc="upper left")
        fig.autofmt_xdate()
        out = io.BytesIO()
        fig.savefig(out, format="png", bbox_inches="tight")
        return out.getvalue()
    finally:
        plt.close(fig)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _title(b: Bulletin, registry: Registry) -> str:
    roots = [z.name for z in registry.zones.values() if z.parent is None]
    where = registry.zones[b.zone].name if b.zone else ", ".join(roots)
    return f"Bản tin xâm nhập mặn ngày {b.day:%d/%m/%Y} — {where}"


def _tables(b: Bulletin, registry: Registry) -> list[tuple[str, list[str], list[list[str]]]]:
    """(heading, header, rows) of each section, shared by the two formats."""
    zone_name = {z.id: z.name for z in registry.zones.values()}
    stations = [
        [
            s.device.name,
            zone_name.get(s.device.zone, s.device.zone),
            _fmt(s.device.km, 0) if s.device.km is not None else "–",
            _fmt(s.max_ppt),
            _fmt(s.min_ppt),
            f"{s.warning:g} / {s.critical:g}",
            s.status,
        ]
        for s in b.stations
    ]
    fronts = [
        [
            registry.rivers[f.river].name,
            _reach_text(f, 4.0),
            _reach_text(f, 1.0),
            _level_text(f.risk),
            _level_text(f.forecast) if f.forecast else "–",
        ]
        for f in b.fronts
    ]
    supply = [
        [
            zone_name.get(s.zone, s.zone),
            f"{s.wells_ran} / {s.wells_total}",
            _fmt(s.well_m3, 1),
            f"{s.taps_opened} / {s.taps_total}",
            _fmt(s.tap_m3, 1),
        ]
        for s in b.supply
    ]
    alerts = [
        [
            to_rfc3339(a.started_at_ns, VN_TZ)[11:16]
            if a.started_at_ns >= _bounds(b.day)[0]
            else to_rfc3339(a.started_at_ns, VN_TZ)[:10],
            SEVERITY_VI.get(a.severity, a.severity),
            zone_name.get(a.zone, a.zone),
            a.rule,
            b.alert_texts.get(a.id, a.rule),
            STATE_VI.get(a.state, a.state),
        ]
        for a in b.alerts
    ]
    return [
        (
            "Độ mặn tại các trạm",
            [
                "Trạm",
                "Khu vực",
                "Cách cửa sông (km)",
                "Lớn nhất (‰)",
                "Nhỏ nhất (‰)",
                "Ngưỡng cảnh báo / nguy hiểm (‰)",
                "Đánh giá",
            ],
            stations,
        ),
        (
            "Ranh mặn và cấp độ rủi ro (QĐ 18/2021/QĐ-TTg)",
            ["Sông", "Ranh mặn 4‰", "Ranh mặn 1‰", "Cấp độ (quan trắc)", "Cấp độ (dự báo)"],
            fronts,
        ),
        (
            "Giếng dự phòng và vòi nước công cộng",
            ["Khu vực", "Giếng đã chạy", "Nước giếng (m³)", "Vòi đã mở", "Nước tại vòi (m³)"],
            supply,
        ),
        (
            "Cảnh báo trong ngày",
            ["Bắt đầu", "Mức", "Khu vực", "Quy tắc", "Nội dung", "Trạng thái"],
            alerts,
        ),
    ]


def _level_text(risk: RiskLevel) -> str:
    """``cấp 2 (ranh 4‰)``: the level and the line that gave it."""
    text = LEVEL_VI.get(risk.level, f"cấp {risk.level}")
    return f"{text} (ranh {LINE_TEXT[risk.by]})" if risk.by else text


def _reach_text(front: FrontDay, line: float) -> str:
    reach = front.reaches.get(line)
    return reach.text() if reach else "–"


NOTE = (
    "Số liệu tự động, chỉ tính các giá trị đạt kiểm tra chất lượng. Cấp độ rủi ro là cấp tham "
    "khảo, tính theo ranh mặn 4‰ và 1‰ (Điều 49, QĐ 18/2021/QĐ-TTg) từ số liệu quan trắc trong "
    "ngày và từ dự báo 48 giờ; cấp độ chính thức do cơ quan có thẩm quyền công bố."
)


def to_markdown(b: Bulletin, registry: Registry, chart_file: str) -> str:
    lines = [f"# {_title(b, registry)}", ""]
    for heading, header, rows in _tables(b, registry):
        lines += [f"## {heading}", ""]
        if not rows:
            lines += ["Không có.", ""]
            continue
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
        lines.append("")
    lines += [
        "## Độ mặn 7 ngày qua",
        "",
        f"![Độ mặn 7 ngày qua]({chart_file})",
        "",
        f"_{NOTE}_",
        "",
    ]
    return "\n".join(lines)


def to_html(b: Bulletin, registry: Registry) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        '<html lang="vi"><head><meta charset="utf-8">',
        f"<title>{e(_title(b, registry))}</title>",
        "<style>body{font-family:system-ui,sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse;margin-bottom:1.5em}td,th{border:1px solid #bbb;"
        "padding:.3em .6em;text-align:left}th{background:#eef3f7}"
        ".bad{color:#b71c1c;font-weight:600}.warn{color:#e65100}img{max-width:100%}</style>",
        "</head><body>",
        f"<h1>{e(_title(b, registry))}</h1>",
    ]
    for heading, header, rows in _tables(b, registry):
        parts.append(f"<h2>{e(heading)}</h2>")
        if not rows:
            parts.append("<p>Không có.</p>")
            continue
        parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
        for row in rows:
            cells = []
            for cell in row:
                css = (
                    ' class="bad"'
                    if "nguy hiểm" in cell
                    else (' class="warn"' if "cảnh báo" in cell else "")
                )
                cells.append(f"<td{css}>{e(cell)}</td>")
            parts.append("<tr>" + "".join(cells) + "</tr>")
        parts.append("</table>")
    chart = base64.b64encode(b.chart_png).decode()
    parts += [
        "<h2>Độ mặn 7 ngày qua</h2>",
        f'<img alt="Độ mặn 7 ngày qua" src="data:image/png;base64,{chart}">',
        f"<p><em>{e(NOTE)}</em></p>",
        "</body></html>",
    ]
    return "\n".join(parts)
