"""The simulator's gate sensors: the crew works the gate by the practice at Gò Công, and a sensor
can go wrong and contradict what the crew (the operator) did."""

from __future__ import annotations

import numpy as np

from saltwatch.alerts.structures import GateSeen, StructureWatch, gate_readings
from saltwatch.core.registry import load_registry
from saltwatch.core.rules import load_rules
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading
from saltwatch.sim.devices import GateModel, model_for
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.salinity import SCENARIOS, epoch

REGISTRY = load_registry()
HOUR_S = 3600.0


def gate_model(seed: int) -> GateModel:
    gate, guard = REGISTRY.device("gate-xuan-hoa"), REGISTRY.device("xuan-hoa")
    assert gate is not None and guard is not None
    found = model_for(gate, SCENARIOS["2024"], np.random.default_rng(seed), guard)
    assert isinstance(found, GateModel)
    return found


def test_a_wrong_sensor_reports_the_opposite_of_the_gate_then_recovers() -> None:
    t0 = epoch("2024-03-10")
    times = t0 + np.arange(0.0, 12 * HOUR_S, 900.0)
    honest, wrong = gate_model(7), gate_model(7)
    wrong.wrong_until = t0 + 3 * HOUR_S  # injected from the start, for three hours
    for right, said in zip(honest.samples(times), wrong.samples(times), strict=True):
        opposite = right.values["state"] != said.values["state"]
        assert opposite == (said.t_s < t0 + 3 * HOUR_S), said.t_s
        assert right.truth == said.truth  # the water is the same; only the sensor lies


def test_the_fault_comes_at_its_rate_and_leaves_the_crew_and_a_stuck_gate_alone() -> None:
    """At a high rate the sensor goes wrong within a week; the crew's own record (what a gate
    without that fault reports) is unchanged by it."""
    assert (
        FaultRates().gate_sensor_wrong_per_day > 0
        and FaultRates.none().gate_sensor_wrong_per_day == 0
    )
    t0 = epoch("2024-03-01")
    times = t0 + np.arange(0.0, 7 * 24 * HOUR_S, 900.0)
    honest, wrong = gate_model(3), gate_model(3)
    wrong.wrong_per_day, wrong.sensor_rng = 2.0, np.random.default_rng(11)
    right, said = honest.samples(times), wrong.samples(times)
    flipped = sum(a.values["state"] != b.values["state"] for a, b in zip(right, said, strict=True))
    assert 0 < flipped < len(times) // 2


def test_the_operator_s_entry_and_a_contradicting_sensor_show_as_a_disagreement() -> None:
    """The crew closed the gate and the operator said so from the phone; the wrong sensor, later,
    says open: the structure shows the disagreement (the newer report, the sensor's, decides the
    state shown, with the disagreement beside it)."""
    t0 = epoch("2024-03-10")
    wrong = gate_model(7)
    wrong.wrong_until = t0 + 6 * HOUR_S
    (sample,) = wrong.samples(np.array([t0 + HOUR_S]))
    crew = "closed" if sample.values["state"] == "open" else "open"
    watch = StructureWatch(REGISTRY, load_rules)
    entry = GateSeen(crew, int(t0 * 1e9), "operator", by="lan.nguyen")
    sensor = Reading(TopicKind.GATE, "gate-xuan-hoa", int(sample.t_s * 1e9), sample.values)
    watch.on_readings([*gate_readings([entry], "cong-xuan-hoa"), sensor])
    status = watch.status("cong-xuan-hoa")
    assert status is not None and status.disagree
    assert status.operator is not None and status.operator.by == "lan.nguyen"
