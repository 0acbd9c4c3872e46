"""What the API reads of the rest of SaltWatch: one view per part, typed, given by the process
that runs the API (docs/architecture.md, "What the API sees of each process"). ``saltwatch
serve`` runs ingest, the alert engine and its analytics jobs beside the API and hands them over;
``saltwatch api`` runs alone and reads what those processes kept in the stores. The routes never
ask which process they are in."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from fastapi import HTTPException

from saltwatch.alerts.engine import AlertEngine
from saltwatch.alerts.model import Alert, Event
from saltwatch.alerts.store import AlertStore
from saltwatch.analytics.forecast import StationForecast
from saltwatch.analytics.forecast_job import ForecastJob
from saltwatch.analytics.outlook_job import OutlookJob
from saltwatch.analytics.outlook_kept import StationOutlook
from saltwatch.analytics.saltfront import FrontDay, FrontKeeper, RiverRisk
from saltwatch.core.clock import Clock
from saltwatch.core.registry import Registry
from saltwatch.core.rules import RuleSet, rules_in_force
from saltwatch.core.store import ReadingStore
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.core.types import Reading
from saltwatch.ingest.devices import DeviceSnapshot
from saltwatch.ingest.intake import RecentRejection
from saltwatch.ingest.poller import SourceStatus

Listener = Callable[[Event], None]


class IngestView(Protocol):
    """What the API reads of ingest running in the same process (``IngestService`` is one)."""

    def recent_rejections(self) -> list[RecentRejection]: ...

    def devices(self) -> list[DeviceSnapshot]: ...

    def quarantined(self) -> list[str]: ...

    def broker_connected(self) -> bool | None: ...

    def spool_disk_full(self) -> bool: ...

    def sources(self) -> list[SourceStatus]: ...


class NoIngest:
    """The API-only process: ingest runs elsewhere, so none of this is known here but the
    polled sources, where ``sources`` reads what ingest keeps of them."""

    def __init__(self, sources: Callable[[], list[SourceStatus]] | None = None) -> None:
        self._sources = sources

    def recent_rejections(self) -> list[RecentRejection]:
        return []

    def devices(self) -> list[DeviceSnapshot]:
        return []

    def quarantined(self) -> list[str]:
        return []

    def broker_connected(self) -> bool | None:
        return None

    def spool_disk_full(self) -> bool:
        return False

    def sources(self) -> list[SourceStatus]:
        return self._sources() if self._sources is not None else []


class AlertsView(Protocol):
    """What the API asks of the alert engine: the rules it applies, a reading entered through
    the API judged at once, acknowledgements, new rules, the stream of its events, and whether
    its state is being saved."""

    def rules(self) -> RuleSet: ...

    def judge_now(self, readings: Sequence[Reading]) -> None: ...

    def judge_operations(self, entries: Sequence[Reading]) -> None:
        """An operator's entry on a structure (the ``operation`` kind), judged at once."""

    def acknowledge(self, alert_id: str, by: str, note: str | None) -> Alert: ...

    def replace_rules(self, rules: RuleSet) -> None: ...

    def listen(self, listener: Listener) -> None: ...

    def unlisten(self, listener: Listener) -> None: ...

    def unsaved_since(self) -> int | None:
        """When the alert state last failed to be written (None: it is saved)."""

    def waiting(self) -> int:
        """How many alert changes wait for the state to be writable."""


class EngineAlerts:
    """The alert engine running in this process (``saltwatch serve``)."""

    def __init__(self, engine: AlertEngine) -> None:
        self._engine = engine

    def rules(self) -> RuleSet:
        return self._engine.rules

    def judge_now(self, readings: Sequence[Reading]) -> None:
        self._engine.on_readings(readings)

    def judge_operations(self, entries: Sequence[Reading]) -> None:
        self._engine.on_operations(entries)

    def acknowledge(self, alert_id: str, by: str, note: str | None) -> Alert:
        return self._engine.acknowledge(alert_id, by, note)

    def replace_rules(self, rules: RuleSet) -> None:
        self._engine.replace_rules(rules)

    def listen(self, listener: Listener) -> None:
        self._engine.add_event_listener(listener)

    def unlisten(self, listener: Listener) -> None:
        self._engine.remove_event_listener(listener)

    def unsaved_since(self) -> int | None:
        return self._engine.episodes.unsaved_since

    def waiting(self) -> int:
        return len(self._engine.episodes.waiting)


class AlertsElsewhere:
    """The alert engine runs in another process (``saltwatch api`` beside ``saltwatch alerts``
    or ``serve``): the rules are read as that process applies them (saved by an admin, or the
    configured file); a handheld reading entered here is handed to ``landed`` (the landed log,
    which that process follows); what only the engine can do is answered 409."""

    def __init__(
        self,
        state: AlertStore,
        rules_path: Path | None,
        landed: Callable[[Sequence[Reading]], None],
    ) -> None:
        self._state = state
        self._rules_path = rules_path
        self._landed = landed

    def rules(self) -> RuleSet:
        return rules_in_force(self._state.saved_rules(), self._rules_path)

    def judge_now(self, readings: Sequence[Reading]) -> None:
        """Logged for the alerts process, which judges them within seconds (its turn at the
        landed log: docs/architecture.md)."""
        self._landed(readings)

    def judge_operations(self, entries: Sequence[Reading]) -> None:
        """Nothing here: the alerts process reads each gate's newest entry from the store at
        every tick (``AlertEngine.learn_gates``)."""

    def acknowledge(self, alert_id: str, by: str, note: str | None) -> Alert:
        raise _not_here()

    def replace_rules(self, rules: RuleSet) -> None:
        raise _not_here()

    def listen(self, listener: Listener) -> None:
        raise _not_here()

    def unlisten(self, listener: Listener) -> None:
        """Nothing was listened to."""

    def unsaved_since(self) -> int | None:
        return None

    def waiting(self) -> int:
        return 0


def _not_here() -> HTTPException:
    return HTTPException(409, "the alert engine does not run in this process")


class AnalyticsView(Protocol):
    """What the alert engine's analytics jobs keep: today's salt front and risk level of each
    river, each station's latest 48 h forecast, each station's week ahead. Empty where nothing
    is kept (yet): the routes then make what they show from the store."""

    def fronts(self) -> Mapping[str, FrontDay]: ...

    def risks(self) -> Mapping[str, RiverRisk]: ...

    def forecasts(self) -> Mapping[str, StationForecast]: ...

    def outlooks(self) -> Mapping[str, StationOutlook]:
        """Each station's week ahead, as current as the jobs keep it."""


class JobsAnalytics:
    """The analytics jobs running in this process (``saltwatch serve``)."""

    def __init__(self, front: FrontKeeper, forecasts: ForecastJob, outlooks: OutlookJob) -> None:
        self._front, self._forecasts, self._outlooks = front, forecasts, outlooks

    def fronts(self) -> Mapping[str, FrontDay]:
        return self._front.latest()

    def risks(self) -> Mapping[str, RiverRisk]:
        return self._front.risks

    def forecasts(self) -> Mapping[str, StationForecast]:
        return self._forecasts.latest

    def outlooks(self) -> Mapping[str, StationOutlook]:
        return self._outlooks.latest


class StoredAnalytics:
    """The jobs run in another process (``saltwatch api``): no front or forecast is kept here;
    the week ahead is read as that process kept it in the store, again at most every
    ``every_s``, or made here when nothing was kept."""

    def __init__(
        self,
        store: ReadingStore,
        registry: Registry,
        rules: Callable[[], RuleSet],
        clock: Clock,
        every_s: float = 600.0,
    ) -> None:
        self._outlooks = OutlookJob(store, registry, rules, clock)
        self._clock = clock
        self._every_ns = int(every_s * NS_PER_S)

    def fronts(self) -> Mapping[str, FrontDay]:
        return {}

    def risks(self) -> Mapping[str, RiverRisk]:
        return {}

    def forecasts(self) -> Mapping[str, StationForecast]:
        return {}

    def outlooks(self) -> Mapping[str, StationOutlook]:
        job = self._outlooks
        if self._clock.now_ns() - job.updated_at_ns > self._every_ns and not job.read_kept():
            job.update()  # nothing kept anywhere: made here
        return job.latest
