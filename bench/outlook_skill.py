"""The week-ahead outlook against persistence of the daily peak, on measured series.

    python -m bench.outlook_skill --data ../shared/data/real/*.csv \\
        --front ../shared/data/real/delaware [--score-from 2016-01-01] [--methods ...]

Every series is turned into daily values and forecast at every origin, fitted only on what was
known at that origin, as SaltWatch forecasts a station (analytics/outlook.py, settings from
config/rules.toml's [outlook]). Sub-daily salinity (``--data``) gives its daily peak and low: UTC
days, or ``--day-offset-h 7`` for Vietnam days; a day counts with readings in two thirds of the
hours its file's days usually hold (16 at 15-minute sampling, 8 of a 2-hourly record's 12), or in
``--min-hours`` hours; a series with too few days is left out with a line on stderr. Rows are
grouped by their ``station`` column, so a station's earlier seasons may come in files
of their own, and ``--data-from`` scores from a day on, the days before being history only. The
Delaware salt front (``--front``) gives its daily km, the Trenton discharge its flow. Printed
per series and pooled, at leads 1, 3, 5 and 7 days: MAE,
persistence MAE over the same target days, skill (1 − MAE / persistence MAE), the share of days
inside the nominal band, and for "peak above a level" (the series' median) the hit rate and the
false-alarm ratio of the forecast against those of persistence.

Targets (median per series): skill ≥ 0.00 at day 1, ≥ +0.05 at day 3, ≥ +0.15 at day 7, none below
−0.05; band coverage 85–95 %; hit rate ≥ 0.90 with false-alarm ratio ≤ 0.15 at day 7.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.outlook_ceiling import LEADS, hit_far, print_ceilings
from saltwatch.analytics.outlook import Outlooks, outlooks
from saltwatch.analytics.outlook_inputs import (
    OUTLOOK_METHODS,
    DailySeries,
    OutlookSettings,
    settings_of,
)
from saltwatch.core.rules import load_rules


@dataclass
class Case:
    name: str
    series: DailySeries
    first: int  # the first origin scored (earlier days are history only)


Day = tuple[set[int], float, float]  # the hours with readings, the highest, the lowest


def daily_by_station(
    paths: list[Path], min_hours: int | None, offset_h: float
) -> dict[str, tuple[DailySeries, DailySeries]]:
    """Daily peak and low of sub-daily series (shared/data/real's CSV format), one per station:
    rows are grouped by their ``station`` column, so a station's earlier seasons may come in
    files of their own. Days run from ``offset_h`` after midnight UTC (7: Vietnam days). A day
    counts with readings in ``min_hours`` of its hours; ``None``: in two thirds of the hours the
    station's days in that file usually hold (16 of 24 at 15-minute or hourly sampling, 8 of
    the 12 of a 2-hourly record, 1 of a daily one), so an earlier season logged 2-hourly counts
    beside a 15-minute one."""
    kept: dict[str, dict[int, tuple[float, float]]] = {}
    for path in paths:
        for station, days in _days_of(path, offset_h).items():
            need = min_hours if min_hours is not None else usual_hours(days.values())
            mine = kept.setdefault(station, {})
            for day, (hours, high, low) in days.items():
                if len(hours) >= need:
                    was = mine.get(day, (high, low))
                    mine[day] = (max(was[0], high), min(was[1], low))
    out = {}
    for station, extremes in kept.items():
        if not extremes:
            print(f"# {station}: left out, no day counted (see --min-hours)", file=sys.stderr)
            continue
        first, last = min(extremes), max(extremes)
        peak = np.full(last - first + 1, np.nan)
        trough = np.full(last - first + 1, np.nan)
        for day, (high, low) in extremes.items():
            peak[day - first], trough[day - first] = high, low
        out[_short(station, paths)] = (DailySeries(first, peak), DailySeries(first, trough))
    return out


def _days_of(path: Path, offset_h: float) -> dict[str, dict[int, Day]]:
    """One file's readings by station and day."""
    fallback = path.stem.split("_")[2] if path.stem.count("_") >= 2 else path.stem
    seen: dict[str, dict[int, Day]] = {}
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row.get("salinity_ppt"):
                continue
            when = datetime.fromisoformat(row["time_utc"].replace("Z", "+00:00"))
            if when.tzinfo is not None:  # a time written with its offset: counted in UTC
                when = when.astimezone(UTC).replace(tzinfo=None)
            local = when + timedelta(hours=offset_h)
            day, value = local.date().toordinal(), float(row["salinity_ppt"])
            days = seen.setdefault(row.get("station") or fallback, {})
            hours, high, low = days.get(day, (set(), value, value))
            hours.add(local.hour)
            days[day] = (hours, max(high, value), min(low, value))
    return seen


def usual_hours(days: Iterable[Day]) -> int:
    """Two thirds of the hours with readings that days usually hold (their median), so that a
    day missing a third of its sampling does not count, whatever the sampling."""
    usual = float(np.median([len(hours) for hours, _, _ in days]))
    return max(1, math.ceil(usual * 2 / 3))


def _short(station: str, paths: list[Path]) -> str:
    """The name a station is printed under: its file's place name where one file holds it."""
    code = station.removeprefix("USGS-")
    for path in paths:
        parts = path.stem.split("_")
        if len(parts) >= 3 and parts[1] == code:
            return parts[2]
    return station


def _column(path: Path, name: str) -> dict[int, float]:
    with path.open(newline="", encoding="utf-8") as f:
        return {
            date.fromisoformat(r["date"]).toordinal(): float(r[name])
            for r in csv.DictReader(f)
            if r.get(name)
        }


def front_of(folder: Path) -> DailySeries:
    """The Delaware salt front's daily km, with the Trenton discharge as its flow."""
    km = _column(folder / "delaware_saltfront_daily.csv", "saltfront_km")
    flow = _column(folder / "delaware_drivers_daily.csv", "q_trenton_m3s")
    first, last = min(km), max(km)
    days = range(first, last + 1)
    return DailySeries(
        first,
        np.array([km.get(d, np.nan) for d in days]),
        np.array([flow.get(d, np.nan) for d in days]),
    )


@dataclass
class Score:
    mae: dict[int, float]
    persistence: dict[int, float]
    coverage: float
    hits: dict[int, tuple[float, float, float, float]]  # hit, far; persistence hit, far
    methods: dict[str, int]

    def skill(self, lead: int) -> float:
        p = self.persistence[lead]
        return 1.0 - self.mae[lead] / p if p > 0 else 0.0


def score(case: Case, found: Outlooks, level: float) -> Score:
    y = case.series.values
    n = y.size
    mae, per, hits = {}, {}, {}
    inside, total = 0, 0
    for lead in range(1, found.mean.shape[1] + 1):
        t = np.arange(case.first, n - lead)
        obs, base, pred = y[t + lead], y[t], found.mean[t, lead - 1]
        ok = ~np.isnan(obs) & ~np.isnan(base) & ~np.isnan(pred)
        lo, hi = found.lower[t, lead - 1][ok], found.upper[t, lead - 1][ok]
        inside += int(np.count_nonzero((obs[ok] >= lo) & (obs[ok] <= hi)))
        total += int(np.count_nonzero(ok))
        if lead in LEADS:
            mae[lead] = float(np.mean(np.abs(obs[ok] - pred[ok])))
            per[lead] = float(np.mean(np.abs(obs[ok] - base[ok])))
            event = obs[ok] > level
            hits[lead] = hit_far(event, pred[ok] > level) + hit_far(event, base[ok] > level)
    used: dict[str, int] = {}
    for origin in range(case.first, n):
        if not np.isnan(found.mean[origin, 0]):
            used[found.method[origin]] = used.get(found.method[origin], 0) + 1
    return Score(mae, per, inside / max(1, total), hits, used)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--data", nargs="*", type=Path, default=[], help="sub-daily salinity CSVs")
    ap.add_argument("--front", type=Path, help="the delaware/ folder (salt front and flow)")
    ap.add_argument("--score-from", default="2016-01-01", help="Delaware: first day scored")
    ap.add_argument(
        "--data-from",
        help="--data: the first day scored (YYYY-MM-DD); the days before are history only (a "
        "station's earlier seasons, in the same files or files of their own)",
    )
    ap.add_argument(
        "--day-offset-h",
        type=float,
        default=0.0,
        help="--data: days start this many hours after midnight UTC (7: Vietnam days)",
    )
    ap.add_argument(
        "--min-hours",
        type=int,
        help="--data: hours with readings a day needs to count (default: two thirds of those "
        "the station's days usually hold: 16 at 15-minute or hourly sampling, 8 at 2-hourly)",
    )
    ap.add_argument("--lows", action="store_true", help="also score the daily lows")
    ap.add_argument(
        "--ceiling",
        action="store_true",
        help="also print what knowing the scored days would gain (bench/outlook_ceiling.py): "
        "damping toward the scored period's own mean, its share chosen on those days; and "
        "each method's correction fitted on the scored days themselves, the best per lead",
    )
    ap.add_argument(
        "--methods",
        default=",".join(OUTLOOK_METHODS),
        help="candidate methods (persistence is always one)",
    )
    args = ap.parse_args(argv)
    settings = settings_of(load_rules().outlook)
    cases: list[Case] = []
    for name, (peak, trough) in daily_by_station(
        args.data, args.min_hours, args.day_offset_h
    ).items():
        first = 0
        if args.data_from:
            first = max(0, date.fromisoformat(args.data_from).toordinal() - peak.first_day)
        cases.append(Case(f"{name} peak", peak, first))
        if args.lows:
            cases.append(Case(f"{name} low", trough, first))
    if args.front is not None:
        front = front_of(args.front)
        first = date.fromisoformat(args.score_from).toordinal() - front.first_day
        cases.append(Case("Delaware front km", front, first))
    cases = [c for c in cases if enough(c, settings)]
    if not cases:
        ap.error("nothing to score: give --data and/or --front (with days that count)")
    methods = tuple(m for m in args.methods.split(",") if m in OUTLOOK_METHODS)
    print(f"# outlook skill, settings {settings}", flush=True)
    print(f"# candidates: {', '.join(methods)}", flush=True)
    head = "series".ljust(24) + "".join(f"  skill@{d}" for d in LEADS)
    head += "   MAE@7 pers@7  band  hit@3 far@3  hit@7 far@7 (persistence hit/far @7)  methods"
    print(head)
    skills: dict[int, list[float]] = {d: [] for d in LEADS}
    cover: list[float] = []
    pooled: dict[str, list[float]] = {"hit7": [], "far7": [], "hit3": [], "far3": []}
    for case in cases:
        started = time.perf_counter()
        found = outlooks(case.series, settings, case.first, methods)
        level = float(np.nanmedian(case.series.values[case.first :]))
        got = score(case, found, level)
        for d in LEADS:
            skills[d].append(got.skill(d))
        cover.append(got.coverage)
        for d in (3, 7):
            pooled[f"hit{d}"].append(got.hits[d][0])
            pooled[f"far{d}"].append(got.hits[d][1])
        h3, h7 = got.hits[3], got.hits[7]
        line = case.name[:24].ljust(24) + "".join(f"  {got.skill(d):+7.3f}" for d in LEADS)
        line += f"   {got.mae[7]:5.2f} {got.persistence[7]:6.2f}  {got.coverage:5.1%}"
        line += f"  {h3[0]:.2f}  {h3[1]:.2f}   {h7[0]:.2f}  {h7[1]:.2f}   ({h7[2]:.2f}/{h7[3]:.2f})"
        line += "  " + " ".join(f"{m}:{c}" for m, c in sorted(got.methods.items()))
        line += f"  [{time.perf_counter() - started:.1f} s]"
        print(line, flush=True)
    print(
        "median".ljust(24) + "".join(f"  {float(np.median(skills[d])):+7.3f}" for d in LEADS),
        end="",
    )
    print(f"                {float(np.median(cover)):5.1%}", end="")
    print("".join(f"  {float(np.median(pooled[k])):.2f}" for k in ("hit3", "far3", "hit7", "far7")))
    print("worst".ljust(24) + "".join(f"  {min(skills[d]):+7.3f}" for d in LEADS))
    if args.ceiling:
        print_ceilings([(c.name, c.series, c.first) for c in cases], settings)
    return 0


def enough(case: Case, s: OutlookSettings) -> bool:
    """Whether a series has days enough to score (else it says why, on stderr)."""
    counted = int(np.count_nonzero(~np.isnan(case.series.values[case.first :])))
    if counted >= s.min_pairs + s.horizon_days:
        return True
    print(
        f"# {case.name}: left out, {counted} days counted from the first day scored "
        f"(it needs {s.min_pairs + s.horizon_days}); see --min-hours and --data-from",
        file=sys.stderr,
    )
    return False


if __name__ == "__main__":
    sys.exit(main())
