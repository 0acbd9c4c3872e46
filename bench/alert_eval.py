"""One alert evaluation tick over many devices with a day of 15-minute data each, all default rules.

    python -m bench.alert_eval [--devices 10000] [--repeat 5]

Prints the tick time (median and worst of the repeats). Target: under 200 ms for 10,000 devices.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from saltwatch.alerts.engine import AlertEngine
from saltwatch.core.clock import FakeClock
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.schema import FieldValue
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.sim.fleet import select_devices
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.alert_sqlite import SqliteAlertStore

STEP_NS = 900 * 10**9


class Null:
    channel = "mqtt"

    def send(self, event: object, zones: list[str]) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--devices", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    registry, devices = select_devices(load_registry(), args.devices)
    end = int(epoch("2024-03-12T12:00:00+07:00") * 1e9)
    ts = np.arange(end - 96 * STEP_NS, end, STEP_NS) + STEP_NS
    scenario = SCENARIOS["2024"]
    engine = AlertEngine(
        load_rules(),
        registry,
        SqliteAlertStore(Path(tempfile.mkdtemp()) / "state.db"),
        FakeClock(end),
        {"mqtt": Null()},
    )
    rng = np.random.default_rng(1)
    started = time.perf_counter()
    for device in devices:
        kind = TopicKind(device.kind)
        values: list[dict[str, FieldValue]]
        if kind is TopicKind.SALINITY:
            truth = scenario.salinity(device.km if device.km is not None else 60.0, ts / 1e9)
            values = [{"salinity_ppt": float(v)} for v in truth * rng.normal(1, 0.01, ts.size)]
        elif kind is TopicKind.WELL:
            values = [
                {"running": True, "flow_m3h": 30.0, "level_m": 12.0, "salinity_ppt": 0.4}
                for _ in ts
            ]
        else:
            values = [{"open": True, "flow_lpm": 20.0, "tank_pct": 60.0} for _ in ts]
        engine.windows.add(
            Reading(kind, device.id, int(t), v) for t, v in zip(ts, values, strict=True)
        )
    print(
        f"loaded {len(devices):,} devices x {ts.size} readings in "
        f"{time.perf_counter() - started:.1f} s"
    )
    first = time.perf_counter()
    engine.tick()  # every window is new and every alert fires: the worst tick
    first = time.perf_counter() - first
    dirty, steady = [], []
    for _ in range(args.repeat):
        for device in devices:  # as if every device had sent data since the last tick
            window = engine.windows.get(device.id)
            if window is not None:
                window.derived = {}
        began = time.perf_counter()
        engine.tick()
        dirty.append(time.perf_counter() - began)
        began = time.perf_counter()
        engine.tick()  # nothing new since the last tick
        steady.append(time.perf_counter() - began)
    print(
        f"tick over {len(devices):,} devices, all default rules "
        f"({len(engine.open_alerts()):,} open alerts):"
    )
    print(f"  first tick (everything fires)        {first * 1000:6.0f} ms")
    print(
        f"  every window changed since last tick {statistics.median(dirty) * 1000:6.0f} ms "
        f"median, {max(dirty) * 1000:.0f} ms worst"
    )
    print(
        f"  no new data since last tick          {statistics.median(steady) * 1000:6.0f} ms "
        f"median, {max(steady) * 1000:.0f} ms worst"
    )


if __name__ == "__main__":
    main()
