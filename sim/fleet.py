"""The simulated fleet: every device's messages, in time order, with a tally of what they mean.

``Fleet.messages(start, end)`` yields what the devices publish (topic, payload, the simulated
time), deterministic for a seed: two runs give byte-identical sequences. The tally counts, per
device, the messages published and what SaltWatch should make of them (items to store, items to
refuse and why), so tests can check ingest against the simulator's own books. The ground truth
(true salinity, what was reported, which fault was active) can be written as CSV per device.
"""

from __future__ import annotations

import csv
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from saltwatch.core.registry import Device, Registry
from saltwatch.core.timeutil import VN_TZ, to_rfc3339
from saltwatch.core.topics import TopicKind, format_topic
from saltwatch.sim.devices import HOUR_S, Model, Sample, model_for
from saltwatch.sim.faults import FaultRates, FaultState
from saltwatch.sim.salinity import DAY_S, Scenario
from saltwatch.sim.tide import FloatArray

MAX_BACKLOG = 200  # items a store-and-forward device keeps (one message stays under 64 KiB)
#: How far ahead a wrong clock runs; not a whole number of intervals, so no two stamps collide.
CLOCK_AHEAD_S = 2 * 3600.0 + 7.5


@dataclass(frozen=True, slots=True)
class Message:
    t_s: float  # simulated time of publishing
    device: str
    topic: str
    payload: bytes
    retain: bool = False


@dataclass
class Tally:
    """Per device: messages published, and what ingest should store or refuse of them."""

    messages: Counter[str] = field(default_factory=Counter)
    valid_items: Counter[str] = field(default_factory=Counter)
    rejected: Counter[tuple[str, str]] = field(default_factory=Counter)  # (device, reason)
    faults: Counter[tuple[str, str]] = field(default_factory=Counter)  # (device, fault)
    duplicates: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True, slots=True)
class SimConfig:
    scenario: Scenario
    seed: int = 1
    interval_s: float | None = None  # None: each device's registry interval
    faults: FaultRates = field(default_factory=FaultRates)
    topic_prefix: str = "saltwatch"
    ts_offset_s: float = 0.0  # added to payload timestamps (replay a past season as recent data)


class _DeviceSim:
    def __init__(self, device: Device, cfg: SimConfig, guard: Device | None = None) -> None:
        self.device = device
        self.cfg = cfg
        root = np.random.default_rng([cfg.seed, zlib.crc32(device.id.encode())])
        model_rng, self.rng, phase_rng = root.spawn(3)
        stuck = cfg.faults.gate_stuck_open_per_day
        wrong = cfg.faults.gate_sensor_wrong_per_day
        sensor_rng = np.random.default_rng([cfg.seed, zlib.crc32(device.id.encode()), 1])
        self.model: Model = model_for(
            device, cfg.scenario, model_rng, guard, stuck, wrong, sensor_rng
        )
        self.interval = cfg.interval_s or float(device.interval_s)
        self.phase = float(phase_rng.uniform(0, self.interval))
        self.kind = TopicKind(device.kind)
        self.topic = format_topic(cfg.topic_prefix, self.kind, device.id)
        self.status_topic = format_topic(cfg.topic_prefix, TopicKind.STATUS, device.id)
        self.state = FaultState()
        self.seq = 0
        self.backlog: list[tuple[dict[str, Any], bool, float]] = []  # item, clock wrong, time
        self.truth: list[tuple[float, float | None, Any, str]] = []
        self.online = True

    def grid(self, start: float, end: float) -> FloatArray:
        first = np.ceil((start - self.phase) / self.interval)
        last = np.ceil((end - self.phase) / self.interval)
        result: FloatArray = self.phase + np.arange(first, last, dtype=np.float64) * self.interval
        if self.device.active_months:  # a dry-season station: silent outside its months
            local = (result + 7 * 3600).astype("datetime64[s]").astype("datetime64[M]")
            months = local.astype(np.int64) % 12 + 1
            result = result[np.isin(months, self.device.active_months)]
        return result

    def run(self, start: float, end: float, tally: Tally, keep_truth: bool) -> list[Message]:
        out: list[Message] = []
        for sample in self.model.samples(self.grid(start, end)):
            self._step(sample, out, tally, keep_truth)
        return out

    # ------------------------------------------------------------------ faults
    def _maybe_start(self, t: float, per_day: float) -> bool:
        return per_day > 0 and self.rng.random() < per_day * self.interval / DAY_S

    def _status(self, t: float, online: bool, out: list[Message], tally: Tally) -> None:
        self.online = online
        payload = b"online" if online else b"offline"
        out.append(Message(t, self.device.id, self.status_topic, payload, retain=True))
        tally.messages[self.device.id] += 1
        tally.statuses[self.device.id] += 1

    def _step(self, sample: Sample, out: list[Message], tally: Tally, keep_truth: bool) -> None:
        t, rates, state, dev = sample.t_s, self.cfg.faults, self.state, self.device.id
        busy = t < max(state.silent_until, state.forward_until)
        if not busy and self._maybe_start(t, rates.silent_per_day):
            state.silent_until = t + self.rng.uniform(1, 6) * HOUR_S
            tally.faults[(dev, "silent")] += 1
            self._status(t, False, out, tally)
        elif not busy and self._maybe_start(t, rates.store_forward_per_day):
            state.forward_until = t + self.rng.uniform(1, 6) * HOUR_S
            tally.faults[(dev, "store_forward")] += 1
            self._status(t, False, out, tally)
        if t >= state.flat_until and self._maybe_start(t, rates.flatline_per_day):
            state.flat_until = t + self.rng.uniform(2, 12) * HOUR_S
            state.flat_values = None
            tally.faults[(dev, "flatline")] += 1
        if t >= state.battery_until and self._maybe_start(t, rates.battery_per_day):
            state.battery_until = t + 12 * HOUR_S
            tally.faults[(dev, "battery")] += 1
        if t >= state.clock_until and self._maybe_start(t, rates.clock_per_day):
            state.clock_until = t + self.rng.uniform(2, 8) * HOUR_S
            tally.faults[(dev, "clock")] += 1

        if t < state.silent_until:  # powered off: nothing measured, nothing sent
            self._record(keep_truth, sample, None, "silent")
            return
        if not self.online and t >= state.forward_until:
            self._flush_backlog(t, out, tally)
            self._status(t, True, out, tally)
        values = self._faulty_values(sample, tally)
        self.seq += 1
        item: dict[str, Any] = {"ts": self._timestamp(t), "seq": self.seq, **values}
        clock_wrong = t < state.clock_until
        if clock_wrong:
            item["ts"] = self._timestamp(t + CLOCK_AHEAD_S)
        if t < state.forward_until:
            if len(self.backlog) < MAX_BACKLOG:
                self.backlog.append((item, clock_wrong, t))
            self._record(keep_truth, sample, values, "store_forward")
            return
        payload = orjson.dumps(item)
        if rates.malformed and self.rng.random() < rates.malformed:
            payload, reason = self._malformed(item)
            if reason == "out_of_range" and clock_wrong:
                reason = "ts_in_future"  # the timestamp is judged before the values
            tally.rejected[(dev, reason)] += 1
        else:
            self._count_item(clock_wrong, tally)
        out.append(Message(t, dev, self.topic, payload))
        tally.messages[dev] += 1
        if rates.duplicate and self.rng.random() < rates.duplicate:
            out.append(Message(t, dev, self.topic, payload))
            tally.messages[dev] += 1
            tally.duplicates[dev] += 1
        self._record(keep_truth, sample, values, ",".join(state.active(t)))

    def _count_item(self, clock_wrong: bool, tally: Tally) -> None:
        if clock_wrong:
            tally.rejected[(self.device.id, "ts_in_future")] += 1
        else:
            tally.valid_items[self.device.id] += 1

    def _flush_backlog(self, t: float, out: list[Message], tally: Tally) -> None:
        if not self.backlog:
            return
        for _, clock_wrong, measured in self.backlog:
            # an item stamped 2 h ahead is in the future only if it is sent within those 2 h
            self._count_item(clock_wrong and measured + CLOCK_AHEAD_S > t + 300, tally)
        items = [item for item, _, _ in self.backlog]
        out.append(Message(t, self.device.id, self.topic, orjson.dumps(items)))
        tally.messages[self.device.id] += 1
        self.backlog = []

    def _faulty_values(self, sample: Sample, tally: Tally) -> dict[str, Any]:
        values = dict(sample.values)
        t, state = sample.t_s, self.state
        if self.kind is TopicKind.SALINITY:
            main = [k for k in ("salinity_ppt", "ec_us_cm", "ec25_us_cm") if k in values]
            if t < state.flat_until:
                if state.flat_values is None:
                    state.flat_values = {k: values[k] for k in main}
                values.update(state.flat_values)
            rates = self.cfg.faults
            if rates.spike and self.rng.random() < rates.spike:
                tally.faults[(self.device.id, "spike")] += 1
                for k in main:  # absurd for the place, yet inside the contract's bounds
                    spiked = values[k] + 12.0 if k == "salinity_ppt" else values[k] + 20_000.0
                    values[k] = round(min(spiked, 65.0 if k == "salinity_ppt" else 90_000.0), 3)
        if t < state.battery_until:
            values["battery_v"] = round(3.15 - 0.1 * self.rng.random(), 2)
        return values

    def _malformed(self, item: dict[str, Any]) -> tuple[bytes, str]:
        if self.rng.random() < 0.5:
            return orjson.dumps(item)[:-7], "not_json"
        broken = dict(item)
        if self.kind is TopicKind.TAP:
            broken["tank_pct"] = 180.0
        elif self.kind is TopicKind.GATE:
            broken["opening_pct"] = 150.0
        elif self.kind is TopicKind.WELL:
            broken["flow_m3h"] = -5.0
        elif self.kind is TopicKind.HYDRO:
            broken["discharge_m3s"] = 900_000.0
        else:
            broken = {"ts": item["ts"], "seq": item["seq"], "salinity_ppt": 95.0}
        return orjson.dumps(broken), "out_of_range"

    def _timestamp(self, t: float) -> str | int | float:
        t += self.cfg.ts_offset_s
        ts_ns = round(t * 1000) * 1_000_000
        if self.kind is TopicKind.SALINITY:
            return to_rfc3339(ts_ns, VN_TZ)
        if self.kind is TopicKind.WELL:
            return round(t, 3)
        return ts_ns // 1_000_000  # taps send epoch milliseconds

    def _record(
        self, keep: bool, sample: Sample, values: dict[str, Any] | None, fault: str
    ) -> None:
        if keep:
            main = None
            if values is not None:
                main = next(
                    (
                        values[k]
                        for k in ("salinity_ppt", "ec_us_cm", "ec25_us_cm", "running", "open")
                        if k in values
                    ),
                    None,
                )
            self.truth.append((sample.t_s, sample.truth, main, fault))


def _guard(registry: Registry, device: Device) -> Device | None:
    """The station guarding a gate sensor's structure (None for other devices)."""
    structure = registry.structures.get(device.structure or "")
    return registry.device(structure.guard) if structure else None


def select_devices(registry: Registry, count: int | None) -> tuple[Registry, list[Device]]:
    """The first ``count`` devices (kinds interleaved), or clones beyond the registry's size.

    Clones get ids ``<id>-c0001`` … in the same zones; the returned registry includes them so that
    an ingester can be given it.
    """
    by_kind = [list(registry.devices_of(kind)) for kind in ("salinity", "well", "tap", "gate")]
    interleaved = [d for group in zip_longest(*by_kind) for d in group if d is not None]
    interleaved += list(registry.devices_of("hydro"))  # another agency's stations: last
    if count is None or count == len(interleaved):
        return registry, interleaved
    if count < len(interleaved):
        return registry, interleaved[:count]
    clones = []
    for n in range(count - len(interleaved)):
        base = interleaved[n % len(interleaved)]
        clones.append(base.model_copy(update={"id": f"{base.id[:55]}-c{n:04d}"}))
    extended = Registry(
        registry.name,
        registry.zones.values(),
        registry.rivers.values(),
        [*registry.devices.values(), *clones],
        registry.structures.values(),
    )
    return extended, interleaved + clones


class Fleet:
    def __init__(
        self,
        registry: Registry,
        cfg: SimConfig,
        devices: list[Device] | None = None,
        keep_truth: bool = False,
    ) -> None:
        self.registry = registry
        self.cfg = cfg
        self.devices = devices if devices is not None else list(registry.devices.values())
        self._sims = [_DeviceSim(d, cfg, _guard(registry, d)) for d in self.devices]
        self.tally = Tally()
        self.keep_truth = keep_truth

    def messages(self, start_s: float, end_s: float, chunk_s: float = DAY_S) -> Iterator[Message]:
        """Every message of ``[start_s, end_s)``, ordered by time then by device."""
        order = {sim.device.id: i for i, sim in enumerate(self._sims)}
        greeting: list[Message] = []
        for sim in self._sims:  # every device says it is online first (retained)
            sim._status(start_s, True, greeting, self.tally)
        yield from greeting
        t = start_s
        while t < end_s:
            stop = min(t + chunk_s, end_s)
            batch: list[Message] = []
            for sim in self._sims:
                batch.extend(sim.run(t, stop, self.tally, self.keep_truth))
            batch.sort(key=lambda m: (m.t_s, order[m.device]))
            yield from batch
            t = stop

    def write_truth(self, folder: Path) -> list[Path]:
        """One CSV per device: time, true value, reported value, active faults."""
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for sim in self._sims:
            path = folder / f"{sim.device.id}.csv"
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["time", "true_salinity_ppt", "reported", "faults"])
                for t, truth, reported, fault in sim.truth:
                    ts = to_rfc3339(round(t * 1000) * 1_000_000, VN_TZ)
                    writer.writerow([ts, "" if truth is None else f"{truth:.4f}", reported, fault])
            paths.append(path)
        return paths
