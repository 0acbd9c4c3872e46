"""The week the engineers plan: openings planned per structure ("lịch đóng mở cống"), entered by
operators, proposed from the guard station's safe intake windows, and the warning, ahead of time,
when the forecast says a planned opening falls in salty water.

``opening-unsafe`` (warning, to the structure's zone): a planned opening not yet begun during
which the guard station's forecast mean reaches the structure's limit (core/rules.py
``structure_limit``). It resolves once the opening begins or is cancelled, or a later forecast
says the water will stay below the limit. An opening beyond the forecast's horizon is not judged.
docs/domain.md "Structures"; the port ``ScheduleBook`` is kept by storage/schedule_sqlite.py.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from saltwatch.alerts.model import Fingerprint, Observation
from saltwatch.analytics.forecast import StationForecast
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet
from saltwatch.core.timeutil import NS_PER_S

RULE = "opening-unsafe"


@dataclass(frozen=True)
class Opening:
    """A planned opening of a structure's gate: from ``start_ns`` to ``end_ns``."""

    id: str
    structure: str
    start_ns: int
    end_ns: int
    by: str  # the token's name of who planned it; "saltwatch" for a proposal
    note: str = ""
    source: str = "operator"  # or "proposed": from the guard station's safe windows


class ScheduleBook(Protocol):
    """Where planned openings are kept (storage/schedule_sqlite.py)."""

    def add(self, opening: Opening) -> None: ...

    def cancel(self, opening_id: str, by: str) -> Opening | None: ...

    def between(self, start_ns: int, end_ns: int, structure: str | None = None) -> list[Opening]:
        """The openings not cancelled that overlap ``[start_ns, end_ns)``, earliest first."""
        ...


def proposals(
    registry: Registry, forecasts: Mapping[str, StationForecast], structure: str | None = None
) -> list[Opening]:
    """Openings SaltWatch proposes: each safe intake window of a structure's guard station
    whose forecasts earned notices (analytics/forecast.py)."""
    out = []
    for s in registry.structures.values():
        found = forecasts.get(s.guard)
        if (structure and s.id != structure) or found is None or not found.reliable:
            continue
        for w in found.windows:
            ident = f"proposed-{s.id}-{w.start_ns // NS_PER_S}"
            out.append(Opening(ident, s.id, w.start_ns, w.end_ns, "saltwatch", "", "proposed"))
    return out


def unsafe_peak(opening: Opening, found: StationForecast) -> float | None:
    """The forecast mean's highest value during the opening, when it falls inside the forecast
    (None: beyond the horizon, or no forecast step inside it)."""
    f = found.forecast
    if f.ts_ns.size == 0 or opening.start_ns >= int(f.ts_ns[-1]):
        return None
    inside = (f.ts_ns > opening.start_ns) & (f.ts_ns <= opening.end_ns)
    return float(np.max(f.mean[inside])) if inside.any() else None


class ScheduleCheck:
    """Judges every planned opening ahead against the latest forecasts (``update``, after each
    forecast run); remembers what it warned of, to resolve it when the warning no longer holds."""

    def __init__(
        self, book: ScheduleBook, registry: Registry, rules: Callable[[], RuleSet]
    ) -> None:
        self.book = book
        self.registry = registry
        self.rules = rules
        self._warned: dict[Fingerprint, str] = {}  # fingerprint → zone

    def update(
        self, forecasts: Mapping[str, StationForecast], now_ns: int, horizon_ns: int
    ) -> list[tuple[Observation, str]]:
        rules = self.rules()
        out: list[tuple[Observation, str]] = []
        warned: dict[Fingerprint, str] = {}
        for opening in self.book.between(now_ns, now_ns + horizon_ns):
            structure = self.registry.structures.get(opening.structure)
            found = forecasts.get(structure.guard) if structure else None
            if structure is None or found is None or opening.start_ns <= now_ns:
                continue
            peak = unsafe_peak(opening, found)
            limit = rules.structure_limit(structure)
            if peak is None or peak < limit:
                continue
            fp = Fingerprint(RULE, structure.id, opening.id)
            warned[fp] = structure.zone
            out.append(
                (_observation(fp, "warning", peak, limit, opening.start_ns, now_ns), warned[fp])
            )
        for fp, zone in self._warned.items():
            if fp not in warned:
                out.append((_observation(fp, None, None, None, now_ns, now_ns), zone))
        self._warned = warned
        return out


def _observation(
    fp: Fingerprint,
    severity: str | None,
    peak: float | None,
    limit: float | None,
    since: int,
    at: int,
) -> Observation:
    return Observation(
        fingerprint=fp,
        rule=RULE,
        kind="structure",
        device="",
        severity="warning" if severity else None,
        value=round(peak, 2) if peak is not None else None,
        threshold=limit,
        unit="‰",
        since_ns=since,
        at_ns=at,
    )
