"""Measured station statistics the simulator is held to (docs/domain.md §3.4), and the same
statistics
computed from a scenario, for tests/unit/sim/test_model.py and bench/sim_regimes.py."""

from __future__ import annotations

import numpy as np

from saltwatch.sim.salinity import SCENARIOS, epoch

# docs/domain.md §3.4, the 2-hourly records of the 2005 dry season: (station, km of the registry,
# month,
# median of daily maxima, median of daily minima). Đồng Tâm's March (a few days from late March)
# and Mỹ Tho's February (no record) are left out.
RECORDS_2005 = [
    ("vam-kenh", 2, 21.6, 8.8), ("vam-kenh", 3, 25.9, 13.7), ("vam-kenh", 4, 25.3, 16.1),
    ("vam-kenh", 5, 17.0, 7.9),
    ("hoa-binh", 2, 7.0, 1.8), ("hoa-binh", 3, 11.0, 3.8), ("hoa-binh", 4, 13.1, 6.1),
    ("hoa-binh", 5, 6.7, 2.2),
    ("lac-hong", 3, 1.3, 0.25), ("lac-hong", 4, 2.3, 0.4), ("lac-hong", 5, 0.6, 0.1),
    ("dong-tam", 4, 0.6, 0.1), ("dong-tam", 5, 0.2, 0.1),
]  # fmt: skip
#: median of each March day's max/min ratio: the tide's grip, growing upstream
RATIO_2005 = {"vam-kenh": 1.8, "hoa-binh": 2.6, "lac-hong": 4.5}


def month_stats(
    km: float, year: int, month: int, scenario: str = "2005"
) -> tuple[float, float, float]:
    """Medians of daily max, daily min and max/min over a month of 2-hourly readings (01:00,
    03:00 … local, as the network reads), with the records' 0.1 ‰ reporting floor."""
    t = np.arange(
        epoch(f"{year}-{month:02d}-01") + 3600, epoch(f"{year}-{month + 1:02d}-01"), 7200.0
    )
    days = np.maximum(SCENARIOS[scenario].salinity(km, t), 0.1).reshape(-1, 12)
    high, low = days.max(axis=1), days.min(axis=1)
    return float(np.median(high)), float(np.median(low)), float(np.median(high / low))
