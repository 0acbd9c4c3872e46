"""Every forecast kept (measurement ``forecast``, one per station and hour) and the live score
that follows from them: what a station's forecasts earned over the last days, beside tidal-day
persistence (analytics/forecast_score.py), and whether that earns it intake window notices.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from saltwatch.analytics.forecast_score import PastForecast, Tally, score_all
from saltwatch.core.forecast_rules import ForecastRules
from saltwatch.core.schema import FORECAST_HOURS
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

H_NS = 3600 * NS_PER_S
_HOURS = np.arange(1, FORECAST_HOURS + 1, dtype=np.int64)


def to_reading(
    station: str,
    fitted_at_ns: int,
    ts_ns: np.ndarray,
    mean: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    method: str,
    points: int,
    threshold: float | None,
    windows: list[tuple[int, int]],
    windows_until_ns: int,
) -> Reading:
    """The forecast as one point at its hour (a later fit in the same hour replaces it), with
    hourly values interpolated from the forecast steps."""
    hour = fitted_at_ns - fitted_at_ns % H_NS
    at = fitted_at_ns + _HOURS * H_NS
    inside = at <= int(ts_ns[-1])
    fields: dict[str, float | int | str] = {
        "method": method,
        "fitted_at": int(fitted_at_ns // NS_PER_S),
        "points": int(points),
        "windows": ";".join(f"{s // NS_PER_S}/{e // NS_PER_S}" for s, e in windows),
        "windows_until": int(windows_until_ns // NS_PER_S),
    }
    if threshold is not None:
        fields["threshold"] = float(threshold)
    for name, values in (("mean", mean), ("lower", lower), ("upper", upper)):
        hourly = np.interp(at.astype(np.float64), ts_ns.astype(np.float64), values)
        for h, value, ok in zip(_HOURS, hourly, inside, strict=True):
            if ok:
                fields[f"{name}_{h:02d}"] = round(float(value), 4)
    return Reading(TopicKind.FORECAST, station, hour, fields)


def from_reading(reading: Reading) -> PastForecast | None:
    """The stored forecast, made at its hour; None when it holds no values."""
    f = reading.fields
    hours = [h for h in _HOURS if isinstance(f.get(f"mean_{h:02d}"), float)]
    if not hours:
        return None

    def series(name: str) -> np.ndarray:
        return np.array([float(f[f"{name}_{h:02d}"]) for h in hours], np.float64)

    windows: list[tuple[int, int]] = []
    text = f.get("windows")
    for part in text.split(";") if isinstance(text, str) and text else []:
        start, _, end = part.partition("/")
        windows.append((int(start) * NS_PER_S, int(end) * NS_PER_S))
    threshold = f.get("threshold")
    until = f.get("windows_until")
    fitted = f.get("fitted_at")
    at = int(fitted) * NS_PER_S if isinstance(fitted, int) else reading.ts_ns
    return PastForecast(
        at,
        at + np.array(hours, np.int64) * H_NS,
        series("mean"),
        series("lower"),
        series("upper"),
        float(threshold) if isinstance(threshold, float | int) else None,
        tuple(windows),
        int(until) * NS_PER_S if isinstance(until, int) else None,
    )


def past_forecasts(
    store: ReadingStore, station: str, since_ns: int, until_ns: int
) -> list[PastForecast]:
    rows = store.query(TopicKind.FORECAST, station, since_ns, until_ns, 10_000)
    return [p for p in (from_reading(r) for r in rows) if p is not None]


@dataclass(frozen=True)
class LiveScore:
    """A station's forecasts over the last ``days``, scored (docs/interface.md ``skill``)."""

    days: float
    tally: Tally
    reliable: bool
    reason: str  # why not reliable ("" when it is)


def live_score(
    forecasts: Sequence[PastForecast],
    obs_ts_ns: np.ndarray,
    obs_ppt: np.ndarray,
    now_ns: int,
    rules: ForecastRules,
) -> LiveScore:
    """Score the station's kept ``forecasts`` of the last ``rules.score_days`` (past_forecasts)
    against its good readings ``obs`` (which must reach back a tidal day or two before the
    oldest of them)."""
    tally = score_all(forecasts, obs_ts_ns, obs_ppt, now_ns)
    return LiveScore(rules.score_days, tally, *judge(tally, rules))


def judge(tally: Tally, rules: ForecastRules) -> tuple[bool, str]:
    """Whether the score earns intake window notices, and why not."""
    if tally.forecasts < rules.min_scored:
        return False, f"{tally.forecasts} scored forecasts, fewer than {rules.min_scored}"
    skill = tally.skill
    material = (tally.mae_persistence or 0.0) >= rules.skill_resolution
    if skill is not None and material and skill < rules.min_skill:
        return False, f"skill {skill:+.2f} against tidal-day persistence"
    precision = tally.precision
    if precision is not None and precision < rules.min_precision:
        return False, f"window precision {precision:.0%}"
    return True, ""
