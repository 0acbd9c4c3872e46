"""Shared by the composition roots (serve, alerts, demo): logging, signals, and a source of
readings with the alert engine and the API attached to it."""

from __future__ import annotations

import functools
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from saltwatch.alerts.system import Holds, Probes, SystemWatch
from saltwatch.analytics.forecast_job import ForecastJob
from saltwatch.analytics.outlook_alerts import warnings_ahead
from saltwatch.analytics.outlook_job import OutlookJob
from saltwatch.analytics.risk import RiskLevel
from saltwatch.analytics.saltfront import FrontKeeper
from saltwatch.analytics.schedules import ScheduleCheck
from saltwatch.analytics.weekly_issue import WeeklyIssuer
from saltwatch.core.backoff import Backoff
from saltwatch.core.clock import Clock, SystemClock
from saltwatch.core.errors import RetryableError
from saltwatch.core.timeutil import NS_PER_S
from saltwatch.storage.alert_sqlite import SqliteAlertStore
from saltwatch.storage.audit_sqlite import SqliteAuditLog
from saltwatch.storage.bulletin_sqlite import SqliteIssuedBulletins
from saltwatch.storage.landed_sqlite import SqliteLandedLog
from saltwatch.storage.schedule_sqlite import SqliteSchedules
from saltwatch.storage.signin_sqlite import SqliteSignIns

if TYPE_CHECKING:
    from saltwatch.alerts.engine import AlertEngine
    from saltwatch.core.registry import Registry
    from saltwatch.core.settings import Settings
    from saltwatch.core.store import ReadingStore
    from saltwatch.ingest.devices import DeviceTracker
    from saltwatch.ingest.mqtt import MqttConsumer
    from saltwatch.ingest.pipeline import Listener
    from saltwatch.ingest.service import IngestService

log = logging.getLogger("saltwatch")
LANDED_READER = "alerts"  # the landed log's reader: the process that runs the alert engine
LANDED_EVERY_S = 2.0  # how often it reads the log


class ReadingSource(Protocol):
    """Where the alert engine gets readings: ingest's pipeline once they are durable (``serve``),
    or the alerts process's own feed (``alerts``)."""

    @property
    def tracker(self) -> DeviceTracker: ...

    @property
    def consumer(self) -> MqttConsumer: ...

    def add_listener(self, listener: Listener) -> None: ...

    def run(self, stop: threading.Event) -> None: ...


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request is noise
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # a line per tick is noise


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C): the process then stops cleanly."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _warm(engine: AlertEngine, store: ReadingStore, stop: threading.Event) -> None:
    """Fill the alert windows from the store's recent readings, retrying while it is away
    (readings arriving meanwhile merge with these: a window keeps one value per time)."""
    backoff = Backoff(initial=1.0, cap=30.0)
    while not stop.is_set():
        try:
            log.info("alert windows warmed with %d readings", engine.warm(store))
            return
        except RetryableError as exc:
            delay = backoff.next()
            log.warning("cannot warm the alert windows yet (%s); again in %.0f s", exc, delay)
            stop.wait(delay)


def _learn_gates(engine: AlertEngine, store: ReadingStore) -> None:
    try:
        engine.learn_gates(store)
    except RetryableError as exc:  # the store is away: the next tick reads them
        log.debug("gate states not read from the store: %s", exc)


def _judge_landed(engine: AlertEngine, landed: SqliteLandedLog) -> None:
    """Hand the engine what other processes stored and logged since the last time (an API
    process's handheld readings, ``saltwatch ingest``'s vendor polls): storage/landed_sqlite.py."""
    try:
        seq, readings = landed.read(LANDED_READER)
        if readings:  # nothing new: the cursor stays, and nothing is written
            engine.on_readings(readings)
            landed.done(LANDED_READER, seq)
    except RetryableError as exc:  # the state file is busy or full: the next turn reads them
        log.warning("the landed log was not read: %s", exc)


def _analytics(
    store: ReadingStore, reg: Registry, engine: AlertEngine, clock: Clock
) -> tuple[ForecastJob, OutlookJob, FrontKeeper]:
    """The jobs the engine runs beside its rules: the 48 h forecasts, the week ahead and the
    salt front (whose forecast level reads the forecasts)."""
    forecasts = ForecastJob(
        store, reg, lambda: engine.rules, clock, open_notices=engine.open_alerts
    )
    outlooks = OutlookJob(store, reg, lambda: engine.rules, clock)
    front = FrontKeeper(
        store, reg, lambda: engine.rules.saltfront, clock, forecast_peaks=forecasts.peaks
    )
    return forecasts, outlooks, front


def _weekly(
    settings: Settings,
    store: ReadingStore,
    reg: Registry,
    engine: AlertEngine,
    front: FrontKeeper,
    clock: Clock,
) -> WeeklyIssuer:
    """The weekly bulletin's issuer, telling the receivers with ``bulletins = true`` (in a thread
    of its own: a hanging receiver holds up no job)."""
    from saltwatch.alerts.routing import receiver_channel  # noqa: PLC0415

    wanted = [receiver_channel(r.name) for r in settings.alerts.receivers if r.bulletins]
    notifiers = [engine.dispatcher.workers[c].notifier for c in wanted]

    def send(body: dict[str, Any]) -> None:
        def run() -> None:
            for notifier in notifiers:
                try:
                    notifier.send(body, [str(body["zone"])])
                except Exception as exc:  # best effort: the bulletin stays at its link anyway
                    log.warning("%s could not be sent the bulletin: %s", notifier.channel, exc)

        threading.Thread(target=run, name="bulletin-send", daemon=True).start()

    def observed() -> dict[str, RiskLevel]:
        return {river: risk.observed for river, risk in front.risks.items()}

    return WeeklyIssuer(
        SqliteIssuedBulletins(settings.state.path),
        store,
        reg,
        lambda: engine.rules,
        clock,
        observed,
        send,
        settings.api.public_url,
    )


def _forecast_job(
    engine: AlertEngine,
    reg: Registry,
    forecasts: ForecastJob,
    outlooks: OutlookJob,
    weekly: WeeklyIssuer,
    checks: ScheduleCheck,
    system: SystemWatch,
) -> Callable[[], None]:
    """The hourly job: the 48 h forecasts and their alerts, the week ahead (its bulletin and
    warnings ahead), the planned openings judged against the forecasts."""

    def judge() -> None:
        engine.observe(forecasts.update())
        ahead = outlooks.update()
        weekly.update(ahead)
        now = forecasts.clock.now_ns()
        engine.observe(warnings_ahead(ahead, reg, engine.rules, weekly.observed(), now))
        horizon = int(engine.rules.forecast.horizon * NS_PER_S)
        engine.observe(checks.update(forecasts.latest, now, horizon))
        system.forecast_done()

    return judge


def run_with_alerts(
    settings: Settings,
    reg: Registry,
    source: ReadingSource,
    warm_from: ReadingStore,
    *,
    api_ingest: IngestService | None = None,
    with_api: bool = False,
    clock: Clock | None = None,
    stop: threading.Event | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Attach the alert engine (and the API) to a source of readings and run until ``stop`` (by
    default: a signal). ``api_ingest``: ingest in this process, whose rejections, liveness,
    broker connection and metrics the API shows. ``on_ready`` is called once the source is
    subscribed and the API answers. Raises FatalError when the broker or the store refuses us."""
    from saltwatch.wiring import PolledElsewhere, build_engine  # noqa: PLC0415

    tracker = source.tracker

    def statuses() -> dict[str, tuple[bool, int]]:
        return {
            d.device: (bool(d.online), d.status_at_ns or 0)
            for d in tracker.snapshot()
            if d.online is not None
        }

    state = SqliteAlertStore(settings.state.path)
    engine = build_engine(settings, reg, state, clock=clock, statuses=statuses)
    stop = stop if stop is not None else stop_on_signals()
    # the windows fill from the store in the background: a store that is down at start (it
    # comes back later) must not stop ingest, which spools meanwhile
    threading.Thread(target=_warm, args=(engine, warm_from, stop), name="warm", daemon=True).start()
    source.add_listener(engine.on_readings)
    forecasts, outlooks, front = _analytics(warm_from, reg, engine, clock or SystemClock())
    weekly = _weekly(settings, warm_from, reg, engine, front, clock or SystemClock())

    a = settings.alerts
    pipeline = api_ingest.pipeline if api_ingest is not None else None

    probes = Probes(
        broker_connected=source.consumer.connected.is_set,
        session_lost_at=lambda: source.consumer.session_lost_at,
        store_up=(lambda: pipeline.store_up) if pipeline else None,
        spool_depth=(lambda: pipeline.spool_depth) if pipeline else None,
        progress=pipeline.progress if pipeline else None,
        sources_stale=(
            api_ingest.stale_sources
            if api_ingest is not None
            else PolledElsewhere(settings, clock or SystemClock()).stale_hours
        ),
    )
    system = engine.watch_system(
        probes,
        Holds(a.system_after_s, a.spool_growing_after_s, a.notifier_failing_after_s, a.forecast_s),
    )

    def judge_front() -> None:
        engine.observe(front.update())

    schedules = SqliteSchedules(settings.state.path)
    landed = SqliteLandedLog(settings.state.path)
    checks = ScheduleCheck(schedules, reg, lambda: engine.rules)

    judge_forecasts = _forecast_job(engine, reg, forecasts, outlooks, weekly, checks, system)

    engine.start(
        settings.alerts.tick_s,
        [
            (functools.partial(_learn_gates, engine, warm_from), settings.alerts.tick_s),
            (functools.partial(_judge_landed, engine, landed), LANDED_EVERY_S),
            (lambda: engine.observe(forecasts.soon()), settings.alerts.tick_s),
            (judge_front, settings.alerts.saltfront_s),
            (judge_forecasts, settings.alerts.forecast_s),
        ],
    )
    api = None
    if with_api:
        from saltwatch.api.context import ApiContext  # noqa: PLC0415
        from saltwatch.api.server import ApiServer  # noqa: PLC0415
        from saltwatch.api.views import EngineAlerts, JobsAnalytics, NoIngest  # noqa: PLC0415

        ctx = ApiContext(
            settings,
            reg,
            warm_from,
            engine.state,
            SqliteAuditLog(settings.state.path),
            EngineAlerts(engine),
            JobsAnalytics(front, forecasts, outlooks),
            SqliteIssuedBulletins(settings.state.path),
            SqliteSignIns(settings.state.path),
            schedules,
            api_ingest if api_ingest is not None else NoIngest(),
            metrics=[
                *([pipeline.metrics.registry] if pipeline else []),
                engine.metrics.registry,
            ],
            clock=clock if clock is not None else SystemClock(),
        )
        api = ApiServer(ctx)
        api.start()
        log.info("API on http://%s", settings.api.bind)
    if on_ready is not None:
        server = api

        def when_ready() -> None:
            while not stop.is_set():
                subscribed = source.consumer.connected.is_set()
                if subscribed and (server is None or server.started):
                    on_ready()
                    return
                time.sleep(0.05)

        threading.Thread(target=when_ready, name="on-ready", daemon=True).start()
    try:
        source.run(stop)
    finally:
        if api is not None:
            api.stop()
        engine.stop()
