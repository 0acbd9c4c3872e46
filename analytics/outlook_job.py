"""The week-ahead job: each salinity station's daily peak and low for the days ahead
(analytics/outlook.py), made from its history of whole days (Vietnam time, good readings only,
imported archives included), kept in the store (measurement ``outlook``, one per station and
origin day: analytics/outlook_kept.py) and scored against the days that followed, like the 48 h
forecasts.

A station's outlook is made again only when its days changed (a new whole day, a late or
imported reading): the inputs' digest is remembered.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta

import numpy as np

from saltwatch.analytics.outlook import outlooks
from saltwatch.analytics.outlook_inputs import DailySeries, FloatArray, settings_of
from saltwatch.analytics.outlook_kept import (
    DayAhead,
    Skill,
    StationOutlook,
    from_reading,
    vn_date,
    vn_midnight_ns,
)
from saltwatch.core.clock import Clock
from saltwatch.core.forecast_rules import OutlookRules
from saltwatch.core.qc import BAD_FLAGS
from saltwatch.core.registry import Device, Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.schema import OUTLOOK_DAYS
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

DAY_S = 86400
VN_MIDNIGHT_UTC_S = 17 * 3600  # 00:00 in Vietnam (UTC+7) is 17:00 UTC the day before


def daily(
    store: ReadingStore,
    kind: TopicKind,
    device: str,
    field: str,
    first: date,
    last: date,
    min_readings: int,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Daily maximum, minimum and mean of a field from ``first`` to ``last`` (Vietnam days,
    good readings only); NaN for days with fewer than ``min_readings``."""
    n = (last - first).days + 1
    high, low, mean = np.full(n, np.nan), np.full(n, np.nan), np.full(n, np.nan)
    start = vn_midnight_ns(first)
    rows = store.aggregate(
        kind,
        device,
        field,
        start,
        vn_midnight_ns(last + timedelta(days=1)),
        DAY_S,
        offset_s=VN_MIDNIGHT_UTC_S,
        exclude_qc=int(BAD_FLAGS),
    )
    for row in rows:
        i = round((row.start_ns - start) / (DAY_S * NS_PER_S))
        if 0 <= i < n and row.count >= min_readings:
            high[i], low[i], mean[i] = row.max, row.min, row.mean
    return high, low, mean


def flow_device(registry: Registry, station: Device) -> Device | None:
    """The river station whose discharge anchors the season: one on the station's own river,
    else the only one there is."""
    hydro = list(registry.devices_of("hydro"))
    same = [d for d in hydro if station.river is not None and d.river == station.river]
    if same:
        return same[0]
    return hydro[0] if len(hydro) == 1 else None


def score_kept(kept: list[Reading], peaks: FloatArray, first: date, days: float) -> Skill:
    """Kept outlooks (``outlook`` points) against the daily ``peaks`` from ``first``."""
    errors: dict[int, list[tuple[float, float, bool]]] = {}
    for r in kept:
        origin = (vn_date(r.ts_ns) - first).days
        base = r.fields.get("observed_peak")
        for lead in range(1, OUTLOOK_DAYS + 1):
            value = r.fields.get(f"peak_{lead:02d}")
            target = origin + lead
            if not isinstance(value, float) or not isinstance(base, float):
                continue
            if not 0 <= target < peaks.size or math.isnan(peaks[target]):
                continue
            lo, hi = r.fields.get(f"peak_lower_{lead:02d}"), r.fields.get(f"peak_upper_{lead:02d}")
            inside = isinstance(lo, float) and isinstance(hi, float) and lo <= peaks[target] <= hi
            errors.setdefault(lead, []).append(
                (abs(peaks[target] - value), abs(peaks[target] - base), inside)
            )
    by_lead = {
        lead: (
            float(np.mean([e[0] for e in rows])),
            float(np.mean([e[1] for e in rows])),
            len(rows),
        )
        for lead, rows in sorted(errors.items())
    }
    flags = [e[2] for rows in errors.values() for e in rows]
    return Skill(days, by_lead, float(np.mean(flags)) if flags else None)


class OutlookJob:
    """Makes, keeps and scores every salinity station's week ahead (``update``, on the
    forecast job's cadence; a station is made again only when its days changed)."""

    def __init__(
        self,
        store: ReadingStore,
        registry: Registry,
        rules: Callable[[], RuleSet],
        clock: Clock,
    ) -> None:
        self.store = store
        self.registry = registry
        self.rules = rules
        self.clock = clock
        self.latest: dict[str, StationOutlook] = {}
        self.updated_at_ns = 0
        self._digests: dict[str, str] = {}

    def update(self) -> dict[str, StationOutlook]:
        """Each station's outlook from the whole days up to yesterday (Vietnam time)."""
        now = self.clock.now_ns()
        cfg = self.rules().outlook
        origin = vn_date(now) - timedelta(days=1)
        for station in self.registry.devices_of("salinity"):
            if station.profile is None:
                continue
            found = self.station(station, cfg, origin, now)
            if found is not None:
                self.latest[station.id] = found
        self.updated_at_ns = now
        return dict(self.latest)

    def read_kept(self) -> dict[str, StationOutlook]:
        """The outlooks as the engine's job last kept them, each scored again against the days
        since: what an API process of its own shows instead of making them anew."""
        now = self.clock.now_ns()
        cfg = self.rules().outlook
        ids = [d.id for d in self.registry.devices_of("salinity") if d.profile is not None]
        yesterday = vn_date(now) - timedelta(days=1)
        found: dict[str, StationOutlook] = {}
        for sid, r in self.store.latest(TopicKind.OUTLOOK, ids).items():
            kept = from_reading(r, cfg.horizon_days)
            if kept is None:
                continue
            first = kept.origin - timedelta(days=int(cfg.score_days) + cfg.horizon_days)
            peaks, _, _ = daily(
                self.store, TopicKind.SALINITY, sid, "salinity_ppt", first, yesterday,
                cfg.day_readings,
            )  # fmt: skip
            past = self.store.query(TopicKind.OUTLOOK, sid, vn_midnight_ns(first), now + 1, 1000)
            found[sid] = replace(kept, skill=score_kept(past, peaks, first, cfg.score_days))
        self.latest = found
        self.updated_at_ns = now
        return found

    def station(
        self, station: Device, cfg: OutlookRules, origin: date, now: int
    ) -> StationOutlook | None:
        first = origin - timedelta(days=cfg.read_days - 1)
        peaks, lows, _ = daily(
            self.store,
            TopicKind.SALINITY,
            station.id,
            "salinity_ppt",
            first,
            origin,
            cfg.day_readings,
        )
        flow = None
        hydro = flow_device(self.registry, station)
        if hydro is not None:
            _, _, flow = daily(
                self.store, TopicKind.HYDRO, hydro.id, "discharge_m3s", first, origin, 1
            )
        digest = hashlib.sha256(
            b"".join(a.tobytes() for a in (peaks, lows, flow) if a is not None) + repr(cfg).encode()
        ).hexdigest()
        if self._digests.get(station.id) == digest and station.id in self.latest:
            return self.latest[station.id]
        if math.isnan(peaks[-1]) or int(np.count_nonzero(~np.isnan(peaks))) < cfg.min_history:
            return None  # yesterday unknown, or too short a history: nothing honest to say
        found = self._make(station.id, cfg, origin, now, first, peaks, lows, flow)
        self.store.write([found.reading()])
        kept_since = vn_midnight_ns(origin - timedelta(days=int(cfg.score_days) + cfg.horizon_days))
        kept = self.store.query(TopicKind.OUTLOOK, station.id, kept_since, now + 1, 1000)
        skill = score_kept(kept, peaks, first, cfg.score_days)
        found = replace(found, skill=skill)
        self._digests[station.id] = digest
        return found

    def _make(
        self,
        station: str,
        cfg: OutlookRules,
        origin: date,
        now: int,
        first: date,
        peaks: FloatArray,
        lows: FloatArray,
        flow: FloatArray | None,
    ) -> StationOutlook:
        s = settings_of(cfg)
        start = max(0, peaks.size - 1 - cfg.band_days - cfg.horizon_days)
        ahead = {}
        for name, values in (("peak", peaks), ("low", lows)):
            ahead[name] = outlooks(DailySeries(first.toordinal(), values, flow), s, start)
        top, bottom = ahead["peak"], ahead["low"]
        for found in (top, bottom):  # salinity is never below zero, whatever a band says
            for values in (found.mean, found.lower, found.upper):
                np.maximum(values, 0.0, out=values, where=~np.isnan(values))
        t = peaks.size - 1
        low_known = not math.isnan(lows[t])
        days = tuple(
            DayAhead(
                origin + timedelta(days=lead),
                lead,
                float(top.mean[t, lead - 1]),
                float(top.lower[t, lead - 1]),
                float(top.upper[t, lead - 1]),
                float(bottom.mean[t, lead - 1]) if low_known else math.nan,
                float(bottom.lower[t, lead - 1]) if low_known else math.nan,
                float(bottom.upper[t, lead - 1]) if low_known else math.nan,
            )
            for lead in range(1, cfg.horizon_days + 1)
        )
        return StationOutlook(
            station,
            origin,
            now,
            float(peaks[t]),
            float(lows[t]),
            days,
            top.method[t],
            "climatology" if bool(top.climatology[t]) else "recent",
            int(np.count_nonzero(~np.isnan(peaks))),
        )
