"""``saltwatch``: the one console script. Each command is a thin composition root."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from core.errors import ConfigError, FatalError, SaltWatchError
from core.registry import Registry, load_registry
from core.settings import Settings, load_settings

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


def _registry(settings: Settings) -> Registry:
    try:
        return load_registry(settings.registry.path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def check(config: ConfigOption = None) -> None:
    """Validate settings and the registry, and say whether the store answers."""
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
    if not ok:
        raise typer.Exit(1)


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
def ingest(config: ConfigOption = None) -> None:
    """Consume device messages from MQTT and store every valid reading (at-least-once)."""
    from ingest.service import IngestService  # noqa: PLC0415 - keep --help fast
    from storage.factory import open_reading_store  # noqa: PLC0415

    settings = _settings(config)
    reg = _registry(settings)
    setup_logging()
    store = open_reading_store(settings.store)
    service = IngestService(settings, reg, store)
    stop = stop_on_signals()
    try:
        service.run(stop)
    except FatalError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()


def setup_logging(level: int = logging.INFO) -> None:
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request is noise


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT (Ctrl-C): the process then stops cleanly."""
    stop = threading.Event()

    def handler(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
    return stop


def _redact(url: str) -> str:
    scheme, sep, rest = url.partition("://")
    return f"{scheme}{sep}***@{rest.split('@', 1)[1]}" if "@" in rest else url


def main() -> None:
    try:
        app()
    except SaltWatchError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
