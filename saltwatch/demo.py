"""``saltwatch demo``: the whole system on one machine with nothing else installed.

An embedded broker (amqtt, loopback, device logins and the per-device ACL), the SQLite stores in
one data folder, the simulator playing a dry season in accelerated time, ingest, alerts and the
API with the dashboard. Every component reads one accelerated clock, so readings, alerts and the
dashboard all speak of the simulated date. A fresh folder first gets a week of history written
straight to the store (charts are not empty, rules have their windows); a second run continues
the season where the last one stopped, or starts over with ``--reset``.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from saltwatch.analytics.schedules import Opening
from saltwatch.api.auth import Principal
from saltwatch.api.signin import digest, new_code
from saltwatch.core.clock import ScaledClock
from saltwatch.core.errors import ConfigError
from saltwatch.core.registry import Registry
from saltwatch.core.settings import ApiToken, Settings
from saltwatch.core.timeutil import NS_PER_S, VN_TZ, from_datetime, to_datetime, to_rfc3339
from saltwatch.credentials import (
    BACKEND_USER,
    NETWORK_SERVER_PREFIX,
)
from saltwatch.demo_history import write_history
from saltwatch.demo_sources import (
    Router,
    broker_with_logins,
    demo_sources,
    vendor_cloud,
)
from saltwatch.reach import reach_lines
from saltwatch.runtime import run_with_alerts
from saltwatch.sim.faults import FaultRates
from saltwatch.sim.fleet import Fleet, Message, SimConfig
from saltwatch.sim.publisher import SimPublisher
from saltwatch.sim.salinity import SCENARIOS, epoch
from saltwatch.storage.schedule_sqlite import SqliteSchedules
from saltwatch.storage.signin_sqlite import SqliteSignIns

log = logging.getLogger("saltwatch.demo")
MARKER = "demo.json"  # what makes a folder a demo folder (and --reset allowed to empty it)


@dataclass
class DemoOptions:
    data: Path
    reset: bool = False
    bind: str = "127.0.0.1:8000"
    mqtt_port: int = 0  # 0: any free port
    speed: float = 120.0
    scenario: str = "2024"
    start: str = "2024-03-01"
    seed: int = 1
    history_days: float = 7.0


def prepare_folder(data: Path, reset: bool) -> dict[str, Any]:
    """The saved state of an earlier run ({} for a new folder); refuses a folder that is not
    ours rather than mixing with (or, with --reset, deleting) someone else's files."""
    marker = data / MARKER
    if data.exists() and any(data.iterdir()) and not marker.exists():
        raise ConfigError(f"{data} is not empty and not a SaltWatch demo folder; choose another")
    if reset and marker.exists():
        shutil.rmtree(data)
    data.mkdir(parents=True, exist_ok=True)
    if not marker.exists():
        return {}
    saved: dict[str, Any] = json.loads(marker.read_text(encoding="utf-8"))
    return saved


def open_folder(data: Path, options: DemoOptions) -> tuple[dict[str, Any], bool]:
    """The demo's state (tokens, simulated time to start from) and whether the folder is new."""
    saved = prepare_folder(data, options.reset)
    fresh = "clock_ns" not in saved
    state: dict[str, Any] = {
        "tokens": saved.get("tokens")
        or {
            role: f"{role}-{secrets.token_urlsafe(18)}" for role in ("viewer", "operator", "admin")
        },
        "scenario": options.scenario,
        "clock_ns": int(epoch(options.start) * NS_PER_S) if fresh else int(saved["clock_ns"]),
    }
    save_state(data, state)
    return state, fresh


def save_state(data: Path, state: dict[str, Any]) -> None:
    path = data / MARKER
    temporary = path.with_name(f".{MARKER}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(state, handle, indent=2)
    os.replace(temporary, path)


#: who holds each demo token: an acknowledgement and the audit log name a person, not
#: "token-6126" (a site names its tokens in ``api.tokens``)
DEMO_NAMES = {"viewer": "tuan.tran", "operator": "lan.nguyen", "admin": "quan-tri"}


def demo_settings(
    base: Settings, data: Path, broker_url: str, tokens: dict[str, str], bind: str
) -> Settings:
    return base.model_copy(
        update={
            "mqtt": base.mqtt.model_copy(update={"url": broker_url}),
            "store": base.store.model_copy(update={"url": f"sqlite:///{data / 'readings.db'}"}),
            "state": base.state.model_copy(update={"path": data / "state.db"}),
            "ingest": base.ingest.model_copy(update={"spool_path": data / "spool"}),
            "api": base.api.model_copy(
                update={
                    "bind": bind,
                    "tokens": [
                        ApiToken.model_validate({"role": r, "token": t, "name": DEMO_NAMES[r]})
                        for r, t in tokens.items()
                    ],
                }
            ),
            # simulated hours pass in wall seconds: remind twice a simulated day, not every minute
            "alerts": base.alerts.model_copy(
                update={"repeat_s": 12 * 3600.0, "saltfront_s": 15.0, "forecast_s": 30.0}
            ),
        }
    )


def run_demo(
    options: DemoOptions,
    base: Settings,
    registry: Registry,
    echo: Callable[[str], None],
    stop: threading.Event,
) -> None:
    """Start everything, print where to look, run until ``stop``, then stop it all in order."""
    from saltwatch.storage.factory import open_reading_store  # noqa: PLC0415
    from saltwatch.wiring import ingest_service  # noqa: PLC0415

    if options.scenario not in SCENARIOS:
        raise ConfigError(f"no scenario {options.scenario!r}: choose one of {', '.join(SCENARIOS)}")
    data = options.data.resolve()
    state, fresh = open_folder(data, options)
    tokens: dict[str, str] = state["tokens"]
    start_ns: int = state["clock_ns"]
    devices = list(registry.devices.values())
    cloud = vendor_cloud()  # a buoy vendor's cloud, polled like a real one
    sources = demo_sources(cloud.url)
    broker, files, by_device = broker_with_logins(data, devices, base, sources, options.mqtt_port)
    backend = "{}:{}@".format(*by_device[BACKEND_USER])
    settings = demo_settings(
        base, data, broker.url.replace("://", f"://{backend}"), tokens, options.bind
    ).model_copy(update={"sources": sources})

    store = open_reading_store(settings.store)
    start_s = start_ns / NS_PER_S
    history_s = options.history_days * 86400 if fresh else 0.0
    sim_config = SimConfig(
        SCENARIOS[options.scenario], options.seed, None, FaultRates(), settings.mqtt.topic_prefix
    )
    fleet = Fleet(registry, sim_config, devices)
    # an hour per chunk: a day of 92 devices takes seconds to compute, and Ctrl-C waits for it
    messages = fleet.messages(start_s - history_s, start_s + 3650 * 86400, chunk_s=3600)
    statuses: list[Message] = []
    if history_s:
        echo(f"writing {options.history_days:g} days of history before {_day(start_ns)}…")
        statuses = write_history(
            messages, start_ns, history_s, registry, store, settings, sim_config, echo
        )
    if fresh:
        plan_sample_opening(settings.state.path, start_ns)
    broker.start()
    router = Router(broker.url, by_device[NETWORK_SERVER_PREFIX + "chirpstack"], cloud)
    router.start()
    clock = ScaledClock(start_ns, options.speed)
    sim = LiveSim(
        SimPublisher(broker.url, devices, settings.mqtt.topic_prefix, by_device),
        router.route(itertools.chain(statuses, messages)),
        clock,
        stop,
    )

    def ready() -> None:
        sim.start()
        code = phone_code(settings.state.path)
        echo(banner(options, clock.now_ns(), tokens, broker.url, files["csv"], data, code))

    service = ingest_service(settings, registry, store, clock=clock, history=store)
    try:
        run_with_alerts(
            settings,
            registry,
            service,
            store,
            api_ingest=service,
            with_api=True,
            clock=clock,
            stop=stop,
            on_ready=ready,
        )
    finally:
        stop.set()
        sim.join(5)
        state["clock_ns"] = clock.now_ns()
        save_state(data, state)
        router.stop()
        cloud.stop()
        broker.stop()
        store.close()
        echo(f"stopped at {_day(clock.now_ns())} (simulated); data kept in {data}")


class LiveSim:
    """The simulator's thread: publishes in step with the demo's clock until ``stop``."""

    def __init__(
        self,
        publisher: SimPublisher,
        messages: Iterator[Message],
        clock: ScaledClock,
        stop: threading.Event,
    ) -> None:
        self._publisher = publisher
        self._messages = messages
        self._clock = clock
        self._stop = stop
        self._thread = threading.Thread(target=self._run, name="simulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        try:
            self._publisher.connect()
            live = itertools.takewhile(lambda _: not self._stop.is_set(), self._messages)
            now_s = self._clock.now_ns() / NS_PER_S
            self._publisher.publish(live, now_s, float("inf"), self._clock.rate, None, 2.0)
        except TimeoutError:
            log.info("the simulator stopped with messages unacknowledged (a demo loses them)")
        except Exception:
            log.exception("the simulator stopped")
        finally:
            self._publisher.close()


def plan_sample_opening(state: Path, start_ns: int) -> None:
    """A first planned opening to see in the demo's first minutes: cống Xuân Hòa, the next
    morning 06:00–09:00 (Vietnam time), planned by the demo's operator."""
    local = to_datetime(start_ns, VN_TZ)
    morning = (local + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)
    begin = from_datetime(morning)
    book = SqliteSchedules(state)
    try:
        book.add(
            Opening(
                "0demo0000001",
                "cong-xuan-hoa",
                begin,
                begin + 3 * 3600 * NS_PER_S,
                DEMO_NAMES["operator"],
                "lịch mẫu của bản trình diễn",
            )
        )
    finally:
        book.close()


def phone_code(state: Path) -> str:
    """A one-time sign-in code for the operator's phone, for an hour of real time (the banner's
    link on the network: nobody types a token on a phone)."""
    signins = SqliteSignIns(state)
    try:
        code = new_code()
        signins.add("code", digest(code), Principal(DEMO_NAMES["operator"], "operator"), 3600)
        return code
    finally:
        signins.close()


def banner(
    options: DemoOptions,
    now_ns: int,
    tokens: dict[str, str],
    broker: str,
    logins: Path,
    data: Path,
    code: str = "",
) -> str:
    host, _, port = options.bind.rpartition(":")
    site = f"http://{host if host not in ('', '0.0.0.0', '[::]') else '127.0.0.1'}:{port}"  # noqa: S104
    return (
        f"\nSaltWatch demo: the {options.scenario} dry season from {_day(now_ns)}, "
        f"{options.speed:g}x real time ({options.speed / 60:g} simulated minutes a second)\n"
        f"  dashboard       {site}/#token={tokens['operator']}\n"
        + "".join(f"{line}\n" for line in reach_lines(options.bind, f"/#code={code}"))
        + f"  API             {site}/docs\n"
        f"  viewer token    {tokens['viewer']}\n"
        f"  operator token  {tokens['operator']}\n"
        f"  MQTT broker     {broker} (embedded; device logins in {logins})\n"
        f"  data folder     {data} (run again to continue, --reset to start over)\n"
        "Ctrl-C stops.\n"
    )


def _day(ts_ns: int) -> str:
    return to_rfc3339(ts_ns, VN_TZ)[:16].replace("T", " ")
