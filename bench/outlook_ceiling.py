"""What knowing the scored days would gain, for bench/outlook_skill.py ``--ceiling``: two
oracles that bound what the outlook's inputs hold on a record (docs/benchmarks.md).

1. Damping toward the scored period's own mean, its share chosen on the scored days.
2. Each method's correction (analytics/outlook_inputs.py, and ``damped+cycles``: the recent
   mean and both fortnightly cycles at their astronomical phase, fitted on one season) fitted
   lead by lead on the scored days themselves, the best per lead.

A forecast that refits as it goes may beat the second on a long record (its coefficients move);
on one season it is the most the inputs hold.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from saltwatch.analytics.outlook import robust_fit
from saltwatch.analytics.outlook_inputs import (
    DailySeries,
    FloatArray,
    OutlookSettings,
    cycles,
    method_inputs,
)

LEADS = (1, 3, 5, 7)


def hit_far(event: np.ndarray, said: np.ndarray) -> tuple[float, float]:
    hits = int(np.count_nonzero(event & said))
    hit = hits / max(1, int(np.count_nonzero(event)))
    far = int(np.count_nonzero(~event & said)) / max(1, int(np.count_nonzero(said)))
    return hit, far


def ceiling(series: DailySeries, first: int, lead: int) -> float:
    """Skill of y + a (mean − y) with the mean and the share ``a`` both taken from the scored
    days (an oracle: no forecast knows them): how far leaning toward a mean can go at all."""
    y = series.values[first:]
    base, target = y[:-lead], y[lead:]
    ok = ~np.isnan(base) & ~np.isnan(target)
    mean = float(np.nanmean(y))
    per = float(np.mean(np.abs(target[ok] - base[ok])))
    best = min(
        float(np.mean(np.abs(target[ok] - (base[ok] + a * (mean - base[ok])))))
        for a in np.linspace(0.0, 1.0, 41)
    )
    return 1.0 - best / per if per > 0 else 0.0


@dataclass
class Oracle:
    skill: dict[int, float]  # per lead, the best method's
    method: dict[int, str]
    hit_far: tuple[float, float]  # "above the level" at day 7, by the method best there


def fitted_on_scored(series: DailySeries, first: int, s: OutlookSettings, level: float) -> Oracle:
    """Each method's correction fitted, lead by lead, on the scored days themselves (an
    oracle: the coefficients know the future they are scored on, and are not bounded) and
    scored there; ``damped+cycles`` is ``damped`` with both fortnightly cycles of the tide at
    their astronomical phase, fitted on one season. What the outlook's inputs hold at most."""
    y = np.asarray(series.values, np.float64)
    n = y.size
    given, _ = method_inputs(series, s)
    feats: dict[str, FloatArray] = {str(m): x for m, x in given.items()}
    toward = given["damped"]  # the way to the recent mean
    recent = y[:, None] + toward[:, :, 0]
    feats["damped+cycles"] = np.concatenate(
        [toward, cycles(series.first_day, s.horizon_days, recent)], axis=2
    )
    out = Oracle({}, {}, (math.nan, math.nan))
    for lead in range(1, s.horizon_days + 1):
        t = np.arange(first, n - lead)
        change = y[t + lead] - y[t]
        per = float(np.nanmean(np.abs(change)))
        best, found = ("persistence", per), y[t]
        for method, x in feats.items():
            xl = x[t, lead - 1, :]
            ok = ~np.isnan(change) & ~np.isnan(xl).any(axis=1)
            if ok.sum() < s.min_pairs:
                continue
            # persistence on the days the method's inputs miss, as the outlook ships it there
            pred = y[t] + np.where(ok[:, None], xl, 0.0) @ robust_fit(xl[ok], change[ok], s.ridge)
            mae = float(np.nanmean(np.abs(y[t + lead] - pred)))
            if mae < best[1]:
                best, found = (method, mae), pred
        out.skill[lead] = 1.0 - best[1] / per if per > 0 else 0.0
        out.method[lead] = best[0]
        if lead == s.horizon_days:
            seen = ~np.isnan(y[t + lead])
            out.hit_far = hit_far(y[t + lead][seen] > level, found[seen] > level)
    return out


def print_ceilings(cases: list[tuple[str, DailySeries, int]], s: OutlookSettings) -> None:
    """What knowing the scored days would gain: two oracles, per series and their median."""
    print("# ceiling 1: damping toward the scored period's mean, its share chosen on those days")
    for name, series, first in cases:
        print(name[:24].ljust(24) + "".join(f"  {ceiling(series, first, d):+7.3f}" for d in LEADS))
    print(
        "# ceiling 2: each method's correction fitted on the scored days themselves, the best "
        "per lead; hit/far at day 7 (its method)"
    )
    rows = []
    for name, series, first in cases:
        level = float(np.nanmedian(series.values[first:]))
        got = fitted_on_scored(series, first, s, level)
        rows.append(got)
        line = name[:24].ljust(24) + "".join(f"  {got.skill[d]:+7.3f}" for d in LEADS)
        hit, far = got.hit_far
        print(line + f"   {hit:.2f}  {far:.2f}  ({got.method[s.horizon_days]})")
    median = "".join(f"  {float(np.median([r.skill[d] for r in rows])):+7.3f}" for d in LEADS)
    hits = [r.hit_far for r in rows]
    print(
        "median".ljust(24)
        + median
        + f"   {float(np.median([h for h, _ in hits])):.2f}"
        + f"  {float(np.median([f for _, f in hits])):.2f}"
    )
