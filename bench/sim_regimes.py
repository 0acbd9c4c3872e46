"""The simulator against the measured station statistics of docs/domain.md §3.4.

    python -m bench.sim_regimes

For each station and month with a record, the medians of the daily maxima and minima of
2-hourly readings (01:00, 03:00 … local, the network's schedule, with its 0.1 ‰ reporting floor)
and, for March, the median max/min ratio: simulated, measured, and the difference.
"""

from __future__ import annotations

import argparse

from saltwatch.core.registry import load_registry
from saltwatch.sim.records import RATIO_2005, RECORDS_2005, month_stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.parse_args(argv)
    registry = load_registry()
    print(
        f"{'station':<10} {'km':>5} {'month':>5} {'max sim':>8} {'max rec':>8} {'Δ':>5} "
        f"{'min sim':>8} {'min rec':>8} {'Δ':>5} {'ratio':>11}"
    )
    worst = 0.0
    for station, month, max_med, min_med in RECORDS_2005:
        km = registry.devices[station].km or 0.0
        high, low, ratio = month_stats(km, 2005, month)
        d_high, d_low = high / max_med - 1, low / min_med - 1
        worst = max(worst, abs(d_high), abs(d_low))
        ratio_text = ""
        if month == 3 and station in RATIO_2005:
            ratio_text = f"{ratio:.2f} / {RATIO_2005[station]:.1f}"
            worst = max(worst, abs(ratio / RATIO_2005[station] - 1))
        print(
            f"{station:<10} {km:>5.1f} {month:>5} {high:>8.2f} {max_med:>8.2f} {d_high:>+5.0%} "
            f"{low:>8.2f} {min_med:>8.2f} {d_low:>+5.0%} {ratio_text:>11}"
        )
    print(f"largest difference: {worst:.0%} (target: within 30 %)")


if __name__ == "__main__":
    main()
