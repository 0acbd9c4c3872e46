"""Forecast skill against tidal-day persistence, on measured series and on the simulator.

    python -m bench.forecast_skill --data ../shared/data/real/*.csv [--sample-h 2]
    python -m bench.forecast_skill --sim [--scenario 2024] [--sample-h 2]
    python -m bench.forecast_skill --data ... --methods learned,persistence+tide,harmonic

Each series is forecast every ``--every-h`` hours (from the day its fitting window has enough
data) with the settings of config/rules.toml, exactly as SaltWatch forecasts a station, and every
forecast is scored by analytics/forecast_score.py against the readings that followed: 24 h MAE,
the same for tidal-day persistence (the value 24 h 50 min earlier), skill (1 − MAE / persistence
MAE), the share of readings inside the 90 % band, and the safe intake windows' precision and
recall at thresholds set at each series' 30th, 50th and 70th percentile. ``--sample-h 2`` keeps
the readings on a 2-hour grid, as many Mekong stations are sampled.

CSV files: columns ``time_utc`` (ISO 8601) and ``salinity_ppt`` (shared/data/real's format).
Done when (real data, 2-hourly): median skill ≥ +0.03, none below −0.02, band coverage 85–95 %,
window precision ≥ 95 % and recall ≥ 60 % overall.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np

from saltwatch.analytics.forecast import ForecastSettings, fit_forecast, safe_windows, settings_from
from saltwatch.analytics.forecast_score import PastForecast, Tally, score
from saltwatch.analytics.forecasters import METHODS, Method
from saltwatch.core.rules import load_rules
from saltwatch.core.timeutil import NS_PER_S

H_NS = 3600 * NS_PER_S
Series = tuple[np.ndarray, np.ndarray]  # ts_ns (int64), ppt (float64), sorted by time


def read_csv(path: Path) -> Series:
    times, values = [], []
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if not row.get("salinity_ppt"):
                continue
            when = datetime.fromisoformat(row["time_utc"].replace("Z", "+00:00"))
            times.append(int(when.timestamp()) * NS_PER_S)
            values.append(float(row["salinity_ppt"]))
    order = np.argsort(times, kind="stable")
    return np.asarray(times, np.int64)[order], np.asarray(values, np.float64)[order]


def on_grid(series: Series, every_h: float) -> Series:
    """The first reading of every ``every_h`` (a manual station's schedule)."""
    if every_h <= 0:
        return series
    ts, ppt = series
    _, first = np.unique(ts // int(every_h * H_NS), return_index=True)
    return ts[first], ppt[first]


def sim_series(scenario: str, start: str, end: str, seed: int) -> dict[str, Series]:
    from bench.forecast_sim import readings_of  # noqa: PLC0415 - the simulator only when asked
    from saltwatch.core.registry import load_registry  # noqa: PLC0415
    from saltwatch.sim.salinity import epoch  # noqa: PLC0415

    registry = load_registry()
    stations = [d for d in registry.devices_of("salinity") if d.profile is not None]
    return readings_of(stations, epoch(start), epoch(end), seed, scenario)


def score_series(
    series: Series, cfg: ForecastSettings, every_h: float, percentiles: tuple[int, ...]
) -> Tally:
    ts, ppt = series
    thresholds = [float(np.percentile(ppt, p)) for p in percentiles]
    total = Tally()
    now = int(ts[0]) + int(cfg.method.min_coverage_h * H_NS)
    last = int(ts[-1]) - int(cfg.horizon_h * H_NS)
    step = int(every_h * H_NS)
    while now <= last:
        known = ts <= now
        forecast = fit_forecast(ts[known], ppt[known], now, cfg)
        if forecast is not None:
            for k, threshold in enumerate(thresholds):
                windows = safe_windows(
                    forecast, threshold, cfg.min_window_s, cfg.step_s, cfg.window_horizon_h
                )
                past = PastForecast(
                    now,
                    forecast.ts_ns,
                    forecast.mean,
                    forecast.lower,
                    forecast.upper,
                    threshold,
                    tuple((w.start_ns, w.end_ns) for w in windows),
                    now + int(cfg.window_horizon_h * H_NS),
                )
                tally = score(past, ts, ppt, int(ts[-1]), cfg.method.max_gap_h)
                if k:  # error and band once per forecast
                    tally.forecasts = tally.errors = tally.banded = tally.in_band = 0
                    tally.abs_error = tally.abs_error_persistence = 0.0
                total.add(tally)
        now += step
    return total


def _pct(value: float | None) -> str:
    return f"{value:>8.1%}" if value is not None else f"{'-':>8}"


def _num(value: float | None, fmt: str = ">8.3f") -> str:
    return format(value, fmt) if value is not None else f"{'-':>8}"


HEADER = (
    f"{'series':<24} {'fcasts':>6} {'MAE 24h':>8} {'persist.':>8} {'skill':>8} "
    f"{'in band':>8} {'precis.':>8} {'recall':>8}"
)


def line(name: str, t: Tally) -> str:
    return (
        f"{name:<24} {t.forecasts:>6} {_num(t.mae)} {_num(t.mae_persistence)} "
        f"{_num(t.skill, '>+8.3f')} {_pct(t.coverage)} {_pct(t.precision)} {_pct(t.recall)}"
    )


def run_source(title: str, data: dict[str, Series], cfg: ForecastSettings, every_h: float) -> Tally:
    print(f"\n{title} — method {cfg.method.method}, fit {cfg.method.fit_days:g} days")
    print(HEADER)
    pooled = Tally()
    for name, series in data.items():
        if series[0].size < 2:
            print(f"{name:<24} no readings")
            continue
        began = time.monotonic()
        tally = score_series(series, cfg, every_h, (30, 50, 70))
        print(line(name, tally), f"  ({time.monotonic() - began:.0f} s)", flush=True)
        pooled.add(tally)
        if tally.skill is not None:
            pooled.skills.append(tally.skill)
    print(line("all (pooled)", pooled))
    if pooled.skills:
        print(
            f"skill per series: median {np.median(pooled.skills):+.3f}, "
            f"worst {min(pooled.skills):+.3f}"
        )
    return pooled


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", nargs="*", default=[], type=Path, help="measured CSV series")
    parser.add_argument("--sim", action="store_true", help="the simulator's stations too")
    parser.add_argument("--scenario", default="2024")
    parser.add_argument("--from", dest="start", default="2024-01-15")
    parser.add_argument("--to", dest="end", default="2024-05-15")
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--sample-h", type=float, default=0.0, help="keep a grid (0: all)")
    parser.add_argument("--every-h", type=float, default=6.0, help="a forecast every … hours")
    parser.add_argument("--methods", default="", help=f"comma-separated, of {', '.join(METHODS)}")
    args = parser.parse_args(argv)
    if not args.data and not args.sim:
        parser.error("give --data FILES, --sim, or both")
    base = settings_from(load_rules().forecast)
    methods = [m for m in args.methods.split(",") if m] or [base.method.method]
    for m in methods:
        if m not in METHODS:
            parser.error(f"unknown method {m!r}")
    sources: list[tuple[str, dict[str, Series]]] = []
    grid = f", every {args.sample_h:g} h" if args.sample_h else ", as recorded"
    if args.data:
        real = {_name(p): on_grid(read_csv(p), args.sample_h) for p in args.data}
        sources.append((f"measured series{grid}", real))
    if args.sim:
        sim = sim_series(args.scenario, args.start, args.end, args.seed)
        sim = {k: on_grid(v, args.sample_h) for k, v in sim.items()}
        sources.append((f"simulator {args.scenario}{grid}", sim))
    for title, data in sources:
        for method in methods:
            cfg = replace(base, method=replace(base.method, method=_method(method)))
            run_source(title, data, cfg, args.every_h)
    sys.stdout.flush()


def _name(path: Path) -> str:
    """shared/data/real's files are named source_site_Name_from_to: the name alone."""
    parts = path.stem.split("_")
    return parts[2] if len(parts) >= 5 else path.stem


def _method(name: str) -> Method:
    for m in METHODS:
        if m == name:
            return m
    raise ValueError(name)


if __name__ == "__main__":
    main()
