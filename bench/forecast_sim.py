"""The simulator's salinity stations as ingest would have stored them (judged, QC'd, good
readings only), for bench/forecast_skill.py --sim."""

from __future__ import annotations

import numpy as np

from saltwatch.core.codec import CodecLimits
from saltwatch.core.qc import BAD_FLAGS, QualityControl
from saltwatch.core.registry import Device, load_registry
from saltwatch.core.settings import QcSettings
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.fleet import Fleet, SimConfig
from saltwatch.sim.salinity import SCENARIOS


def readings_of(
    stations: list[Device], start_s: float, end_s: float, seed: int, scenario: str = "2024"
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    registry = load_registry()
    fleet = Fleet(registry, SimConfig(SCENARIOS[scenario], seed=seed, interval_s=900), stations)
    judge = MessageValidator(
        registry, ValidationConfig(limits=CodecLimits(max_backfill_s=800 * 86400))
    )
    qc = QualityControl(QcSettings().to_config())
    now_ns = int(end_s * NS_PER_S)
    kept: dict[str, list[tuple[int, float]]] = {d.id: [] for d in stations}
    for message in fleet.messages(start_s, end_s):
        for reading in judge.validate(message.topic, message.payload, now_ns).readings:
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
