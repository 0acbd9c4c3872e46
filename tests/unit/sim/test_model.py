"""The simulator's physics and books: tide constituents, the salt profile, scenarios, faults."""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from saltwatch.core.codec import CodecLimits
from saltwatch.core.registry import load_registry
from saltwatch.core.validation import MessageValidator, ValidationConfig
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, SimConfig, select_devices
from saltwatch.sim.records import RATIO_2005, RECORDS_2005, month_stats
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.sim.tide import PERIOD_H, VUNG_TAU, tide_level

REGISTRY = load_registry()
XUAN_HOA_KM = 42.0


def test_tide_holds_its_constituents_by_least_squares() -> None:
    t = np.arange(epoch("2024-01-01"), epoch("2024-03-01"), 900.0)
    level = tide_level(t)
    names = [c.name for c in VUNG_TAU]
    omegas = [2 * np.pi / (PERIOD_H[n] * 3600) for n in names]
    design = np.column_stack([f(w * t) for w in omegas for f in (np.cos, np.sin)])
    coef, *_ = np.linalg.lstsq(design, level, rcond=None)
    amplitudes = np.hypot(coef[0::2], coef[1::2])
    for constituent, amplitude in zip(VUNG_TAU, amplitudes, strict=True):
        assert amplitude == pytest.approx(constituent.amplitude_m, abs=0.01), constituent.name
    residual = level - design @ coef
    assert np.abs(residual).max() < 1e-6


def test_spring_neap_cycle_of_fourteen_point_eight_days() -> None:
    t = np.arange(epoch("2024-01-01"), epoch("2024-07-01"), 1800.0)
    days = (t - t[0]) // 86400
    daily_range = np.array([np.ptp(tide_level(t[days == d])) for d in np.unique(days)])
    spectrum = np.abs(np.fft.rfft(daily_range - daily_range.mean()))
    freqs = np.fft.rfftfreq(daily_range.size, d=1.0)
    period = 1 / freqs[spectrum[1:].argmax() + 1]
    assert period == pytest.approx(14.77, abs=0.8)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_salinity_falls_monotonically_upstream_at_any_instant(name: str) -> None:
    scenario = SCENARIOS[name]
    rng = np.random.default_rng(3)
    kms = np.linspace(0, 150, 301)
    for t in rng.uniform(
        epoch(f"{scenario.season_year - 1}-11-01"), epoch(f"{scenario.season_year}-06-30"), 50
    ):
        profile = scenario.salinity(kms, np.full(kms.size, t))
        salty = profile[:-1] > 1e-6  # beyond that the profile underflows to a floor
        assert np.all(np.diff(profile)[salty] < 0) and np.all(np.diff(profile) <= 0)


def daily_max(values: np.ndarray, t: np.ndarray) -> np.ndarray:
    days = (t - t[0]) // 86400
    return np.array([values[days == d].max() for d in np.unique(days)])


def test_seasonal_peak_is_in_february_to_april() -> None:
    scenario = SCENARIOS["2024"]
    t = np.arange(epoch("2023-10-01"), epoch("2024-07-31"), 1800.0)
    salinity = scenario.salinity(XUAN_HOA_KM, t)
    months = np.array([int(np.datetime64(int(x), "s").astype(object).month) for x in t])
    monthly = {m: salinity[months == m].mean() for m in (10, 11, 12, 1, 2, 3, 4, 5, 6, 7)}
    assert max(monthly, key=lambda m: monthly[m]) in (2, 3, 4)
    assert monthly[10] < 0.5 and monthly[7] < 0.5  # the wet season is fresh
    assert monthly[12] < monthly[2]


def test_salt_is_high_near_high_water_and_low_near_low_water() -> None:
    scenario = SCENARIOS["2024"]
    t = np.arange(epoch("2024-03-01"), epoch("2024-03-15"), 600.0)
    salinity = np.log(scenario.salinity(XUAN_HOA_KM, t))
    level = tide_level(t - scenario.lag_h * 3600)
    assert np.corrcoef(salinity, level)[0, 1] > 0.95


# docs/domain.md §3: (scenario, station km, date, observed daily max, tolerance)
STATION_PEAKS = [
    ("2024", 42.0, "2024-03-12", 8.85, 1.5),  # Xuân Hòa
    ("2024", 46.0, "2024-03-12", 6.82, 1.5),  # Lạc Hồng
    ("2024", 51.0, "2024-03-12", 3.82, 1.5),  # Xoài Hột
    ("2024", 64.0, "2024-03-12", 0.9, 0.8),  # Phú Phong
    ("2020", 64.0, "2020-02-14", 4.66, 1.0),  # Phú Phong
    ("2020", 97.0, "2020-02-14", 1.0, 0.5),  # Vàm Ba Rài
    ("2020", 120.0, "2020-02-14", 0.17, 0.3),  # Vàm Trà Lọt
]


@pytest.mark.parametrize(("name", "km", "day", "observed", "tolerance"), STATION_PEAKS)
def test_named_station_peaks(
    name: str, km: float, day: str, observed: float, tolerance: float
) -> None:
    t = np.arange(epoch(day), epoch(day) + 86400, 600.0)
    assert SCENARIOS[name].salinity(km, t).max() == pytest.approx(observed, abs=tolerance)


# docs/domain.md §3.3: how far the 4 ‰ line reached at its deepest in the peak months (daily maxima)
REACH_4PPT = {
    "2024": (40.0, 66.0),
    "2020": (55.0, 74.0),
    "2016": (44.0, 55.0),
    "mild": (25.0, 49.0),
}


@pytest.mark.parametrize("name", list(REACH_4PPT))
def test_four_ppt_line_reach(name: str) -> None:
    scenario = SCENARIOS[name]
    y = scenario.season_year
    t = np.arange(epoch(f"{y}-02-15"), epoch(f"{y}-04-15"), 900.0)
    reach = daily_max(scenario.line_km(4.0, t), t)
    low, high = REACH_4PPT[name]
    assert low <= reach.max() <= high
    assert reach.min() >= 25.0  # a river pulse or a neap tide pushes it back, not out to sea


@pytest.mark.parametrize(("station", "month", "max_med", "min_med"), RECORDS_2005)
def test_2005_regimes_match_the_measured_records(
    station: str, month: int, max_med: float, min_med: float
) -> None:
    km = REGISTRY.devices[station].km
    assert km is not None
    high, low, ratio = month_stats(km, 2005, month)
    assert high == pytest.approx(max_med, rel=0.3)
    assert low == pytest.approx(min_med, rel=0.3)
    if month == 3 and station in RATIO_2005:
        assert ratio == pytest.approx(RATIO_2005[station], rel=0.3)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_hoa_binh_stays_under_twenty(name: str) -> None:
    """No record of 2003–2020 put Hòa Bình above 18 ‰ (docs/domain.md §3.4); 2024 was saltier at 42
    km."""
    scenario = SCENARIOS[name]
    y = scenario.season_year
    t = np.arange(epoch(f"{y - 1}-12-01"), epoch(f"{y}-06-01"), 1800.0)
    km = REGISTRY.devices["hoa-binh"].km
    assert km is not None and scenario.salinity(km, t).max() < 20.0


def test_the_river_moves_with_more_than_the_tide() -> None:
    """Monsoon set-up, river pulses and drift: the front's daily mean wanders by kilometres
    from one week to the next, where tide and season alone would keep it within a few hundred
    metres; and no two scenarios share their weather."""
    scenario = SCENARIOS["2024"]
    t = np.arange(epoch("2024-02-15"), epoch("2024-04-15"), 900.0)
    still = replace(scenario, drivers=None)
    wander = scenario.front_km(t) - still.front_km(t)
    daily = wander.reshape(-1, 96).mean(axis=1)
    assert np.ptp(daily) > 4.0 and np.abs(np.diff(daily)).max() < 4.0  # days, not jumps
    other = SCENARIOS["2016"].front_km(t - 8 * 365 * 86400) - replace(
        SCENARIOS["2016"], drivers=None
    ).front_km(t - 8 * 365 * 86400)
    assert not np.allclose(other.reshape(-1, 96).mean(axis=1), daily)


def test_scenarios_rank_as_the_seasons_did() -> None:
    def deepest(name: str) -> float:
        y = SCENARIOS[name].season_year
        t = np.arange(epoch(f"{y}-02-01"), epoch(f"{y}-04-30"), 900.0)
        return float(SCENARIOS[name].line_km(4.0, t).max())

    assert deepest("mild") < deepest("2016") < deepest("2020")
    assert deepest("2024") < deepest("2020")


def week(seed: int, faults: FaultRates | None = None) -> tuple[Fleet, list[tuple[str, bytes]]]:
    cfg = SimConfig(
        SCENARIOS["2024"],
        seed=seed,
        interval_s=900,
        faults=faults if faults is not None else FaultRates(),
    )
    fleet = Fleet(REGISTRY, cfg)
    msgs = [(m.topic, m.payload) for m in fleet.messages(epoch("2024-03-05"), epoch("2024-03-12"))]
    return fleet, msgs


def test_same_seed_same_bytes_other_seed_other_bytes() -> None:
    _, first = week(7)
    _, again = week(7)
    _, other = week(8)
    assert first == again
    assert first != other
    assert len(first) > 60_000


def test_every_fault_occurs_and_the_tally_matches_what_ingest_makes_of_it() -> None:
    fleet = Fleet(
        REGISTRY,
        SimConfig(SCENARIOS["2024"], seed=2, interval_s=900, faults=FaultRates().scaled(10)),
    )
    judge = MessageValidator(
        REGISTRY, ValidationConfig(limits=CodecLimits(max_backfill_s=10 * 365 * 86400))
    )
    stored: set[tuple[str, int]] = set()
    rejected: Counter[str] = Counter()
    seen: set[bytes] = set()
    for m in fleet.messages(epoch("2024-03-05"), epoch("2024-03-12")):
        if "/status/" in m.topic:
            continue
        result = judge.validate(m.topic, m.payload, int(m.t_s * 1e9))
        stored.update((r.device, r.ts_ns) for r in result.readings)
        if m.payload not in seen:  # a duplicate delivery is judged again but counts once
            rejected.update(r.reason for r in result.rejections)
        seen.add(m.payload)
    tally = fleet.tally
    assert {fault for _, fault in tally.faults} == {
        "silent",
        "store_forward",
        "flatline",
        "battery",
        "clock",
        "spike",
    }
    assert sum(tally.duplicates.values()) > 0
    assert len(stored) == sum(tally.valid_items.values())
    expected: Counter[str] = Counter()
    for (_, reason), n in tally.rejected.items():
        expected[reason] += n
    assert rejected == expected
    assert set(expected) == {"not_json", "out_of_range", "ts_in_future"}


def test_devices_option_limits_or_clones() -> None:
    registry, few = select_devices(REGISTRY, 5)
    assert registry is REGISTRY and len(few) == 5
    assert {d.kind for d in few} == {"salinity", "well", "tap", "gate"}
    bigger, many = select_devices(REGISTRY, 250)
    assert len(many) == 250 and len({d.id for d in many}) == 250
    assert all(bigger.device(d.id) is not None for d in many)


def test_ground_truth_files(tmp_path: Path) -> None:
    _, few = select_devices(REGISTRY, 3)
    fleet = Fleet(REGISTRY, SimConfig(SCENARIOS["2024"], interval_s=900), few, keep_truth=True)
    list(fleet.messages(epoch("2024-03-12"), epoch("2024-03-13")))
    paths = fleet.write_truth(tmp_path)
    assert [p.name for p in paths] == [f"{d.id}.csv" for d in few]
    with paths[0].open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 96
    assert rows[0]["time"].startswith("2024-03-12T") and rows[0]["time"].endswith("+07:00")
    assert all(float(r["true_salinity_ppt"]) >= 0 for r in rows)


def test_upstream_discharge_sets_the_season_and_leads_the_front() -> None:
    """The river station's discharge and the salt front are one river: lowest at the season's
    peak, and its drift and pulses show in the front some days later."""
    season = SCENARIOS["2024"]
    days = np.arange(epoch("2023-12-01"), epoch("2024-05-01"), 86400.0)
    q = season.discharge_m3s(days)
    assert q[0] > 1.5 * season.q_dry_m3s and 0.7 < np.median(q[70:130]) / season.q_dry_m3s < 1.4
    # the front's mid-point without the tide: the season and the weather
    drift = season.drivers.shift_km(season.name, 2024, days)  # type: ignore[union-attr]
    flow = season.drivers.flow_km(season.name, 2024, days)  # type: ignore[union-attr]
    assert np.std(drift - flow) > 0  # the monsoon's set-up is not the river's doing
    peak = slice(70, 130)  # February to March: the season at its height
    log_q = np.log(q[peak])

    def corr(lag: int) -> float:
        later = flow[70 + lag : 130 + lag]
        return float(np.corrcoef(log_q, later)[0, 1])

    assert corr(4) < -0.9  # the flow now is the front four days on
    assert corr(4) < corr(0) - 0.02


def test_the_river_station_publishes_discharge_that_ingest_stores() -> None:
    tan_chau = REGISTRY.device("tan-chau")
    assert tan_chau is not None and tan_chau.kind == "hydro"
    fleet = Fleet(REGISTRY, SimConfig(SCENARIOS["2024"], seed=3), [tan_chau])
    judge = MessageValidator(
        REGISTRY, ValidationConfig(limits=CodecLimits(max_backfill_s=10 * 365 * 86400))
    )
    readings = []
    for m in fleet.messages(epoch("2024-03-01"), epoch("2024-03-03")):
        if "/status/" not in m.topic:
            readings += judge.validate(m.topic, m.payload, int(m.t_s * 1e9)).readings
    assert len(readings) >= 40
    assert {r.kind.value for r in readings} == {"hydro"}
    values = [r.fields["discharge_m3s"] for r in readings if "discharge_m3s" in r.fields]
    assert values and all(1000 < float(v) < 5000 for v in values)
