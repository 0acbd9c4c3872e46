"""What a screen shows beside an open salinity alert: the station's newest reading and the
highest good reading since the alert opened, each with its time (alerts/messages.py ``Current``).
An alert's own value is the one that raised it; shown alone it reads as if it were true now.

Two small queries per alert: the day of the highest value (the store's daily maxima), then that
day's readings, of which the highest that QC passed (a flagged spike is not the peak)."""

from __future__ import annotations

from collections.abc import Sequence

from saltwatch.alerts.messages import Current, speaks_of_now
from saltwatch.alerts.model import Alert
from saltwatch.core.errors import RetryableError
from saltwatch.core.qc import BAD_FLAGS
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind

FIELD = "salinity_ppt"
DAY_S = 86_400
_TRIES = 3  # days of the highest maxima looked into for a good reading


def currents(store: ReadingStore, alerts: Sequence[Alert], now_ns: int) -> dict[str, Current]:
    """``Current`` of each alert of ``alerts`` that speaks of now, by alert id; none while the
    store is away (the alerts then show the words they were raised with)."""
    wanted = [a for a in alerts if speaks_of_now(a)]
    if not wanted:
        return {}
    try:
        newest = store.latest(TopicKind.SALINITY, sorted({str(a.device) for a in wanted}))
        out: dict[str, Current] = {}
        for alert in wanted:
            reading = newest.get(str(alert.device))
            value = reading.fields.get(FIELD) if reading else None
            if reading is None or not isinstance(value, float):
                continue
            # the newest reading may be ahead of this clock by a little (ingest.max_future)
            end = max(now_ns, reading.ts_ns)
            peak = highest(store, str(alert.device), alert.started_at_ns, end)
            top, top_at = peak if peak else (value, reading.ts_ns)
            out[alert.id] = Current(value, reading.ts_ns, top, top_at)
        return out
    except RetryableError:
        return {}


def highest(
    store: ReadingStore, device: str, start_ns: int, end_ns: int
) -> tuple[float, int] | None:
    """The highest good salinity of ``device`` in [start, end] and its time, looked for in the
    days of the highest maxima (a day whose maximum was a flagged spike gives its good best)."""
    days = store.aggregate(TopicKind.SALINITY, device, FIELD, start_ns, end_ns + 1, DAY_S)
    found: list[tuple[float, int]] = []
    for day in sorted(days, key=lambda d: d.max, reverse=True)[:_TRIES]:
        begin = max(day.start_ns, start_ns)
        end = min(day.start_ns + DAY_S * NS_PER_S, end_ns + 1)
        for reading in store.query(TopicKind.SALINITY, device, begin, end):
            value = reading.fields.get(FIELD)
            if (reading.qc & int(BAD_FLAGS)) == 0 and isinstance(value, float):
                found.append((value, reading.ts_ns))
    return max(found) if found else None
