"""Alert events as JSON (docs/interface.md §4) with messages in Vietnamese and English."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from saltwatch.alerts.model import Alert, Event, Fingerprint, group_of
from saltwatch.alerts.wording import (
    ACKED,
    BASIS,
    ENDED,
    FIRING,
    GROUP_NODATA,
    GROUP_NODATA_RESOLVED,
    LINES,
    NOW,
    ODDS,
    OPEN_NOW,
    RESOLVED,
    SEVERITY_EN,
    SEVERITY_VI,
)
from saltwatch.core.registry import Registry
from saltwatch.core.timeutil import VN_TZ, short_time, to_rfc3339


def family(rule: str) -> str:
    if rule.startswith("salinity-") and rule.endswith("-tidal-day"):
        return "salinity-tidal-day"
    if rule.startswith("salinity-") and rule != "salinity-rise":
        return "salinity"
    return rule


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


def _river_name(fingerprint: Fingerprint, registry: Registry) -> str:
    """The river of a salt-front alert (its fingerprint's subject)."""
    river = registry.rivers.get(fingerprint.subject)
    return river.name if river else ""


#: what a zone's name begins with in Vietnamese before the place's own name
_ZONE_WORDS = ("Xã ", "Phường ", "Thị trấn ", "Thị xã ", "Thành phố ", "Huyện ")


def _where(alert: Alert, registry: Registry) -> str:
    if alert.kind == "structure":
        structure = registry.structures.get(alert.fingerprint.subject)
        if structure is not None:
            return structure.name
    zone = registry.zones.get(alert.zone)
    device = registry.device(alert.device) if alert.device else None
    if device and zone:
        place = next((zone.name[len(w) :] for w in _ZONE_WORDS if zone.name.startswith(w)), None)
        if (place or zone.name) in device.name:
            return device.name  # "Vườn hoa Lạc Hồng (Mỹ Tho)", not "… (Mỹ Tho) (Phường Mỹ Tho)"
        return f"{device.name} ({zone.name})"
    # a zone-wide alert (salt front), or a device no longer in the registry
    return alert.device or (zone.name if zone else alert.zone)


def texts(event: Event, registry: Registry) -> tuple[str, str]:
    """The event in plain words: (Vietnamese, English)."""
    alert = event.alert
    where = _where(alert, registry)
    fp = alert.fingerprint
    fields = {
        "where": where,
        "value": _fmt(alert.value),
        "threshold": _fmt(alert.threshold),
        "unit": alert.unit if alert.unit not in ("min", "") and ":" not in alert.unit else "",
        "sev_vi": SEVERITY_VI[alert.severity],
        "sev_en": SEVERITY_EN[alert.severity],
        "by": alert.acked_by or "",
        "river": _river_name(alert.fingerprint, registry),
        "start": short_time(alert.started_at_ns),
        "since": short_time(alert.started_at_ns),
        "subject": f"{fp.subject}:{fp.part}" if fp.part else fp.subject,
    }
    fields |= _risk_fields(alert)
    odds = ODDS.get(alert.unit.rsplit(":", 1)[-1].removeprefix("outlook-"), ("", ""))
    structure = registry.structures.get(fp.subject) if alert.rule == "outlook-structure" else None
    fields |= {
        "odds_vi": odds[0],
        "odds_en": odds[1],
        "structure": structure.name if structure else "",
    }
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
        speaks_now = alert.unit not in ("min", "h", "") and ":" not in alert.unit
        if alert.value is not None and speaks_now:
            vi, en = vi + NOW[0].format(**fields_vi), en + NOW[1].format(**fields)
        return vi, en
    if event.state == "acknowledged":
        return ACKED[0].format(**fields), ACKED[1].format(**fields)
    return vi.format(**fields_vi), en.format(**fields)


@dataclass(frozen=True, slots=True)
class Current:
    """What is true now beside an open salinity alert: its station's newest reading and the
    highest good reading since the alert opened, each with its measurement time."""

    value: float
    at_ns: int
    peak: float
    peak_at_ns: int


def speaks_of_now(alert: Alert) -> bool:
    """An open alert whose words a screen gives with the value now (``Current``)."""
    return (
        alert.open
        and alert.device is not None
        and alert.threshold is not None
        and family(alert.rule) in ("salinity", "salinity-tidal-day")
    )


def open_texts(alert: Alert, registry: Registry, current: Current) -> tuple[str, str]:
    """An open salinity alert as a screen shows it: the value now and the highest since it
    opened, with their times, and above or back below its level (Vietnamese, English)."""
    above = current.value >= (alert.threshold or 0.0)
    vi, en = OPEN_NOW[(family(alert.rule), above)]
    fields = {
        "where": _where(alert, registry),
        "unit": alert.unit,
        "now_at": short_time(current.at_ns),
        "peak_at": short_time(current.peak_at_ns),
        "since": short_time(alert.started_at_ns),
        "sev_vi": SEVERITY_VI[alert.severity],
        "sev_en": SEVERITY_EN[alert.severity],
    }
    numbers = (("now", current.value), ("peak", current.peak), ("threshold", alert.threshold))
    return (
        vi.format(**fields, **{k: _fmt(v, ",") for k, v in numbers}),
        en.format(**fields, **{k: _fmt(v) for k, v in numbers}),
    )


def render(event: Event, registry: Registry) -> dict[str, Any]:
    """The event as docs/interface.md §4 JSON, with its group."""
    alert = event.alert
    zone = registry.zones.get(alert.zone)
    vi, en = texts(event, registry)
    return {
        "id": alert.id,
        "fingerprint": str(alert.fingerprint),
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
