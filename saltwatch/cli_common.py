"""What every ``saltwatch`` command shares: the --config option, reading the settings and the
registry with a clear error and exit code 2, and exit code 1 for a refusal to mend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from saltwatch.core.errors import ConfigError
from saltwatch.core.registry import Registry, load_registry
from saltwatch.core.settings import Settings, load_settings

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="TOML settings file; SALTWATCH_* variables override it."),
]
BrokerConfig = Annotated[
    Path | None, typer.Option(help="mosquitto.conf: is its message size limit below ingest's?")
]


def settings_of(config: Path | None) -> Settings:
    try:
        return load_settings(config)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@contextmanager
def exit_1_on(*kinds: type[Exception]) -> Iterator[None]:
    """A refusal the operator must mend (bad login, broker gone for good): said, exit 1."""
    try:
        yield
    except kinds as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def registry_of(settings: Settings) -> Registry:
    try:
        return load_registry(settings.registry.path)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
