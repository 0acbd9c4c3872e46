"""Forecast skill on the simulator's 2024 season (or another, --scenario): each intake station
forecast every 6 hours from its own readings (as ingest would have stored and flagged them),
scored against the simulator's ground truth.

    python -m bench.forecast_skill [--from 2024-01-15] [--to 2024-05-15] [--every-h 6]

Prints, per station and overall: the mean absolute error of the forecast over its first 24 h
(‰), and for the safe intake windows (band's upper edge below the station's intake threshold for
at least two hours) their precision (share of predicted-safe time that truly was below the
threshold) and recall (share of truly safe time that was predicted). Targets: precision ≥ 95 %,
recall ≥ 70 %.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass

import numpy as np

from alerts.rules import load_rules
from analytics.forecast import ForecastSettings, fit_forecast, safe_windows
from core.codec import CodecLimits
from core.judge import Judge, JudgeConfig
from core.qc import BAD_FLAGS, QualityControl
from core.registry import Device, load_registry
from core.settings import QcSettings
from core.timeutil import NS_PER_S
from sim.devices import StationModel
from sim.fleet import Fleet, SimConfig
from sim.salinity import SCENARIOS, epoch


@dataclass
class Score:
    abs_errors: list[float]
    predicted: int = 0  # forecast steps in a safe window
    hit: int = 0  # …that truly were below the threshold
    truly_safe: int = 0  # forecast steps truly below the threshold
    forecasts: int = 0

    def add(self, other: Score) -> None:
        self.abs_errors += other.abs_errors
        self.predicted += other.predicted
        self.hit += other.hit
        self.truly_safe += other.truly_safe
        self.forecasts += other.forecasts

    def line(self, name: str, threshold: float) -> str:
        mae = float(np.mean(self.abs_errors)) if self.abs_errors else float("nan")
        precision = self.hit / self.predicted if self.predicted else float("nan")
        recall = self.hit / self.truly_safe if self.truly_safe else float("nan")
        return (
            f"{name:<12} {threshold:>6.2f} {self.forecasts:>9} {mae:>10.3f} "
            f"{precision:>10.1%} {recall:>8.1%} {self.truly_safe / 4:>10.0f}"
        )


def readings_of(
    stations: list[Device], start_s: float, end_s: float, seed: int, scenario: str = "2024"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    registry = load_registry()
    fleet = Fleet(registry, SimConfig(SCENARIOS[scenario], seed=seed, interval_s=900), stations)
    judge = Judge(registry, JudgeConfig(limits=CodecLimits(max_backfill_s=800 * 86400)))
    qc = QualityControl(QcSettings().to_config())
    now_ns = int(end_s * NS_PER_S)
    kept: dict[str, list[tuple[int, float]]] = {d.id: [] for d in stations}
    for message in fleet.messages(start_s, end_s):
        for reading in judge.judge(message.topic, message.payload, now_ns).readings:
            checked = qc.apply(reading, "salinity_ppt")
            value = checked.fields.get("salinity_ppt")
            if not checked.qc & BAD_FLAGS and isinstance(value, float):
                kept[reading.device].append((reading.ts_ns, value))
    out = {}
    for device, rows in kept.items():
        rows.sort()
        out[device] = (
            np.array([r[0] for r in rows], np.int64),
            np.array([r[1] for r in rows], np.float64),
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--from", dest="start", default="2023-12-01")
    parser.add_argument("--to", dest="end", default="2024-06-10")
    parser.add_argument("--every-h", type=float, default=6.0)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--scenario", default="2024", choices=sorted(SCENARIOS))
    args = parser.parse_args()
    registry, rules = load_registry(), load_rules()
    stations = [d for d in registry.devices_of("salinity") if d.profile == "intake"]
    start_s, end_s = epoch(args.start), epoch(args.end)
    began = time.monotonic()
    data = readings_of(stations, start_s, end_s, args.seed, args.scenario)
    count = sum(len(v[0]) for v in data.values())
    print(
        f"{len(stations)} intake stations, {args.start} to {args.end}: "
        f"{count:,} good readings in {time.monotonic() - began:.0f} s"
    )
    cfg = ForecastSettings()
    scenario = SCENARIOS[args.scenario]
    total, river = Score([]), Score([])  # river: the stations on the river (not the scheme's)
    rows = []
    for device in stations:
        threshold = rules.salinity[device.profile].warning  # type: ignore[index]
        truth_model = StationModel(device, scenario, np.random.default_rng(0))
        ts, ppt = data[device.id]
        score = Score([])
        now_s = start_s + cfg.fit_days * 86400
        while now_s + cfg.horizon_h * 3600 <= end_s:
            now_ns = int(now_s * NS_PER_S)
            forecast = fit_forecast(ts, ppt, now_ns, cfg)
            now_s += args.every_h * 3600
            if forecast is None:
                continue
            truth = truth_model.true_salinity(forecast.ts_ns / NS_PER_S)
            lead_h = (forecast.ts_ns - now_ns) / NS_PER_S / 3600
            score.abs_errors.extend(np.abs(forecast.mean - truth)[lead_h <= 24].tolist())
            predicted = np.zeros(forecast.ts_ns.size, bool)
            for w in safe_windows(forecast, threshold, cfg.min_window_s, cfg.step_s):
                predicted |= (forecast.ts_ns > w.start_ns) & (forecast.ts_ns <= w.end_ns)
            safe = truth < threshold
            score.predicted += int(predicted.sum())
            score.hit += int((predicted & safe).sum())
            score.truly_safe += int(safe.sum())
            score.forecasts += 1
        rows.append(score.line(device.id, threshold))
        for into in (total, river) if device.km is not None else (total,):
            into.add(score)
    print(
        f"{'station':<12} {'thr ‰':>6} {'forecasts':>9} {'MAE 24h ‰':>10} "
        f"{'precision':>10} {'recall':>8} {'safe h':>10}"
    )
    for row in rows:
        print(row)
    print(river.line("on the river", float("nan")))
    print(total.line("all", float("nan")))


if __name__ == "__main__":
    main()
