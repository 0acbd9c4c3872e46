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

from saltwatch.analytics.forecast import (
    Forecast,
    ForecastSettings,
    Window,
    fit_forecast,
    safe_windows,
    settings_from,
)
from saltwatch.analytics.forecast_score import PastForecast, Tally, score
from saltwatch.analytics.forecasters import METHODS, Method
from saltwatch.analytics.window_edge import UPPER, Scored, choose_edge, prepare
from saltwatch.core.forecast_rules import ForecastRules
from saltwatch.core.rules import load_rules
from saltwatch.core.timeutil import NS_PER_S

H_NS = 3600 * NS_PER_S
Series = tuple[np.ndarray, np.ndarray]  # ts_ns (int64), ppt (float64), sorted by time
PERCENTILES = (10, 30, 50)  # the low levels where intake decisions sit
FIXED_PPT = (2.0, 4.0)  # rice's limit and the legal intrusion line, where a series crosses them


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


def thresholds_of(
    ppt: np.ndarray, percentiles: tuple[int, ...], fixed: tuple[float, ...]
) -> list[float]:
    """The series' own percentiles, and each fixed level the series crosses (at least 1 % of its
    readings on either side)."""
    out = [float(np.percentile(ppt, p)) for p in percentiles]
    out += [t for t in fixed if 0.01 <= float(np.mean(ppt < t)) <= 0.99]
    return out


def score_series(
    series: Series,
    cfg: ForecastSettings,
    every_h: float,
    thresholds: list[float],
    rules: ForecastRules,
) -> tuple[Tally, Tally, list[float]]:
    """Every forecast of the series scored twice at each threshold: windows on the band's upper
    edge, and on the edge the station's own past forecasts chose (analytics/window_edge.py).
    Returns both tallies and the edges chosen."""
    ts, ppt = series
    upper, chosen = Tally(), Tally()
    edges: list[float] = []
    waiting: dict[float, list[PastForecast]] = {t: [] for t in thresholds}
    scored: dict[float, list[tuple[int, Scored]]] = {t: [] for t in thresholds}
    now = int(ts[0]) + int(cfg.method.min_coverage_h * H_NS)
    last = int(ts[-1]) - int(cfg.horizon_h * H_NS)
    step = int(every_h * H_NS)
    span = int(rules.window_calibration_days * 24 * H_NS)
    while now <= last:
        known = ts <= now
        forecast = fit_forecast(ts[known], ppt[known], now, cfg)
        if forecast is not None:
            for k, threshold in enumerate(thresholds):
                still = []
                for p in waiting[threshold]:  # scored once their window horizon is over
                    if (done := prepare(p, ts, ppt, threshold, cfg.min_window_s, now)) is not None:
                        scored[threshold].append((p.fitted_at_ns, done))
                    elif (p.windows_until_ns or 0) > now:
                        still.append(p)
                recent = [(at, s) for at, s in scored[threshold] if at >= now - span]
                scored[threshold] = recent
                edge = choose_edge([s for _, s in recent], threshold, rules.window_precision)
                edges.append(edge.q)
                for tally, q in ((upper, UPPER), (chosen, edge.q)):
                    windows = safe_windows(
                        forecast, threshold, cfg.min_window_s, cfg.step_s, cfg.window_horizon_h, q
                    )
                    one = score(
                        _past(forecast, threshold, windows, cfg),
                        ts,
                        ppt,
                        int(ts[-1]),
                        cfg.method.max_gap_h,
                    )
                    if k or tally is chosen:  # error and band once per forecast
                        one.forecasts = one.errors = one.banded = one.in_band = 0
                        one.abs_error = one.abs_error_persistence = 0.0
                    tally.add(one)
                waiting[threshold] = [*still, _past(forecast, threshold, [], cfg)]
        now += step
    return upper, chosen, edges


def _past(
    forecast: Forecast, threshold: float, windows: list[Window], cfg: ForecastSettings
) -> PastForecast:
    return PastForecast(
        forecast.fitted_at_ns,
        forecast.ts_ns,
        forecast.mean,
        forecast.lower,
        forecast.upper,
        threshold,
        tuple((w.start_ns, w.end_ns) for w in windows),
        forecast.fitted_at_ns + int(cfg.window_horizon_h * H_NS),
    )


def _pct(value: float | None) -> str:
    return f"{value:>8.1%}" if value is not None else f"{'-':>8}"


def _num(value: float | None, fmt: str = ">8.3f") -> str:
    return format(value, fmt) if value is not None else f"{'-':>8}"


HEADER = (
    f"{'series':<24} {'fcasts':>6} {'MAE 24h':>8} {'persist.':>8} {'skill':>8} "
    f"{'in band':>8} {'precis.':>8} {'recall':>8} {'upper edge: precis.':>20} {'recall':>8}"
    f"  {'edges':<12}"
)


def line(name: str, t: Tally, upper: Tally | None = None, edges: str = "") -> str:
    text = (
        f"{name:<24} {t.forecasts:>6} {_num(t.mae)} {_num(t.mae_persistence)} "
        f"{_num(t.skill, '>+8.3f')} {_pct(t.coverage)} {_pct(t.precision)} {_pct(t.recall)}"
    )
    if upper is not None:
        text += f" {_pct(upper.precision):>20} {_pct(upper.recall)}  {edges}"
    return text


def _edges(edges: list[float]) -> str:
    """The median edge chosen and its range."""
    if not edges:
        return "-"
    return f"{np.median(edges):+.2f} [{min(edges):+.2f}, {max(edges):+.2f}]"


def run_source(
    title: str, data: dict[str, Series], cfg: ForecastSettings, every_h: float, rules: ForecastRules
) -> Tally:
    print(
        f"\n{title} — method {cfg.method.method}, fit {cfg.method.fit_days:g} days; windows below "
        f"the 10th, 30th, 50th percentile and 2, 4 ‰ where crossed, asked precision "
        f"{rules.window_precision:.0%}"
    )
    print(HEADER)
    pooled, pooled_upper = Tally(), Tally()
    all_edges: list[float] = []
    for name, series in data.items():
        if series[0].size < 2:
            print(f"{name:<24} no readings")
            continue
        began = time.monotonic()
        levels = thresholds_of(series[1], PERCENTILES, FIXED_PPT)
        upper, tally, edges = score_series(series, cfg, every_h, levels, rules)
        tally.add(upper)  # the error and band, counted once in ``upper``
        tally.predicted_safe -= upper.predicted_safe
        tally.hit -= upper.hit
        tally.truly_safe -= upper.truly_safe
        print(
            line(name, tally, upper, _edges(edges)),
            f"({time.monotonic() - began:.0f} s)",
            flush=True,
        )
        pooled.add(tally)
        pooled_upper.add(upper)
        all_edges += edges
        if tally.skill is not None:
            pooled.skills.append(tally.skill)
    print(line("all (pooled)", pooled, pooled_upper, _edges(all_edges)))
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
    parser.add_argument(
        "--precision",
        type=float,
        default=None,
        help="the window precision asked (default: the rules' forecast.window_precision)",
    )
    parser.add_argument("--methods", default="", help=f"comma-separated, of {', '.join(METHODS)}")
    args = parser.parse_args(argv)
    if not args.data and not args.sim:
        parser.error("give --data FILES, --sim, or both")
    rules = load_rules().forecast
    if args.precision is not None:
        if not 0.5 < args.precision <= 1:
            parser.error("--precision must lie in (0.5, 1]")
        rules = rules.model_copy(update={"window_precision": args.precision})
    base = settings_from(rules)
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
            run_source(title, data, cfg, args.every_h, rules)
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
