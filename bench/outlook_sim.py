"""The week ahead on the simulator's stations of the Tiền, scored as the held-out Mekong seasons
will be: one season scored, with and without earlier seasons before it as an imported history.

    python -m bench.outlook_sim [--history 2016,2020] [--scored 2024] [--seed 7]
        [--sample-h 2] [--history-bursts 3,6]

Each season runs from 1 November to 10 May (Vietnam days), 15-minute readings judged and QC'd
as ingest would store them (bench/forecast_sim.py), good readings only; a day counts with
``[outlook] day_readings`` of them. The scored season is forecast from 1 January of its year
(the days before are history only). ``--sample-h 2`` keeps a reading every 2 hours, as the
national network samples; ``--history-bursts 3,6`` keeps the earlier seasons only on 3 days of
every 6, as it sampled the drought years (docs/domain.md §3.4). Prints the skill against
persistence of the daily peak at days 1, 3 and 7 per station, then the median and the worst,
the hit rate and false-alarm ratio of "the peak above the station's median" at day 7, and the
share of days inside the nominal band (median and range over the stations).
"""

from __future__ import annotations

import argparse
from datetime import date

import numpy as np

from bench.forecast_sim import readings_of
from bench.forecast_skill import on_grid
from bench.outlook_skill import Case, score
from saltwatch.analytics.outlook import outlooks
from saltwatch.analytics.outlook_inputs import DailySeries, settings_of
from saltwatch.core.registry import Device, load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.sim.salinity import epoch

LEADS = (1, 3, 7)
VN_OFFSET_S = 7 * 3600


def season_days(
    stations: list[Device],
    scenario: str,
    seed: int,
    min_readings: int,
    sample_h: float = 0.0,
    bursts: tuple[int, int] | None = None,
) -> dict[str, dict[int, float]]:
    """Each station's daily peak (date ordinal → ‰) over one simulated season: from the
    readings on a ``sample_h``-hour grid (0: every 15 minutes), and with ``bursts`` (d, e) only
    on d days of every e, as the network sampled the drought years."""
    year = int(scenario)
    found = readings_of(
        stations, epoch(f"{year - 1}-11-01"), epoch(f"{year}-05-10"), seed, scenario
    )
    out: dict[str, dict[int, float]] = {}
    for device, series in found.items():
        ts, values = on_grid(series, sample_h)
        days = (ts // NS_PER_S + VN_OFFSET_S) // 86400 + date(1970, 1, 1).toordinal()
        peaks: dict[int, float] = {}
        for day in np.unique(days).tolist():
            if bursts is not None and day % bursts[1] >= bursts[0]:
                continue
            mine = values[days == day]
            if mine.size >= min_readings:
                peaks[int(day)] = float(mine.max())
        out[device] = peaks
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--history", default="2016,2020", help="earlier seasons (scenarios)")
    ap.add_argument("--scored", default="2024", help="the season scored (a scenario)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument(
        "--sample-h", type=float, default=0.0, help="keep a reading every so many hours (0: all)"
    )
    ap.add_argument(
        "--history-bursts",
        metavar="D,E",
        help="the earlier seasons only on D days of every E (the drought years' sampling: 3,6)",
    )
    args = ap.parse_args(argv)
    bursts = None
    if args.history_bursts:
        on, every = (int(v) for v in args.history_bursts.split(","))
        if not 0 < on <= every:
            ap.error("--history-bursts D,E needs 0 < D <= E")
        bursts = (on, every)
    rules = load_rules().outlook
    settings = settings_of(rules)
    stations = [d for d in load_registry().devices_of("salinity") if d.river == "tien"]
    history = [s for s in args.history.split(",") if s]
    seasons = {}
    for scenario in [*history, args.scored]:
        print(f"# simulating the {scenario} season…", flush=True)
        seasons[scenario] = season_days(
            stations,
            scenario,
            args.seed,
            rules.day_readings,
            args.sample_h,
            bursts if scenario != args.scored else None,
        )
    start = date(int(args.scored), 1, 1).toordinal()
    print("station".ljust(14) + "".join(f"  with@{d}  none@{d}" for d in LEADS))
    table: dict[str, list[list[float]]] = {"with": [], "none": []}
    hits: dict[str, list[tuple[float, float, float, float]]] = {"with": [], "none": []}
    inside: dict[str, list[float]] = {"with": [], "none": []}
    for station in (d.id for d in stations):
        line = station[:14].ljust(14)
        rows: dict[str, list[float]] = {}
        for label, used in (("with", [*history, args.scored]), ("none", [args.scored])):
            peaks = {d: v for s in used for d, v in seasons[s].get(station, {}).items()}
            first_day, last_day = min(peaks), max(peaks)
            y = np.full(last_day - first_day + 1, np.nan)
            for day, value in peaks.items():
                y[day - first_day] = value
            case = Case(station, DailySeries(first_day, y), start - first_day)
            level = float(np.nanmedian(y[case.first :]))  # the scored days, as outlook_skill
            got = score(case, outlooks(case.series, settings, case.first), level)
            rows[label] = [got.skill(d) for d in LEADS]
            hits[label].append(got.hits[7])
            inside[label].append(got.coverage)
            table[label].append(rows[label])
        line += "".join(f"  {rows['with'][i]:+6.3f}  {rows['none'][i]:+6.3f}" for i in range(3))
        print(line, flush=True)
    for what, pick in (("median", np.median), ("worst", np.min)):
        w, n = pick(np.array(table["with"]), axis=0), pick(np.array(table["none"]), axis=0)
        print(what.ljust(14) + "".join(f"  {w[i]:+6.3f}  {n[i]:+6.3f}" for i in range(3)))
    for label in ("with", "none"):  # "the peak above the station's median", day 7
        h, f, ph, pf = np.median(np.array(hits[label]), axis=0)
        lo, mid, hi = np.percentile(inside[label], [0, 50, 100])
        print(f"# {label}: hit rate / false alarms at day 7 {h:.2f} / {f:.2f} "
              f"(persistence {ph:.2f} / {pf:.2f}), medians over the stations; "
              f"in the {settings.band:.0%} band {mid:.1%} ({lo:.0%} to {hi:.0%})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
