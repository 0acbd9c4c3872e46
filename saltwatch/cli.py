"""``saltwatch``: the one console script. Each command is a thin composition root."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path
from typing import Annotated, Literal

import typer

from saltwatch.cli_common import BrokerConfig, ConfigOption, exit_1_on, registry_of, settings_of
from saltwatch.core.errors import ConfigError, FatalError, SaltWatchError
from saltwatch.importing import import_files

app = typer.Typer(
    name="saltwatch",
    help="SaltWatch: salinity, wells and public taps of the Mekong Delta, watched over MQTT.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.command()
def check(config: ConfigOption = None, broker_config: BrokerConfig = None) -> None:
    """Validate settings and the registry; say whether the store answers, whether the spool and
    alert state folders can be written, whether the broker passes every message ingest takes."""
    from saltwatch.checks import check_setup  # noqa: PLC0415 - keep --help fast

    settings = settings_of(config)
    ok = True
    for line, good in check_setup(settings, registry_of(settings), broker_config):
        typer.echo(line, err=not good)
        ok = ok and good
    if not ok:
        raise typer.Exit(1)


@app.command()
def registry(
    config: ConfigOption = None,
    kind: Annotated[str | None, typer.Option(help="only devices of this kind")] = None,
) -> None:
    """Print the zone tree and the devices of the registry."""
    from saltwatch.checks import zone_tree  # noqa: PLC0415

    for line in zone_tree(registry_of(settings_of(config)), kind):
        typer.echo(line)


@app.command()
def ingest(
    config: ConfigOption = None,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=16,
            help="ingest processes, each handling its own devices (one per core), started and "
            "restarted by this one",
        ),
    ] = 1,
    member: Annotated[int | None, typer.Option(hidden=True)] = None,
) -> None:
    """Consume device messages from MQTT and store every valid reading (at-least-once)."""
    from saltwatch import ingest_workers as fleet  # noqa: PLC0415 - keep --help fast
    from saltwatch.runtime import setup_logging, stop_on_signals  # noqa: PLC0415
    from saltwatch.storage.factory import open_reading_store  # noqa: PLC0415
    from saltwatch.wiring import (  # noqa: PLC0415
        ingest_service,
        landed_for_alerts,
        polled_for_alerts,
    )

    settings = settings_of(config)
    reg = registry_of(settings)
    setup_logging()
    if workers > 1 and member is None:
        history = open_reading_store(settings.store)
        try:
            fleet.begin(settings, history, workers)
        finally:
            history.close()
        raise typer.Exit(fleet.Supervisor(workers, config).run())
    stop = stop_on_signals()
    settings, claims, partition = fleet.join(settings, member, stop)
    store = open_reading_store(settings.store)
    service = ingest_service(
        settings, reg, store, history=store, claims=claims, partition=partition
    )
    service.add_poll_listener(landed_for_alerts(settings))  # the engine runs elsewhere
    if partition is None or partition.member == 0:  # the process that polls
        polled_for_alerts(settings, service, stop)
    try:
        with exit_1_on(FatalError):
            service.run(stop)
    finally:
        store.close()
        if claims is not None:
            claims.close()


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
    from saltwatch.runtime import setup_logging, stop_on_signals  # noqa: PLC0415

    settings = settings_of(config)
    reg = registry_of(settings)
    setup_logging()
    options = DemoOptions(data, reset, bind, mqtt_port, speed, scenario, start, seed, history)
    with exit_1_on(FatalError, ConfigError):
        run_demo(options, settings, reg, lambda text: typer.echo(text, err=True), stop_on_signals())


@app.command()
def serve(config: ConfigOption = None) -> None:
    """Ingest, alerts and the API in one process against the configured broker and store."""
    from saltwatch.ingest_workers import as_one_process  # noqa: PLC0415
    from saltwatch.runtime import run_with_alerts, setup_logging  # noqa: PLC0415
    from saltwatch.storage.factory import open_reading_store  # noqa: PLC0415
    from saltwatch.wiring import ingest_service  # noqa: PLC0415

    settings = settings_of(config)
    reg = registry_of(settings)
    setup_logging()
    as_one_process(settings)
    store = open_reading_store(settings.store)
    try:
        with exit_1_on(FatalError):
            service = ingest_service(settings, reg, store, history=store)
            run_with_alerts(settings, reg, service, store, api_ingest=service, with_api=True)
    finally:
        store.close()


@app.command()
def alerts(config: ConfigOption = None) -> None:
    """Alerts alone: their own MQTT subscription (alerts.client_id), rules, notifications."""
    from saltwatch.runtime import run_with_alerts, setup_logging  # noqa: PLC0415
    from saltwatch.storage.factory import open_reading_store  # noqa: PLC0415
    from saltwatch.wiring import reading_feed  # noqa: PLC0415

    settings = settings_of(config)
    reg = registry_of(settings)
    setup_logging()
    store = open_reading_store(settings.store)  # read at start: windows and QC history
    try:
        feed = reading_feed(settings, reg, settings.alerts.client_id, history=store)
        with exit_1_on(FatalError):
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
    """The HTTP API and dashboard alone (acknowledging needs ``serve``: the alert engine)."""
    import uvicorn  # noqa: PLC0415

    from saltwatch.api.server import plain_http_warning  # noqa: PLC0415
    from saltwatch.api_process import CONFIG_ENV  # noqa: PLC0415
    from saltwatch.runtime import setup_logging  # noqa: PLC0415

    settings = settings_of(config)  # fail early, here, on bad settings
    registry_of(settings)
    setup_logging()
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    if warning := plain_http_warning(settings.api.bind, settings.api.tls_cert is not None):
        typer.echo(f"warning: {warning}", err=True)
    host, _, port = settings.api.bind.rpartition(":")
    uvicorn.run(
        "saltwatch.api_process:app_from_environment",
        factory=True,
        workers=workers,
        host=host.strip("[]"),
        port=int(port),
        log_level="warning",
        access_log=False,
        ssl_certfile=settings.api.tls_cert,  # HTTPS when both are given
        ssl_keyfile=settings.api.tls_key,
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
    from saltwatch.simulate import SimRequest, run_simulation  # noqa: PLC0415 - keep --help fast

    settings = settings_of(config)
    request = SimRequest(
        scenario, speed, start, end, duration, seed, devices, interval, faults, truth,
        credentials, shift_to_now,
    )  # fmt: skip
    try:
        run_simulation(request, settings, registry_of(settings), lambda t: typer.echo(t, err=True))
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


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
    from saltwatch.report import write_daily_bulletin  # noqa: PLC0415 - keep --help fast

    settings = settings_of(config)
    reg = registry_of(settings)
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
    typer.echo(write_daily_bulletin(settings, reg, when, zone, out, language))


app.command("import")(import_files)

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
    from saltwatch.credentials import issue  # noqa: PLC0415 - keep --help fast

    settings = settings_of(config)
    try:
        reg = registry_of(settings)
        shown, summary = issue(settings, reg, device or [], out, rotate, zone_reader)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    if not quiet:
        typer.echo(shown, nl=False)
    typer.echo(summary, err=True)


def main() -> None:
    try:
        app()
    except SaltWatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
