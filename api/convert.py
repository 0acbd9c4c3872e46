"""Domain values to API bodies."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Query

from saltwatch.alerts.messages import Current, open_texts, render
from saltwatch.alerts.model import Alert, Event, Silence
from saltwatch.api.context import ApiContext
from saltwatch.api.schemas import AlertOut, LatestReading, SilenceOut
from saltwatch.core.errors import BadInputError
from saltwatch.core.registry import Registry
from saltwatch.core.timeutil import VN_TZ, to_rfc3339, ts_from_rfc3339
from saltwatch.core.types import Reading


def when(ts_ns: int | None) -> str | None:
    return None if ts_ns is None else to_rfc3339(ts_ns, VN_TZ)


def latest(reading: Reading | None) -> LatestReading | None:
    if reading is None:
        return None
    return LatestReading(
        ts=to_rfc3339(reading.ts_ns, VN_TZ), values=dict(reading.fields), qc=reading.qc
    )


def alert_out(alert: Alert, registry: Registry, current: Current | None = None) -> AlertOut:
    """The alert as the API shows it. With ``current`` (an open salinity alert), its words give
    the value now and the highest since it opened, with their times (api/current.py); without,
    the words it was raised or resolved with."""
    zone = registry.zones.get(alert.zone)
    # what it is about (its firing or resolved text), not who acknowledged it
    event = Event(alert, "resolved" if alert.state == "resolved" else "firing", alert.updated_at_ns)
    text = render(event, registry)
    if current is not None:
        text["message_vi"], text["message_en"] = open_texts(alert, registry, current)
    return AlertOut(
        id=alert.id,
        fingerprint=str(alert.fingerprint),
        rule=alert.rule,
        kind=alert.kind,
        severity=alert.severity,
        state=alert.state,
        zone=alert.zone,
        zone_name=zone.name if zone else alert.zone,
        device=alert.device,
        value=alert.value,
        threshold=alert.threshold,
        unit=alert.unit,
        started_at=to_rfc3339(alert.started_at_ns, VN_TZ),
        updated_at=to_rfc3339(alert.updated_at_ns, VN_TZ),
        resolved_at=when(alert.resolved_at_ns),
        acked_by=alert.acked_by,
        acked_note=alert.acked_note,
        late=alert.late,
        message_vi=text["message_vi"],
        message_en=text["message_en"],
        group=text["group"],
    )


def silence_out(silence: Silence, now_ns: int) -> SilenceOut:
    return SilenceOut(
        id=silence.id,
        zone=silence.zone,
        device=silence.device,
        rule=silence.rule,
        starts_at=to_rfc3339(silence.starts_ns, VN_TZ),
        ends_at=to_rfc3339(silence.ends_ns, VN_TZ),
        author=silence.author,
        reason=silence.reason,
        active=silence.starts_ns <= now_ns < silence.ends_ns,
    )


def moment_query(description: str) -> Any:
    """A query parameter holding a time: RFC 3339 with an offset, between 1900 and 2200 (422
    otherwise); said so in the OpenAPI schema, where ``format: date-time`` lets clients and
    schemathesis send real times, extreme ones included."""
    return Query(
        description=f"{description} (RFC 3339 with an offset, 1900–2200)",
        json_schema_extra={"format": "date-time"},
    )


def query_time(text: str | None, name: str) -> int | None:
    """An RFC 3339 query parameter as ns (None when absent); 422 naming it when malformed."""
    if text is None:
        return None
    try:
        return ts_from_rfc3339(text)
    except BadInputError as exc:
        raise HTTPException(422, f"{name}: {exc}") from None


def station_range(
    ctx: ApiContext, station: str, start: str | None, end: str | None, default_s: int
) -> tuple[int, int]:
    """A salinity station's time range from query parameters (``end`` default now, ``start``
    default ``default_s`` before it): 404 for no such station, 422 for a bad range."""
    device = ctx.registry.device(station)
    if device is None or device.kind != "salinity":
        raise HTTPException(404, "no such salinity station")
    until, since = query_time(end, "end"), query_time(start, "start")
    end_ns = until if until is not None else ctx.clock.now_ns()
    start_ns = since if since is not None else end_ns - default_s * 1_000_000_000
    if start_ns >= end_ns:
        raise HTTPException(422, "start must be before end")
    return start_ns, end_ns
