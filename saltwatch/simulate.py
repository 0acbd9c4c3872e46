"""``saltwatch sim`` assembled: the registry's devices played by the simulator and published
over MQTT with the configured connection."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from saltwatch.core.errors import SaltWatchError
from saltwatch.core.registry import Registry
from saltwatch.core.settings import Settings
from saltwatch.core.timeutil import parse_duration
from saltwatch.runtime import stop_on_signals
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, SimConfig, select_devices
from saltwatch.sim.publisher import SimPublisher, load_credentials
from saltwatch.sim.salinity import SCENARIOS, epoch


@dataclass(frozen=True)
class SimRequest:
    """What the operator asked for on the command line (``saltwatch sim --help``)."""

    scenario: str
    speed: float | None
    start: str | None
    end: str | None
    duration: float | None
    seed: int
    devices: int | None
    interval: str | None
    faults: float
    truth: Path | None
    credentials: Path | None
    shift_to_now: bool


def run_simulation(
    request: SimRequest, settings: Settings, registry: Registry, say: Callable[[str], None]
) -> None:
    """Publish the season until its end or a signal; a request that cannot be met raises
    ValueError with the option to mend in its text."""
    r = request
    if r.scenario not in SCENARIOS:
        raise ValueError(f"--scenario: choose one of {', '.join(SCENARIOS)}")
    try:
        start_s = epoch(r.start) if r.start else time.time()
        end_s = epoch(r.end) if r.end else start_s + (r.duration or 10 * 365 * 86400)
        step = float(parse_duration(r.interval)) if r.interval else None
    except (ValueError, SaltWatchError) as exc:
        raise ValueError(str(exc)) from None
    if end_s <= start_s:
        raise ValueError("--to must come after --from")
    if r.faults < 0:
        raise ValueError("--faults must be 0 or more")
    pace = r.speed if r.speed is not None else (None if r.start and r.end else 1.0)
    registry, chosen = select_devices(registry, r.devices)
    cfg = SimConfig(
        SCENARIOS[r.scenario],
        r.seed,
        step,
        FaultRates().scaled(r.faults),
        settings.mqtt.topic_prefix,
        ts_offset_s=_shift(r.shift_to_now, start_s, end_s, pace, r.end is not None),
    )
    fleet = Fleet(registry, cfg, chosen, keep_truth=r.truth is not None)
    publisher = SimPublisher(
        settings.mqtt.url,
        chosen,
        settings.mqtt.topic_prefix,
        load_credentials(r.credentials) if r.credentials else None,
        ca_file=str(settings.mqtt.ca_file) if settings.mqtt.ca_file else None,
    )
    pacing = "as fast as acknowledged" if pace is None else f"speed {pace:g}"
    say(f"simulating {len(chosen)} devices, scenario {r.scenario}, {pacing}")
    publisher.connect()
    stop = stop_on_signals()
    try:
        messages = itertools.takewhile(lambda _: not stop.is_set(), fleet.messages(start_s, end_s))
        stats = publisher.publish(messages, start_s, end_s, pace)
    finally:
        publisher.close()
    say(
        f"published {stats.published:,} messages in {stats.seconds:.1f} s "
        f"({stats.published / max(stats.seconds, 1e-9):,.0f}/s); "
        f"valid items {sum(fleet.tally.valid_items.values()):,}, "
        f"refused {sum(fleet.tally.rejected.values()):,}"
    )
    if r.truth is not None:
        paths = fleet.write_truth(r.truth)
        say(f"ground truth: {len(paths)} files in {r.truth}")


def _shift(enabled: bool, start_s: float, end_s: float, pace: float | None, bounded: bool) -> float:
    """How far to move payload timestamps so a past season reads as recent data: a replay ends
    now; a paced run starts now."""
    if not enabled:
        return 0.0
    return time.time() - (end_s if bounded and pace is None else start_s)
