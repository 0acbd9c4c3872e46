"""A station's week ahead as it is kept (the store's ``outlook`` measurement, one point per
station and origin day) and read back: the days ahead with their bands, the method and what it
leaned on, and its recent skill; Vietnam days."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from saltwatch.analytics.outlook_inputs import OUTLOOK_METHODS, OutlookMethod
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

_PARTS = ("peak", "peak_lower", "peak_upper", "low", "low_lower", "low_upper")


def vn_midnight_ns(day: date) -> int:
    """00:00 Vietnam time of ``day``."""
    return int(datetime(day.year, day.month, day.day, tzinfo=VN_TZ).timestamp()) * NS_PER_S


def vn_date(ts_ns: int) -> date:
    return datetime.fromtimestamp(ts_ns / NS_PER_S, VN_TZ).date()


@dataclass(frozen=True)
class DayAhead:
    """One day ahead: its forecast daily maximum and minimum, each with its band."""

    day: date
    lead: int  # days after the origin
    peak: float
    peak_lower: float
    peak_upper: float
    low: float
    low_lower: float
    low_upper: float


@dataclass(frozen=True)
class Skill:
    """The kept outlooks of the last ``days`` scored against the daily peaks that followed."""

    days: float
    by_lead: dict[int, tuple[float, float, int]]  # lead → (MAE, persistence MAE, scored)
    coverage: float | None  # share of scored days whose peak fell inside the band

    def skill(self, lead: int) -> float | None:
        mae, base, n = self.by_lead.get(lead, (math.nan, math.nan, 0))
        return 1.0 - mae / base if n and base > 0 else None


@dataclass(frozen=True)
class StationOutlook:
    """A station's week ahead, made at ``made_at_ns`` from the whole days up to ``origin``."""

    station: str
    origin: date  # the last whole day known (Vietnam time)
    made_at_ns: int
    observed_peak: float  # the origin day's own maximum and minimum
    observed_low: float
    days: tuple[DayAhead, ...]
    method: OutlookMethod
    basis: str  # "climatology" (earlier seasons) or "recent" (the last weeks' mean)
    history_days: int  # whole days with a peak behind it
    skill: Skill | None = None

    def reading(self) -> Reading:
        fields: dict[str, float | int | str] = {
            "method": self.method,
            "basis": self.basis,
            "made_at": self.made_at_ns // NS_PER_S,
            "observed_peak": round(self.observed_peak, 4),
            "observed_low": round(self.observed_low, 4),
            "history_days": self.history_days,
        }
        for d in self.days:
            for part in _PARTS:
                value = float(getattr(d, part))
                if math.isfinite(value):
                    fields[f"{part}_{d.lead:02d}"] = round(value, 4)
        return Reading(TopicKind.OUTLOOK, self.station, vn_midnight_ns(self.origin), fields)


def from_reading(r: Reading, horizon_days: int) -> StationOutlook | None:
    """A kept outlook (``outlook`` point) read back; None when it holds no days."""
    f = r.fields

    def num(name: str) -> float:
        value = f.get(name)
        return (
            float(value)
            if isinstance(value, float | int) and not isinstance(value, bool)
            else math.nan
        )

    origin = vn_date(r.ts_ns)
    days = tuple(
        DayAhead(origin + timedelta(days=lead), lead,
                 *(num(f"{part}_{lead:02d}") for part in _PARTS))
        for lead in range(1, horizon_days + 1)
        if f"peak_{lead:02d}" in f
    )  # fmt: skip
    method = f.get("method")
    if not days or method not in OUTLOOK_METHODS:
        return None
    made = f.get("made_at")
    history = f.get("history_days")
    return StationOutlook(
        r.device,
        origin,
        int(made) * NS_PER_S if isinstance(made, int) else r.ts_ns,
        num("observed_peak"),
        num("observed_low"),
        days,
        method,
        str(f.get("basis") or "recent"),
        int(history) if isinstance(history, int) else 0,
    )
