"""Alert events as JSON (CONTRACT §4) with messages in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from alerts.model import Alert, Event, Fingerprint, group_of
from core.registry import Registry
from core.timeutil import VN_TZ, to_rfc3339

SEVERITY_VI = {"info": "thông tin", "warning": "cảnh báo", "critical": "nguy hiểm"}
SEVERITY_EN = {"info": "info", "warning": "warning", "critical": "critical"}

#: rule family → (Vietnamese, English) text for a firing alert
FIRING: dict[str, tuple[str, str]] = {
    "salinity": (
        "Mặn tại {where} {value}{unit} — vượt ngưỡng {sev_vi} {threshold}{unit} từ {since}.",
        "Salinity at {where} {value}{unit}, above the {sev_en} level {threshold}{unit} since "
        "{since}.",
    ),
    "salinity-tidal-day": (
        "Độ mặn lớn nhất trong ngày triều tại {where} là {value}{unit}, vượt ngưỡng "
        "{threshold}{unit} ({sev_vi}).",
        "The tidal-day maximum salinity at {where} is {value}{unit}, above {threshold}{unit} "
        "({sev_en}).",
    ),
    "salinity-rise": (
        "Độ mặn tại {where} tăng nhanh: {value}{unit}.",
        "Salinity at {where} is rising fast: {value}{unit}.",
    ),
    "nodata": (
        "Không nhận được dữ liệu từ {where} trong {value} phút.",
        "No data from {where} for {value} minutes.",
    ),
    "quality-flatline": (
        "Cảm biến tại {where} có thể bị kẹt (giá trị không đổi).",
        "The sensor at {where} may be stuck (a flat line).",
    ),
    "quality-spikes": (
        "Cảm biến tại {where} cho nhiều giá trị bất thường.",
        "The sensor at {where} reports repeated spikes.",
    ),
    "well-fault": ("Giếng {where} báo lỗi bơm.", "Well {where} reports a pump fault."),
    "well-stopped": (
        "Giếng {where} ngừng bơm trong giờ vận hành.",
        "Well {where} stopped during its scheduled hours.",
    ),
    "well-level-low": (
        "Mực nước giếng {where} xuống {value} m.",
        "The water level in well {where} fell to {value} m.",
    ),
    "well-salinity": (
        "Nước giếng {where} có độ mặn {value}{unit}, vượt giới hạn sinh hoạt.",
        "Water from well {where} has {value}{unit}, above the domestic limit.",
    ),
    "tap-tank-low": (
        "Bồn chứa của vòi nước {where} còn {value}%.",
        "The tank of tap {where} is down to {value}%.",
    ),
    "tap-no-flow": (
        "Vòi nước {where} mở nhưng không có nước.",
        "Tap {where} is open but gives no water.",
    ),
    "saltfront-risk": (
        "Cấp độ rủi ro do xâm nhập mặn (tham khảo) cấp {level} trên {river}, {basis_vi}: ranh "
        "mặn {line} vào sâu {threshold} km tính từ cửa sông. Cấp độ chính thức do cơ quan có "
        "thẩm quyền công bố.",
        "Indicative saltwater-intrusion risk level {level} on the {river}, {basis_en}: the "
        "{line} line reached {threshold} km from the mouth. The official level is declared by "
        "the authorities.",
    ),
    "saltfront-risk-declared": (
        "Cấp độ rủi ro do xâm nhập mặn cấp {level} trên {river}, theo công bố đã được ghi nhận "
        "trong SaltWatch.",
        "Saltwater-intrusion risk level {level} on the {river}, as declared and recorded in "
        "SaltWatch.",
    ),
    "forecast-exceedance": (
        "Dự báo: độ mặn tại {where} lên tới {threshold}‰ sau khoảng {value} giờ nữa.",
        "Forecast: salinity at {where} reaches {threshold}‰ in about {value} hours.",
    ),
    "broker-disconnected": (
        "SaltWatch mất kết nối với máy chủ MQTT từ {since}: không nhận được số liệu của thiết "
        "bị; cảnh báo mất dữ liệu tạm dừng cho đến khi kết nối lại.",
        "SaltWatch lost its MQTT broker at {since}: no readings arrive; device no-data alerts "
        "are held back until it reconnects.",
    ),
    "store-down": (
        "Không ghi được vào cơ sở dữ liệu từ {since}; số liệu được giữ tạm trên đĩa, không mất.",
        "The reading store takes no writes since {since}; readings wait on disk, none is lost.",
    ),
    "spool-growing": (
        "Số liệu chờ ghi trên đĩa đang tăng ({value} lô) từ {since}.",
        "Readings waiting on disk keep growing ({value} batches) since {since}.",
    ),
    "ingest-stalled": (
        "Tiếp nhận số liệu bị đình trệ từ {since}: {value} tin nhắn đang chờ; cảnh báo mất dữ "
        "liệu tạm dừng.",
        "Ingest has stalled since {since}: {value} messages wait; device no-data alerts are "
        "held back.",
    ),
    "forecast-stale": (
        "Dự báo độ mặn không được cập nhật trong {value} giờ.",
        "Salinity forecasts have not been updated for {value} hours.",
    ),
    "notifier-failing": (
        "Không gửi được thông báo qua kênh {subject} từ {since}.",
        "Notifications to {subject} have been failing since {since}.",
    ),
    "intake-window": (
        "Có thể lấy nước tại {where}: dự báo độ mặn dưới {threshold}‰ trong {value} giờ, "
        "từ {start}.",
        "Intake window at {where}: salinity forecast below {threshold}‰ for {value} hours "
        "from {start}.",
    ),
    "saltfront-advance": (
        "Ranh mặn 4‰ trên {river} tiến sâu thêm {value} km trong một ngày "
        "(ngưỡng {threshold} km/ngày).",
        "The 4‰ line on the {river} moved {value} km inland in one day "
        "(alert above {threshold} km/day).",
    ),
}
#: what ended, as a noun phrase, for the resolved message (its firing text speaks in the present)
ENDED: dict[str, tuple[str, str]] = {
    "salinity": ("độ mặn vượt ngưỡng", "salinity above its threshold"),
    "salinity-tidal-day": ("độ mặn ngày triều vượt ngưỡng", "tidal-day salinity above threshold"),
    "salinity-rise": ("độ mặn tăng nhanh", "fast-rising salinity"),
    "nodata": ("mất dữ liệu", "missing data"),
    "quality-flatline": ("cảm biến bị kẹt", "a stuck sensor"),
    "quality-spikes": ("giá trị bất thường", "repeated spikes"),
    "well-fault": ("lỗi bơm", "a pump fault"),
    "well-stopped": ("giếng ngừng bơm", "a stopped well"),
    "well-level-low": ("mực nước giếng thấp", "a low well level"),
    "well-salinity": ("nước giếng mặn", "salty well water"),
    "tap-tank-low": ("bồn chứa gần cạn", "a low tank"),
    "tap-no-flow": ("vòi không có nước", "a tap without water"),
    "saltfront-risk": (
        "cấp độ rủi ro xâm nhập mặn trên {river}",
        "the saltwater-intrusion risk level on the {river}",
    ),
    "saltfront-advance": (
        "ranh mặn tiến nhanh trên {river}",
        "a fast-moving salt front on the {river}",
    ),
    "forecast-exceedance": ("dự báo độ mặn vượt ngưỡng", "the forecast exceedance"),
    "intake-window": ("cửa sổ lấy nước", "the intake window"),
    "broker-disconnected": ("mất kết nối MQTT", "the lost MQTT connection"),
    "store-down": ("lỗi ghi cơ sở dữ liệu", "the unreachable reading store"),
    "spool-growing": ("số liệu chờ ghi tăng", "the growing spool"),
    "ingest-stalled": ("tiếp nhận số liệu đình trệ", "the stalled ingest"),
    "forecast-stale": ("dự báo cũ", "stale forecasts"),
    "notifier-failing": ("lỗi gửi thông báo qua {subject}", "failing notifications to {subject}"),
}
#: a notification about a group of no-data alerts (CONTRACT §7): how many, and which
GROUP_NODATA = (
    "Mất dữ liệu từ {count} thiết bị tại {zone}: {names}.",
    "No data from {count} devices in {zone}: {names}.",
)
GROUP_NODATA_RESOLVED = (
    "Đã có lại dữ liệu từ {count} thiết bị tại {zone}: {names}.",
    "Data is back from {count} devices in {zone}: {names}.",
)
RESOLVED = ("Đã hết {what_vi} tại {where}.", "Resolved: {what_en} at {where}.")
NOW = (" Hiện tại: {value}{unit}.", " Now {value}{unit}.")
ACKED = ("{by} đã xác nhận cảnh báo tại {where}.", "{by} acknowledged the alert at {where}.")


def family(rule: str) -> str:
    if rule.startswith("salinity-") and rule.endswith("-tidal-day"):
        return "salinity-tidal-day"
    if rule.startswith("salinity-") and rule != "salinity-rise":
        return "salinity"
    return rule


#: how the risk level was come by (its alert's unit reads ``level:<line>:<basis>``)
BASIS: dict[str, tuple[str, str]] = {
    "observed": ("tính từ số liệu quan trắc", "computed from measurements"),
    "forecast": ("tính từ dự báo 48 giờ", "computed from the 48 h forecast"),
}
LINES = {"4ppt": "4‰", "1ppt": "1‰"}


def is_level(alert: Alert) -> bool:
    return alert.unit.startswith("level")


def _risk_fields(alert: Alert) -> dict[str, str]:
    if not is_level(alert):
        return {"level": "", "line": "", "basis_vi": "", "basis_en": ""}
    _, line, basis = ([*alert.unit.split(":"), "", ""])[:3]
    vi, en = BASIS.get(basis, ("", ""))
    level = f"{alert.value:.0f}" if alert.value is not None else "-"
    return {"level": level, "line": LINES.get(line, line), "basis_vi": vi, "basis_en": en}


def _fmt(value: float | None, decimal: str = ".") -> str:
    """A number as people write it: Vietnamese with a decimal comma (8,9), English with a point."""
    if value is None:
        return "-"
    text = f"{value:.2f}".rstrip("0").rstrip(".") if abs(value) < 100 else f"{value:.0f}"
    return text.replace(".", decimal)


def _short_time(ts_ns: int) -> str:
    """``14:30 12/03`` in Vietnam time."""
    text = to_rfc3339(ts_ns, VN_TZ)
    return f"{text[11:16]} {text[8:10]}/{text[5:7]}"


def _river_name(fingerprint: str, registry: Registry) -> str:
    """The river of a salt-front alert (its fingerprint ends in ``:<river id>``)."""
    river = registry.rivers.get(Fingerprint.parse(fingerprint).subject)
    return river.name if river else ""


def _where(alert: Alert, registry: Registry) -> str:
    zone = registry.zones.get(alert.zone)
    device = registry.device(alert.device) if alert.device else None
    if device and zone:
        return f"{device.name} ({zone.name})"
    # a zone-wide alert (salt front), or a device no longer in the registry
    return alert.device or (zone.name if zone else alert.zone)


def texts(event: Event, registry: Registry) -> tuple[str, str]:
    """The event in plain words: (Vietnamese, English)."""
    alert = event.alert
    where = _where(alert, registry)
    fp = Fingerprint.parse(alert.fingerprint)
    fields = {
        "where": where,
        "value": _fmt(alert.value),
        "threshold": _fmt(alert.threshold),
        "unit": alert.unit if alert.unit not in ("min", "") else "",
        "sev_vi": SEVERITY_VI[alert.severity],
        "sev_en": SEVERITY_EN[alert.severity],
        "by": alert.acked_by or "",
        "river": _river_name(alert.fingerprint, registry),
        "start": _short_time(alert.started_at_ns),
        "since": _short_time(alert.started_at_ns),
        "subject": f"{fp.subject}:{fp.part}" if fp.part else fp.subject,
    }
    fields |= _risk_fields(alert)
    fields_vi = fields | {"value": _fmt(alert.value, ","), "threshold": _fmt(alert.threshold, ",")}
    templates = family(alert.rule)
    if templates == "saltfront-risk" and alert.unit.endswith(":declared"):
        templates = "saltfront-risk-declared"
    vi, en = FIRING.get(templates, ("{where}: {value}", "{where}: {value}"))
    if event.state == "resolved":
        what_vi, what_en = ENDED.get(family(alert.rule), ("cảnh báo", "the alert"))
        what_vi, what_en = what_vi.format(**fields), what_en.format(**fields)
        vi = RESOLVED[0].format(what_vi=what_vi, where=where)
        en = RESOLVED[1].format(what_en=what_en, where=where)
        if alert.value is not None and alert.unit not in ("min", "h", "") and not is_level(alert):
            vi, en = vi + NOW[0].format(**fields_vi), en + NOW[1].format(**fields)
        return vi, en
    if event.state == "acknowledged":
        return ACKED[0].format(**fields), ACKED[1].format(**fields)
    return vi.format(**fields_vi), en.format(**fields)


def render(event: Event, registry: Registry) -> dict[str, Any]:
    """The event as CONTRACT §4 JSON, with its group (§7)."""
    alert = event.alert
    zone = registry.zones.get(alert.zone)
    vi, en = texts(event, registry)
    return {
        "id": alert.id,
        "fingerprint": alert.fingerprint,
        "rule": alert.rule,
        "kind": alert.kind,
        "severity": alert.severity,
        "state": event.state,
        "zone": alert.zone,
        "zone_name": zone.name if zone else alert.zone,
        "device": alert.device,
        "value": alert.value,
        "threshold": alert.threshold,
        "unit": alert.unit,
        "started_at": to_rfc3339(alert.started_at_ns, VN_TZ),
        "at": to_rfc3339(event.at_ns, VN_TZ),
        "message_vi": vi,
        "message_en": en,
        "late": alert.late,
        "group": group_of(alert),
    }


def render_group(events: Sequence[Event], registry: Registry) -> dict[str, Any]:
    """One notification for several events of one group and state (no-data of one zone): the
    first event's JSON, its message naming how many devices and which, ``group_size`` and the
    alert ids in ``alerts``."""
    body = render(events[0], registry)
    if len(events) < 2:
        return body
    names = []
    for event in events:
        device = registry.device(event.alert.device) if event.alert.device else None
        names.append(device.name if device else (event.alert.device or event.alert.id))
    shown = ", ".join(names[:8]) + (f" (+{len(names) - 8})" if len(names) > 8 else "")
    vi, en = GROUP_NODATA if events[0].state == "firing" else GROUP_NODATA_RESOLVED
    fields = {"count": len(events), "zone": body["zone_name"], "names": shown}
    return body | {
        "message_vi": vi.format(**fields),
        "message_en": en.format(**fields),
        "group_size": len(events),
        "alerts": [e.alert.id for e in events],
        "devices": [e.alert.device for e in events],
    }


def firing_text(alert: Alert, registry: Registry, lang: str = "vi") -> str:
    """The alert's firing message in Vietnamese or English (the bulletin's list of the day's
    alerts)."""
    vi, en = texts(Event(alert, "firing", alert.updated_at_ns), registry)
    return en if lang == "en" else vi
