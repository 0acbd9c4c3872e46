"""The forecast job: every station's forecast each ``alerts.forecast_every``, kept in the store to
be scored, and judged: a ``forecast`` alert when a station below its level is forecast to reach
it, and ``intake_window`` notices for the safe windows of intake stations whose live score
earned them (analytics/forecast.py makes the forecasts, analytics/forecast_store.py keeps and
scores them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Protocol

import numpy as np

from saltwatch.alerts.model import SOON_RULE, Fingerprint, Observation
from saltwatch.analytics.forecast import (
    StationForecast,
    Window,
    forecast_from,
    forecast_station,
    good_readings,
    history_days,
    kept,
)
from saltwatch.analytics.forecast_store import past_forecasts
from saltwatch.core.clock import Clock
from saltwatch.core.registry import Device, Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S


class Announced(Protocol):
    """What the job needs of an open intake window notice (an alert of the engine)."""

    @property
    def rule(self) -> str: ...
    @property
    def device(self) -> str | None: ...
    @property
    def fingerprint(self) -> Fingerprint: ...
    @property
    def started_at_ns(self) -> int: ...
    @property
    def value(self) -> float | None: ...


class ForecastJob:
    """Forecasts every salinity station, keeps each forecast (to score it against the readings
    that follow) and judges them: an alert (kind ``forecast``) when a station below its level is
    forecast to reach it, with the lead time; a notice (kind ``intake_window``) for each safe
    intake window ahead at intake stations whose live score earned it (analytics/
    forecast_store.py), kept under one identity while later forecasts move its edges, resolved
    once it is no longer ahead or the station's score no longer earns it.

    A station seen for the first time without enough kept forecasts gets *hindcasts*: forecasts
    made as if at each past day of the scored span from the readings before it, so that its score
    says something from the start."""

    def __init__(
        self,
        store: ReadingStore,
        registry: Registry,
        rules: Callable[[], RuleSet],
        clock: Clock,
        hindcast_every_h: float = 24.0,
        open_notices: Callable[[], Iterable[Announced]] | None = None,
    ) -> None:
        self.store = store
        self.registry = registry
        self.rules = rules
        self.clock = clock
        self.hindcast_every_h = hindcast_every_h
        self.latest: dict[str, StationForecast] = {}
        self._announced: dict[str, list[tuple[Fingerprint, Window]]] = {}
        self._soon: dict[Fingerprint, Observation] = {}  # "opening soon" notices told
        # notices announced before a restart, still open in the alert state: the same windows
        # keep their identities (else each restart would announce them anew), and an "opening
        # soon" is ended once it no longer holds
        for notice in open_notices() if open_notices else ():
            if notice.rule == "intake-window" and notice.device and notice.value is not None:
                start = notice.started_at_ns
                window = Window(start, start + int(notice.value * 3600 * NS_PER_S))
                self._announced.setdefault(notice.device, []).append((notice.fingerprint, window))
            elif notice.rule == SOON_RULE and notice.device:
                start = notice.started_at_ns
                self._soon[notice.fingerprint] = _soon(notice.fingerprint, notice.device, start, 0)
        self._hindcast_done: set[str] = set()

    def update(self) -> list[tuple[Observation, str | None]]:
        now = self.clock.now_ns()
        rules = self.rules()
        out: list[tuple[Observation, str | None]] = []
        for station in self.registry.devices_of("salinity"):
            if station.profile is None:
                continue
            if station.id not in self._hindcast_done:
                self._hindcast(station, rules, now)
                self._hindcast_done.add(station.id)
            found = forecast_station(self.store, self.registry, station, rules, now)
            if found is None:
                continue  # too little data: no-data rules speak for the station
            self.store.write([kept(found, rules.forecast)])
            self.latest[station.id] = found
            out.append((self._exceedance(found, now), None))
            out.extend((obs, None) for obs in self._windows(found, now))
        return out

    def peaks(self, max_age_s: float = 3 * 3600.0) -> dict[str, float]:
        """Each station's highest forecast salinity over the horizon, from forecasts no older
        than ``max_age_s`` (the salt front's forecast level)."""
        now = self.clock.now_ns()
        return {
            sid: float(np.max(found.forecast.mean))
            for sid, found in list(self.latest.items())
            if now - found.forecast.fitted_at_ns <= max_age_s * NS_PER_S
        }

    def _hindcast(self, station: Device, rules: RuleSet, now: int) -> int:
        """Forecasts as if made at each past ``hindcast_every_h`` of the scored span, kept
        where none is kept yet. Returns how many were made."""
        cfg = rules.forecast
        span = int(cfg.score_days * 86400 * NS_PER_S)
        have = {p.fitted_at_ns for p in past_forecasts(self.store, station.id, now - span, now)}
        if len(have) >= cfg.min_scored:
            return 0
        since = now - int(history_days(cfg, hindcast=True) * 86400 * NS_PER_S)
        ts, ppt = good_readings(self.store, station.id, since, now + 1)
        step = int(self.hindcast_every_h * 3600 * NS_PER_S)
        made = []
        at = now - span
        at -= at % (3600 * NS_PER_S)
        while at < now - step // 2:
            found = forecast_from(ts, ppt, self.registry, station, rules, at)
            if found is not None and at not in have:
                made.append(kept(found, cfg))
            at += step
        if made:
            self.store.write(made)
        return len(made)

    @staticmethod
    def _exceedance(found: StationForecast, now: int) -> Observation:
        """Coming: forecast to reach the level while the last tidal day stayed below it (once
        there, the salinity alert speaks; the tide's ups and downs do not re-announce it)."""
        f = found.forecast
        at = f.first_above(found.level)
        below = found.recent_max is None or found.recent_max < found.level
        coming = at is not None and below and found.alerts
        lead_h = round((at - now) / NS_PER_S / 3600, 1) if coming and at is not None else None
        return Observation(
            fingerprint=Fingerprint("forecast-exceedance", found.station.id),
            rule="forecast-exceedance",
            kind="forecast",
            device=found.station.id,
            severity="warning" if coming else None,
            value=lead_h,
            threshold=found.level,
            unit="h",
            since_ns=now,
            at_ns=now,
        )

    def _windows(self, found: StationForecast, now: int) -> list[Observation]:
        station = found.station.id
        before = self._announced.get(station, [])
        kept: list[tuple[Fingerprint, Window]] = []
        for window in found.windows if found.reliable else []:
            same = next((fp for fp, w in before if _overlap(w, window)), None)
            named = Fingerprint("intake-window", station, str(window.start_ns // NS_PER_S))
            kept.append((same or named, window))
        gone = [(fp, w) for fp, w in before if all(fp != k for k, _ in kept)]  # passed or withdrawn
        self._announced[station] = kept

        def notice(fingerprint: Fingerprint, window: Window, open_: bool) -> Observation:
            return Observation(
                fingerprint=fingerprint,
                rule="intake-window",
                kind="intake_window",
                device=station,
                severity="info" if open_ else None,
                value=round(window.hours, 1),
                threshold=found.threshold,
                unit="h",
                since_ns=window.start_ns if open_ else now,
                at_ns=now,
            )

        return [notice(fp, w, True) for fp, w in kept] + [notice(fp, w, False) for fp, w in gone]

    def soon(self) -> list[tuple[Observation, str | None]]:
        """``intake-window-soon`` (info): each announced window that opens within the rules'
        ``forecast.window_soon``, told until it opens or is withdrawn. Run at the engine's tick,
        so the lead holds to a tick; told only to the receivers that asked (alerts/routing.py)."""
        now = self.clock.now_ns()
        lead = int(self.rules().forecast.window_soon * NS_PER_S)
        due: dict[Fingerprint, Observation] = {}
        for station, announced in list(self._announced.items()):
            found = self.latest.get(station)
            for fp, window in announced:
                if window.start_ns - lead <= now < window.start_ns:
                    named = Fingerprint(SOON_RULE, station, fp.part)
                    threshold = found.threshold if found else None
                    due[named] = _soon(
                        named, station, window.start_ns, now, round(window.hours, 1), threshold
                    )
        ended = [
            replace(o, severity=None, at_ns=now) for fp, o in self._soon.items() if fp not in due
        ]
        self._soon = due
        return [(o, None) for o in (*due.values(), *ended)]


def _soon(
    fingerprint: Fingerprint,
    station: str,
    start_ns: int,
    now: int,
    hours: float | None = None,
    threshold: float | None = None,
) -> Observation:
    """The notice of a window opening at ``start_ns`` (firing, ``info``, when its ``hours`` are
    given; else the ended one, as kept across a restart)."""
    return Observation(
        fingerprint=fingerprint,
        rule=SOON_RULE,
        kind="intake_window",
        device=station,
        severity="info" if hours is not None else None,
        value=hours,
        threshold=threshold,
        unit="h",
        since_ns=start_ns,  # the message says when it opens
        at_ns=now,
    )


def _overlap(a: Window, b: Window) -> bool:
    return a.start_ns < b.end_ns and b.start_ns < a.end_ns
