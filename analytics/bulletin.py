"""The daily bulletin's content: each station's maximum and minimum of the day against its
levels, the salt front and risk level per river, wells and taps (running / total, water
delivered), the day's alerts, and a chart of the last 7 days. analytics/bulletin_text.py writes
it out in Vietnamese or English, as HTML (the chart inlined, one file to mail or print) or
Markdown (the chart beside it as a PNG).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import orjson

from saltwatch.alerts.model import Alert
from saltwatch.alerts.store import AlertQuery, AlertStore
from saltwatch.analytics.bulletin_chart import chart_png
from saltwatch.analytics.saltfront import FrontDay, compute_days, forecast_of, rivers_with_stations
from saltwatch.analytics.schedules import ScheduleBook
from saltwatch.core.catalogue import Lang
from saltwatch.core.qc import good_value
from saltwatch.core.registry import Device, Registry, Structure
from saltwatch.core.rules import RuleSet
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S, VN_TZ
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading


@dataclass
class StationDay:
    device: Device
    max_ppt: float | None
    min_ppt: float | None
    warning: float
    critical: float

    @property
    def status(self) -> str:
        """``nodata``, ``critical``, ``warning`` or ``normal`` (analytics/bulletin_text.py words
        it)."""
        if self.max_ppt is None:
            return "nodata"
        if self.max_ppt >= self.critical:
            return "critical"
        if self.max_ppt >= self.warning:
            return "warning"
        return "normal"


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
class GateDay:
    """A structure in the bulletin: its gate's changes that day (time, state, who: the sensor or
    the operator's name) and the openings planned for the three days after it (start, end, by)."""

    structure: Structure
    changes: list[tuple[int, str, str]]
    planned: list[tuple[int, int, str]]


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
    #: "lịch đóng mở cống": not among the figures (a plan changed is not a revised day)
    gates: list[GateDay] = field(default_factory=list)


def figures_digest(b: Bulletin) -> str:
    """What the bulletin states, as a digest: each station's maximum, minimum and levels, each
    river's lines and levels, the wells and taps, and which alerts the day had. Two builds of
    one day that state the same figures have the same digest (an alert that ended since, or a
    chart redrawn, does not change it)."""
    figures = [
        [[s.device.id, s.max_ppt, s.min_ppt, s.warning, s.critical] for s in b.stations],
        [
            [
                f.river,
                sorted((line, r.km, r.bound) for line, r in f.reaches.items() if r),
                f.risk.level,
                f.forecast.level if f.forecast else None,
            ]
            for f in b.fronts
        ],
        [[s.zone, s.wells_ran, s.well_m3, s.taps_opened, s.tap_m3] for s in b.supply],
        sorted([a.id, a.severity] for a in b.alerts),
    ]
    return hashlib.blake2b(orjson.dumps(figures), digest_size=16).hexdigest()


def day_bounds(day: date) -> tuple[int, int]:
    start = datetime(day.year, day.month, day.day, tzinfo=VN_TZ)
    return int(start.timestamp()) * NS_PER_S, int(
        (start + timedelta(days=1)).timestamp()
    ) * NS_PER_S


def covered_zones(registry: Registry, zone: str | None) -> set[str] | None:
    return None if zone is None else {zone, *registry.descendants(zone)}


def in_zones(device: Device, covered: set[str] | None) -> bool:
    return covered is None or bool({device.zone, *device.also_zones} & covered)


def _good(readings: list[Reading], name: str) -> list[float]:
    return [v for r in readings if (v := good_value(r, name)) is not None]


def build(
    store: ReadingStore,
    state: AlertStore | None,
    registry: Registry,
    rules: RuleSet,
    day: date,
    zone: str | None = None,
    describe: Callable[[Alert], str] | None = None,
    lang: Lang = "vi",
    schedules: ScheduleBook | None = None,
) -> Bulletin:
    """The day's bulletin; ``describe`` gives an alert's text in ``lang`` (alerts/messages.py
    ``firing_text``, passed in by the caller: analytics knows alerts by their model only)."""
    start, end = day_bounds(day)
    covered = covered_zones(registry, zone)
    stations = []
    for device in registry.devices_of("salinity"):
        if not in_zones(device, covered) or device.profile is None:
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
        if covered is None or any(in_zones(d, covered) for d in registry.stations_on(river)):
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
        chart_png(store, [(s.device.id, s.device.name, s.critical) for s in stations], end, lang),
        {a.id: describe(a) for a in alerts} if describe else {},
        _gates(store, registry, covered, start, end, schedules),
    )


def _gates(
    store: ReadingStore,
    registry: Registry,
    covered: set[str] | None,
    start: int,
    end: int,
    schedules: ScheduleBook | None,
) -> list[GateDay]:
    out = []
    for s in registry.structures.values():
        if covered is not None and not {s.zone, *s.also_zones} & covered:
            continue
        reports = [
            (r.ts_ns, r, str(r.fields.get("by") or ""))
            for r in store.query(TopicKind.OPERATION, s.id, start, end, 1_000)
        ]
        sensor = registry.gate_of(s.id)
        if sensor is not None:
            reports += [
                (r.ts_ns, r, "") for r in store.query(TopicKind.GATE, sensor.id, start, end)
            ]
        changes: list[tuple[int, str, str]] = []
        for at, r, by in sorted(reports, key=lambda x: x[0]):
            state = r.fields.get("state")
            if isinstance(state, str) and (not changes or changes[-1][1] != state):
                changes.append((at, state, by))
        planned = [
            (o.start_ns, o.end_ns, o.by)
            for o in (schedules.between(end, end + 3 * 86400 * NS_PER_S, s.id) if schedules else [])
        ]
        if changes or planned or sensor is not None:
            out.append(GateDay(s, changes, planned))
    return out


def _alerts_of(
    state: AlertStore,
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
            for a in state.query(AlertQuery(since_ns=start, until_ns=end, limit=20_000))[0]
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
