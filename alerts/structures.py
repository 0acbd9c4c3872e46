"""Sluices and intakes: each structure's gate as its sensor and its operators last told it, the
salinity at the station guarding it, and the alert when it stands open to salt.

One history of a gate has two sources here, each a reading: the gate sensor (kind ``gate``, over
MQTT through ingest) and an operator's entry (kind ``operation``, through the API). The newer of
the two says whether the gate is open; when the sensor, reporting after the operator, says
otherwise, the two *disagree* and the screen says so.

``structure-open-salty`` (critical, to the structure's zones): the gate open (or partly) while its
guard station's newest good reading is at or above the structure's limit. A gate opened into salty
water fires at once; salt arriving at a gate already open fires after ``[structure] hold``, the
time a crew needs to close it. It resolves when the gate closes or the salinity falls below the
limit. docs/domain.md "Structures".
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from saltwatch.alerts.model import Fingerprint, Observation
from saltwatch.core.qc import BAD_FLAGS
from saltwatch.core.registry import Registry, Structure
from saltwatch.core.rules import RuleSet, Severity
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.topics import TopicKind
from saltwatch.core.types import Reading

RULE = "structure-open-salty"
OPEN_STATES = ("open", "partial")


@dataclass(frozen=True)
class GateSeen:
    """One report of a gate: from its sensor or an operator (``by``: the token's name)."""

    state: str  # open, closed, partial
    at_ns: int
    source: str  # "sensor" or "operator"
    opening_pct: float | None = None
    by: str = ""
    note: str = ""

    @property
    def open(self) -> bool:
        return self.state in OPEN_STATES and (self.opening_pct is None or self.opening_pct > 0)


@dataclass(frozen=True)
class StructureStatus:
    """What is known of a structure now (the API's and the dashboard's view)."""

    structure: Structure
    limit: float
    gate: GateSeen | None  # the newer of the sensor's and the operator's reports
    sensor: GateSeen | None
    operator: GateSeen | None
    guard_ppt: float | None  # the guard station's newest good reading
    guard_at_ns: int | None

    @property
    def disagree(self) -> bool:
        """The sensor, reporting after the operator, says otherwise."""
        s, o = self.sensor, self.operator
        return s is not None and o is not None and s.at_ns >= o.at_ns and s.open != o.open

    @property
    def open_to_salt(self) -> bool:
        salty = self.guard_ppt is not None and self.guard_ppt >= self.limit
        return self.gate is not None and self.gate.open and salty


class StructureWatch:
    """Keeps each structure's gate and guard salinity from the readings it is given, and judges
    ``structure-open-salty``. Thread-safe: readings come from the judging path, operator entries
    from the API, the hold check from the engine's tick."""

    def __init__(self, registry: Registry, rules: Callable[[], RuleSet]) -> None:
        self.registry = registry
        self.rules = rules
        self._lock = threading.Lock()
        self._sensor: dict[str, GateSeen] = {}
        self._operator: dict[str, GateSeen] = {}
        self._guard: dict[str, tuple[float, int]] = {}  # station → (‰, measured at)
        self._open_since: dict[str, int] = {}  # structure → when its gate was last opened
        self._salty_since: dict[str, int] = {}  # structure → when its guard reached the limit
        self._guarded: dict[str, list[str]] = {}  # station → the structures it guards
        for s in registry.structures.values():
            self._guarded.setdefault(s.guard, []).append(s.id)

    def on_readings(self, readings: Iterable[Reading]) -> list[tuple[Observation, str]]:
        """Take the gate reports and guard readings among ``readings``; the judgements of the
        structures they touch (each with the zone it is for)."""
        touched: dict[str, None] = {}
        with self._lock:
            for r in readings:
                for sid in self._take(r):
                    touched[sid] = None
            return [self._judge(self.registry.structures[sid], None) for sid in touched]

    def check(self, now_ns: int) -> list[tuple[Observation, str]]:
        """Every structure judged at ``now_ns`` (holds that have run out fire)."""
        with self._lock:
            return [
                self._judge(s, now_ns)
                for s in self.registry.structures.values()
                if s.id in self._sensor or s.id in self._operator
            ]

    def status(self, structure_id: str) -> StructureStatus | None:
        structure = self.registry.structures.get(structure_id)
        if structure is None:
            return None
        with self._lock:
            sensor, operator = self._sensor.get(structure_id), self._operator.get(structure_id)
            guard = self._guard.get(structure.guard)
        gate = max((g for g in (sensor, operator) if g), key=lambda g: g.at_ns, default=None)
        return StructureStatus(
            structure,
            self.rules().structure_limit(structure),
            gate,
            sensor,
            operator,
            guard[0] if guard else None,
            guard[1] if guard else None,
        )

    def _take(self, r: Reading) -> list[str]:
        if r.kind is TopicKind.GATE:
            device = self.registry.device(r.device)
            if device is None or device.structure is None:
                return []
            seen = gate_seen(r, "sensor")
            return self._gate_seen(device.structure, seen, self._sensor) if seen else []
        if r.kind is TopicKind.OPERATION:
            seen = gate_seen(r, "operator")
            ok = seen is not None and r.device in self.registry.structures
            return self._gate_seen(r.device, seen, self._operator) if ok and seen else []
        guarded = self._guarded.get(r.device) if r.kind is TopicKind.SALINITY else None
        if guarded and not r.qc & BAD_FLAGS:
            value = r.fields.get("salinity_ppt")
            if not isinstance(value, float):
                return []
            before = self._guard.get(r.device)
            if before is not None and before[1] > r.ts_ns:
                return []  # an older reading arriving late says nothing of now
            self._guard[r.device] = (value, r.ts_ns)
            return guarded
        return []

    def _gate_seen(self, sid: str, seen: GateSeen, into: dict[str, GateSeen]) -> list[str]:
        before = into.get(sid)
        if before is not None and before.at_ns > seen.at_ns:
            return []
        was_open = self._gate_open(sid)
        into[sid] = seen
        if self._gate_open(sid) and not was_open:
            self._open_since[sid] = seen.at_ns
        return [sid]

    def _gate_open(self, sid: str) -> bool:
        reports = [g for g in (self._sensor.get(sid), self._operator.get(sid)) if g]
        return bool(reports) and max(reports, key=lambda g: g.at_ns).open

    def _judge(self, s: Structure, now_ns: int | None) -> tuple[Observation, str]:
        limit = self.rules().structure_limit(s)
        guard = self._guard.get(s.guard)
        value, measured = guard if guard else (None, 0)
        salty = value is not None and value >= limit
        if not salty:
            self._salty_since.pop(s.id, None)
        elif s.id not in self._salty_since:
            self._salty_since[s.id] = measured
        is_open = self._gate_open(s.id)
        reports = [g.at_ns for g in (self._sensor.get(s.id), self._operator.get(s.id)) if g]
        at = max([measured, *reports])
        severity: Severity | None = None
        pending: Severity | None = None
        since = at
        if is_open and salty:
            opened, salted = self._open_since.get(s.id, at), self._salty_since[s.id]
            since = max(opened, salted)
            held = (now_ns if now_ns is not None else at) - salted
            if opened >= salted or held >= self.rules().structure.hold * NS_PER_S:
                severity = "critical"
            else:
                pending = "critical"
        obs = Observation(
            fingerprint=Fingerprint(RULE, s.id),
            rule=RULE,
            kind="structure",
            device="",
            severity=severity,
            pending=pending,
            value=value,
            threshold=limit,
            unit="‰",
            since_ns=since,
            at_ns=at,
        )
        return obs, s.zone


def gate_seen(r: Reading, source: str) -> GateSeen | None:
    """A gate report as a reading keeps it (kind ``gate`` or ``operation``)."""
    state = r.fields.get("state")
    if not isinstance(state, str):
        return None
    pct = r.fields.get("opening_pct")
    by, note = r.fields.get("by", ""), r.fields.get("note", "")
    return GateSeen(
        state,
        r.ts_ns,
        source,
        float(pct) if isinstance(pct, float | int) and not isinstance(pct, bool) else None,
        by if isinstance(by, str) else "",
        note if isinstance(note, str) else "",
    )


def gate_readings(entries: Sequence[GateSeen], structure: str) -> list[Reading]:
    """Operator entries as the readings that keep them (kind ``operation``)."""
    out = []
    for e in entries:
        fields: dict[str, float | int | str | bool] = {"state": e.state, "by": e.by}
        if e.opening_pct is not None:
            fields["opening_pct"] = e.opening_pct
        if e.note:
            fields["note"] = e.note
        out.append(Reading(TopicKind.OPERATION, structure, e.at_ns, fields))
    return out
