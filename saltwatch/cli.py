"""``saltwatch``: the one console script. Each command is a thin composition root."""

from __future__ import annotations

import itertools
import os
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer

from core.errors import ConfigError, FatalError, SaltWatchError
from core.registry import Registry, load_registry
from core.settings import Settings, load_settings
from saltwatch.runtime import run_with_alerts, setup_logging, stop_on_signals

if TYPE_CHECKING:
    pass

app = typer.Typer(
    name="saltwatch",
    help="SaltWatch: salinity, wells and public taps of the Mekong Delta, watched over MQTT.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML settings file; SALTWATCH_* variables override it."),
]


def _settings(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def _exit_1_on(*kinds: type[Exception]) -> Iterator[None]:
    """A refusal the operator must mend (bad login, broker gone for good): said, exit 1."""
    try:
        yield
    except kinds as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _registry(settings: Settings) -> Registry:
    try:
        return load_registry(settings.registry.path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def check(config: ConfigOption = None) -> None:
    """Validate settings and the registry; say whether the store answers and whether the spool
    and alert state folders can be written."""
    from storage.factory import open_reading_store  # noqa: PLC0415 - only this command needs it

    settings = _settings(config)
    registry = _registry(settings)
    kinds = Counter(d.kind for d in registry.devices.values())
    typer.echo(
        f"registry {registry.name!r}: {len(registry.zones)} zones, "
        f"{kinds['salinity']} salinity stations, {kinds['well']} wells, {kinds['tap']} taps"
    )
    try:
        store = open_reading_store(settings.store)
    except SaltWatchError as exc:
        typer.echo(f"store {_redact(settings.store.url)}: cannot open: {exc}", err=True)
        raise typer.Exit(1) from None
    ok = store.ping()
    store.close()
    typer.echo(f"store {_redact(settings.store.url)}: {'answers' if ok else 'DOES NOT ANSWER'}")
    for what, folder in (
        ("spool", settings.ingest.spool_path),
        ("alert state", settings.state.path.parent),
    ):
        problem = _unwritable(folder)
        typer.echo(f"{what} folder {folder}: {problem or 'writable'}", err=bool(problem))
        ok = ok and problem is None
    if not ok:
        raise typer.Exit(1)


def _unwritable(folder: Path) -> str | None:
    """Why nothing can be durably written in ``folder`` (created if missing), or None."""
    probe = folder / ".saltwatch-check"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with probe.open("wb") as f:
            f.write(b"ok")
            f.flush()
            os.fsync(f.fileno())
        probe.unlink()
    except OSError as exc:
        return f"CANNOT BE WRITTEN ({exc.strerror or exc})"
    return None


@app.command()
def registry(
    config: ConfigOption = None,
    kind: Annotated[str | None, typer.Option(help="only devices of this kind")] = None,
) -> None:
    """Print the zone tree and the devices of the registry."""
    settings = _settings(config)
    reg = _registry(settings)

    def show(zone_id: str, depth: int) -> None:
        zone = reg.zone(zone_id)
        devices = [
            d
            for d in reg.devices.values()
            if d.zone == zone_id and (kind is None or d.kind == kind)
        ]
        typer.echo(
            f"{'  ' * depth}{zone.id}  {zone.name}  [{zone.kind.value}]"
            f"{'  ' + str(len(devices)) + ' devices' if devices else ''}"
        )
        for child in (z.id for z in reg.zones.values() if z.parent == zone_id):
            show(child, depth + 1)

    for root in (z.id for z in reg.zones.values() if z.parent is None):
        show(root, 0)


@app.command()
def ingest(
    config: ConfigOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="ingest processes on one shared subscription (one per core), started and "
            "restarted by this one",
        ),
    ] = 1,
    member: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Consume device messages from MQTT and store every valid reading (at-least-once)."""
    from ingest.service import IngestService  # noqa: PLC0415 - keep --help fast
    from ingest.workers import Supervisor, member_settings, pause_with_parent  # noqa: PLC0415
    from storage.factory import open_reading_store  # noqa: PLC0415

    settings = _settings(config)
    reg = _registry(settings)
    setup_logging()
    if workers > 1 and member is None:
        raise typer.Exit(Supervisor(workers, config).run())
    stop = stop_on_signals()
    if member is not None:
        settings = member_settings(settings, member)
        pause_with_parent(stop)
    store = open_reading_store(settings.store)
    service = IngestService(settings, reg, store, history=store)
    try:
        with _exit_1_on(FatalError):
            service.run(stop)
    finally:
        store.close()


@app.command()
def demo(
    config: ConfigOption = None,
    data: Annotated[
        Path, typer.Option(help="folder for the demo's stores, logins and state")
    ] = Path("saltwatch-demo"),
    reset: Annotated[
        bool,
        typer.Option(
            "--reset/--reuse", help="start the season over, or continue where the last run stopped"
        ),
    ] = False,
    bind: Annotated[str, typer.Option(help="host:port of the API and dashboard")] = (
        "127.0.0.1:8000"
    ),
    mqtt_port: Annotated[
        int, typer.Option(min=0, max=65535, help="embedded broker's loopback port; 0: any free one")
    ] = 0,
    speed: Annotated[
        float, typer.Option(min=1, max=3600, help="simulated seconds per real second")
    ] = 120.0,
    scenario: Annotated[
        str, typer.Option(help="dry season: 2005, 2016, 2020, 2024 or mild")
    ] = "2024",
    start: Annotated[
        str, typer.Option("--from", help="simulated start (YYYY-MM-DD, Vietnam time) of a new run")
    ] = "2024-03-01",
    seed: Annotated[int, typer.Option(help="the simulator's random seed")] = 1,
    history: Annotated[
        float, typer.Option(min=0, max=60, help="days of history written before the start")
    ] = 7.0,
) -> None:
    """The whole system on this machine, nothing else needed: an embedded MQTT broker, SQLite
    stores in --data, the simulator playing a dry season in accelerated time, ingest, alerts,
    and the API with the dashboard. Prints where to look and the tokens; Ctrl-C stops."""
    from saltwatch.demo import DemoOptions, run_demo  # noqa: PLC0415

    settings = _settings(config)
    reg = _registry(settings)
    setup_logging()
    options = DemoOptions(data, reset, bind, mqtt_port, speed, scenario, start, seed, history)
    with _exit_1_on(FatalError, ConfigError):
        run_demo(options, settings, reg, lambda text: typer.echo(text, err=True), stop_on_signals())


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Ingest, alerts and the API in one process against the configured broker and store."""
    from ingest.service import IngestService  # noqa: PLC0415
    from storage.factory import open_reading_store  # noqa: PLC0415

    settings = _settings(config)
    reg = _registry(settings)
    setup_logging()
    store = open_reading_store(settings.store)
    try:
        with _exit_1_on(FatalError):
            service = IngestService(settings, reg, store, history=store)
            run_with_alerts(
                settings, reg, service, store, api_pipeline=service.pipeline, with_api=True
            )
    finally:
        store.close()


@app.command()
def alerts(config: ConfigOption = None) -> None:
    """Alerts alone: their own MQTT subscription (alerts.client_id), rules, notifications."""
    from ingest.feed import ReadingFeed  # noqa: PLC0415
    from storage.factory import open_reading_store  # noqa: PLC0415

    settings = _settings(config)
    reg = _registry(settings)
    setup_logging()
    store = open_reading_store(settings.store)  # read at start: windows and QC history
    try:
        feed = ReadingFeed(settings, reg, settings.alerts.client_id, history=store)
        with _exit_1_on(FatalError):
            run_with_alerts(settings, reg, feed, store)
    finally:
        store.close()


@app.command()
def api(
    config: ConfigOption = None,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="API processes sharing the port (uvicorn workers)")
    ] = 1,
) -> None:
    """The HTTP API and dashboard alone (reads the store and the alert state; acknowledging
    needs the process that runs the alert engine, e.g. ``saltwatch serve``)."""
    import os  # noqa: PLC0415

    import uvicorn  # noqa: PLC0415

    from api.standalone import CONFIG_ENV  # noqa: PLC0415

    settings = _settings(config)  # fail early, here, on bad settings
    _registry(settings)
    setup_logging()
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    host, _, port = settings.api.bind.rpartition(":")
    uvicorn.run(
        "api.standalone:app_from_environment",
        factory=True,
        workers=workers,
        host=host.strip("[]"),
        port=int(port),
        log_level="warning",
        access_log=False,
    )


@app.command()
def sim(
    config: ConfigOption = None,
    scenario: Annotated[
        str, typer.Option(help="dry season to play: 2005, 2016, 2020, 2024 or mild")
    ] = "2024",
    speed: Annotated[
        float | None,
        typer.Option(
            help="simulated seconds per real second (600: ten minutes a second); "
            "default 1 (real time), or as fast as the broker acknowledges with --from"
        ),
    ] = None,
    start: Annotated[
        str | None,
        typer.Option("--from", help="replay from this date (YYYY-MM-DD, Vietnam time) or time"),
    ] = None,
    end: Annotated[
        str | None, typer.Option("--to", help="replay up to (not including) this date or time")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="without --to: stop after this many simulated seconds")
    ] = None,
    seed: Annotated[int, typer.Option(help="random seed: equal seeds publish equal payloads")] = 1,
    devices: Annotated[
        int | None,
        typer.Option(
            help="simulate this many devices: fewer than the registry's, or more "
            "(clones <id>-c0001…, e.g. for load tests)"
        ),
    ] = None,
    interval: Annotated[
        str | None,
        typer.Option(
            help="one reading per device this often (e.g. 15m); "
            "default: each device's registry interval"
        ),
    ] = None,
    faults: Annotated[
        float, typer.Option(help="scale every fault rate (0: no faults, 2: twice as many)")
    ] = 1.0,
    truth: Annotated[
        Path | None, typer.Option(help="write the ground truth here, one CSV per device")
    ] = None,
    credentials: Annotated[
        Path | None, typer.Option(help="CSV device,username,password: each device logs in")
    ] = None,
    shift_to_now: Annotated[
        bool,
        typer.Option(
            help="time-stamp the season as recent data: a replay (--from --to) "
            "ends now, a paced run starts now"
        ),
    ] = False,
) -> None:
    """Simulate the registry's stations, wells and taps over MQTT (tides, seasons, faults)."""
    import time  # noqa: PLC0415

    from core.timeutil import parse_duration  # noqa: PLC0415
    from sim.faults import FaultRates  # noqa: PLC0415
    from sim.fleet import Fleet, SimConfig, select_devices  # noqa: PLC0415
    from sim.publisher import SimPublisher, load_credentials  # noqa: PLC0415
    from sim.salinity import SCENARIOS, epoch  # noqa: PLC0415

    settings = _settings(config)
    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"choose one of {', '.join(SCENARIOS)}", param_hint="--scenario")
    try:
        start_s = epoch(start) if start else time.time()
        end_s = epoch(end) if end else start_s + (duration if duration else 10 * 365 * 86400)
        step = float(parse_duration(interval)) if interval else None
    except (ValueError, SaltWatchError) as exc:
        raise typer.BadParameter(str(exc)) from None
    if end_s <= start_s:
        raise typer.BadParameter("--to must come after --from", param_hint="--to")
    if faults < 0:
        raise typer.BadParameter("must be 0 or more", param_hint="--faults")
    pace = speed if speed is not None else (None if start and end else 1.0)
    registry, chosen = select_devices(_registry(settings), devices)
    cfg = SimConfig(
        SCENARIOS[scenario],
        seed,
        step,
        FaultRates().scaled(faults),
        settings.mqtt.topic_prefix,
        ts_offset_s=_shift(shift_to_now, start_s, end_s, pace, end is not None),
    )
    fleet = Fleet(registry, cfg, chosen, keep_truth=truth is not None)
    publisher = SimPublisher(
        settings.mqtt.url,
        chosen,
        settings.mqtt.topic_prefix,
        load_credentials(credentials) if credentials else None,
        ca_file=str(settings.mqtt.ca_file) if settings.mqtt.ca_file else None,
    )
    typer.echo(
        f"simulating {len(chosen)} devices, scenario {scenario}, "
        f"{'as fast as acknowledged' if pace is None else f'speed {pace:g}'}",
        err=True,
    )
    publisher.connect()
    stop = stop_on_signals()
    try:
        messages = itertools.takewhile(lambda _: not stop.is_set(), fleet.messages(start_s, end_s))
        stats = publisher.publish(messages, start_s, end_s, pace)
    finally:
        publisher.close()
    typer.echo(
        f"published {stats.published:,} messages in {stats.seconds:.1f} s "
        f"({stats.published / max(stats.seconds, 1e-9):,.0f}/s); "
        f"valid items {sum(fleet.tally.valid_items.values()):,}, "
        f"refused {sum(fleet.tally.rejected.values()):,}",
        err=True,
    )
    if truth is not None:
        paths = fleet.write_truth(truth)
        typer.echo(f"ground truth: {len(paths)} files in {truth}", err=True)


@app.command()
def report(
    config: ConfigOption = None,
    day: Annotated[
        str | None,
        typer.Option("--date", help="the day (YYYY-MM-DD, Vietnam time); default: yesterday"),
    ] = None,
    zone: Annotated[
        str | None, typer.Option(help="a zone id (its sub-zones included); default: all")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for the HTML, Markdown and PNG")] = Path(
        "reports"
    ),
    lang: Annotated[str, typer.Option(help="vi (Vietnamese) or en (English)")] = "vi",
) -> None:
    """The daily bulletin in Vietnamese or English: stations' max and min against their levels,
    the salt front and risk level per river, wells and taps, the day's alerts, a 7-day chart."""
    import datetime as dt  # noqa: PLC0415

    from alerts.messages import firing_text  # noqa: PLC0415
    from analytics.bulletin import build  # noqa: PLC0415
    from analytics.bulletin_text import to_html, to_markdown  # noqa: PLC0415
    from core.rules import rules_in_force  # noqa: PLC0415
    from storage.alert_sqlite import AlertState  # noqa: PLC0415
    from storage.factory import open_reading_store  # noqa: PLC0415

    settings = _settings(config)
    reg = _registry(settings)
    try:
        when = (
            dt.date.fromisoformat(day)
            if day
            else dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).date() - dt.timedelta(days=1)
        )
    except ValueError:
        raise typer.BadParameter("expected YYYY-MM-DD", param_hint="--date") from None
    if zone is not None and zone not in reg.zones:
        raise typer.BadParameter(f"no zone {zone!r} in the registry", param_hint="--zone")
    if lang not in ("vi", "en"):
        raise typer.BadParameter("vi or en", param_hint="--lang")
    language: Literal["vi", "en"] = "en" if lang == "en" else "vi"
    state = AlertState(settings.state.path) if settings.state.path.exists() else None
    saved = state.saved_rules() if state else None
    rules = rules_in_force(saved, settings.alerts.rules_path)
    store = open_reading_store(settings.store)
    try:
        describe = lambda a: firing_text(a, reg, language)  # noqa: E731
        bulletin = build(store, state, reg, rules, when, zone, describe, language)
    finally:
        store.close()
        if state:
            state.close()
    out.mkdir(parents=True, exist_ok=True)
    stem = f"bulletin-{when.isoformat()}" + (f"-{zone}" if zone else "")
    stem += "-en" if language == "en" else ""
    (out / f"{stem}.png").write_bytes(bulletin.chart_png)
    markdown = to_markdown(bulletin, reg, f"{stem}.png", language)
    (out / f"{stem}.md").write_text(markdown, encoding="utf-8")
    (out / f"{stem}.html").write_text(to_html(bulletin, reg, language), encoding="utf-8")
    typer.echo(
        f"{out / stem}.html (and .md, .png): {len(bulletin.stations)} stations, "
        f"{len(bulletin.fronts)} rivers, {len(bulletin.alerts)} alerts"
    )


devices_app = typer.Typer(help="Device administration: broker credentials.", no_args_is_help=True)
app.add_typer(devices_app, name="devices")


@devices_app.command("credentials")
def devices_credentials(
    config: ConfigOption = None,
    device: Annotated[
        list[str] | None, typer.Argument(help="device ids; default: every registry device")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for devices.csv (0600), passwd and acl")] = Path(
        "secrets"
    ),
    rotate: Annotated[
        bool, typer.Option(help="new passwords for the devices named (or all), not kept ones")
    ] = False,
    quiet: Annotated[bool, typer.Option(help="do not print the CSV")] = False,
    zone_reader: Annotated[
        list[str] | None,
        typer.Option(
            help="also an account zone-<ZONE> that may read that zone's alerts only (repeatable)"
        ),
    ] = None,
) -> None:
    """Generate each device's broker password: Mosquitto's password file and ACL (each device
    may publish only below its own id), and the installers' CSV on stdout. A re-run keeps every
    existing password unless --rotate."""
    from saltwatch.credentials import (  # noqa: PLC0415
        Connections,
        csv_text,
        generate,
        load_logins,
        write_files,
    )

    settings = _settings(config)
    reg = _registry(settings)
    unknown = sorted(set(device or ()) - set(reg.devices))
    if unknown:
        raise typer.BadParameter(f"not in the registry: {', '.join(unknown[:10])}")
    zones = sorted(set(zone_reader or ()))
    if set(zones) - set(reg.zones):
        missing = ", ".join(sorted(set(zones) - set(reg.zones)))
        raise typer.BadParameter(f"no such zone: {missing}", param_hint="--zone-reader")
    chosen = [reg.devices[d] for d in device] if device else list(reg.devices.values())
    previous = load_logins(out / "devices.csv")
    if rotate and device:
        outcome = generate(chosen, previous, rotate=[d.id for d in chosen], readers=zones)
    else:
        outcome = generate(chosen, previous, rotate=rotate, readers=zones)
    connections = Connections(settings.mqtt.client_id, settings.alerts.client_id)
    paths = write_files(outcome, out, settings.mqtt.topic_prefix, connections=connections)
    if not quiet:
        shown = {d.id for d in chosen} if device else {x.device for x in outcome.logins}
        typer.echo(csv_text(x for x in outcome.logins if x.device in shown), nl=False)
    typer.echo(
        f"{len(outcome.created)} created, {len(outcome.rotated)} rotated, "
        f"{len(outcome.kept)} kept; wrote {paths['passwd']}, {paths['acl']} and {paths['csv']}",
        err=True,
    )


def _shift(enabled: bool, start_s: float, end_s: float, pace: float | None, bounded: bool) -> float:
    """How far to move payload timestamps so a past season reads as recent data: a replay ends
    now; a paced run starts now."""
    import time  # noqa: PLC0415

    if not enabled:
        return 0.0
    return time.time() - (end_s if bounded and pace is None else start_s)


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}***@{rest.split('@', 1)[1]}" if "@" in rest else url


def main() -> None:
    try:
        app()
    except SaltWatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
