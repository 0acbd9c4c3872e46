"""``saltwatch import``: files of readings through a configured source's mapping
(ingest/importer.py), with a progress bar on the terminal and a report of rows stored, already
stored, conflicting and refused by reason."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from saltwatch.cli_common import ConfigOption, registry_of, settings_of
from saltwatch.core.clock import SystemClock
from saltwatch.core.errors import BadInputError, RetryableError
from saltwatch.core.qc import QualityControl

if TYPE_CHECKING:
    from saltwatch.ingest.importer import ImportReport

#: exit status when the store stayed away: nothing lost, run the same command again to resume
EXIT_RESUME = 75


def import_files(
    files: Annotated[list[Path], typer.Argument(help="CSV or Excel (.xlsx) files")],
    source: Annotated[str, typer.Option(help="the name of the configured source that reads them")],
    config: ConfigOption = None,
    dry_run: Annotated[
        bool, typer.Option(help="judge every row and report, write nothing")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="the reports as JSON lines")] = False,
) -> None:
    """Import readings from files (a logger's export, a spreadsheet, another agency's archive)
    through a source's mapping (docs/sources.md). Each row is judged like a device's message;
    a time the store already holds with the same values is left alone and one it holds with
    other values is reported as a conflict, never overwritten, so importing a file twice adds
    nothing. An interrupted import resumes where it stopped when run again."""
    from saltwatch.ingest.importer import Importer  # noqa: PLC0415 - keep --help fast
    from saltwatch.storage.factory import open_reading_store  # noqa: PLC0415

    settings = settings_of(config)
    registry = registry_of(settings)
    try:
        mapping = settings.source(source)
    except BadInputError as exc:
        raise typer.BadParameter(str(exc), param_hint="--source") from None
    if mapping.kind != "file":
        hint = f"source {source!r} is a {mapping.kind} source, not a file source"
        raise typer.BadParameter(hint, param_hint="--source")
    store = open_reading_store(settings.store)
    importer = Importer(
        mapping,
        registry,
        store,
        QualityControl(settings.qc.to_config()),
        SystemClock(),
        settings.state.path.parent / "imports",
        max_future_s=settings.ingest.max_future_s,
    )
    try:
        for path in files:
            bar = _Bar(path.name)
            try:
                report = importer.run(path, dry_run, bar.show)
            except BadInputError as exc:
                bar.end()
                typer.echo(f"error: {exc}", err=True)
                raise typer.Exit(1) from None
            except RetryableError as exc:
                bar.end()
                typer.echo(
                    f"error: the store stayed away ({exc}); what was stored is kept: run the"
                    " same command again to resume",
                    err=True,
                )
                raise typer.Exit(EXIT_RESUME) from None
            bar.end()
            typer.echo(json.dumps(report.as_dict()) if as_json else _described(report))
    finally:
        store.close()


class _Bar:
    """A progress bar on a terminal's stderr; elsewhere (a log) a line every 10 %."""

    def __init__(self, name: str) -> None:
        self._name = name[:40]
        self._tty = sys.stderr.isatty()
        self._started = time.monotonic()
        self._said = -1

    def show(self, done: int, total: int, rows: int) -> None:
        share = done / total if total else 1.0
        rate = rows / max(time.monotonic() - self._started, 1e-6)
        if self._tty:
            filled = int(share * 30)
            bar = "#" * filled + "-" * (30 - filled)
            line = f"\r{self._name} [{bar}] {share:4.0%} {rows:,} rows {rate:,.0f}/s"
            sys.stderr.write(line)
            sys.stderr.flush()
        elif int(share * 10) > self._said:
            self._said = int(share * 10)
            sys.stderr.write(f"{self._name}: {share:.0%}, {rows:,} rows, {rate:,.0f} rows/s\n")

    def end(self) -> None:
        if self._tty:
            sys.stderr.write("\n")


def _described(report: ImportReport) -> str:
    verb = "would store" if report.dry_run else "stored"
    lines = [
        f"{report.file} ({report.source}): {report.rows:,} rows in {report.seconds:.1f} s;"
        f" {verb} {report.stored:,}, already stored {report.already:,},"
        f" repeated in the file {report.repeated:,}, conflicts {report.conflicts:,},"
        f" refused {sum(report.refused.values()):,}"
    ]
    if report.resumed_from:
        lines.append(f"  resumed after row {report.resumed_from:,} (stored before)")
    for reason, count in report.refused.most_common():
        lines.append(f"  refused {count:,}: {reason}")
    for row, reason, detail in report.examples:
        lines.append(f"  row {row}: {reason}: {detail}")
    return "\n".join(lines)
