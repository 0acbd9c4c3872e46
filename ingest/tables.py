"""Rows of a table file — CSV (any delimiter, any encoding) or an Excel workbook — as records
keyed by the header row's names, for a source's mapping (core/mapping.py)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from saltwatch.core.errors import BadInputError
from saltwatch.core.mapping import SourceSettings

_EXCEL = (".xlsx", ".xlsm")


class Table:
    """One file's data rows, numbered from 1 after the header; ``position`` says how far the
    reading has gone in bytes (of ``size``), for a progress bar."""

    def __init__(self, path: Path, source: SourceSettings) -> None:
        if not path.is_file():
            raise BadInputError(f"no such file: {path}")
        self.path = path
        self.source = source
        self.size = path.stat().st_size
        self.position = 0
        self.header: list[str] = []

    def rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        if self.path.suffix.lower() in _EXCEL:
            yield from self._sheet_rows()
        else:
            yield from self._csv_rows()

    def _csv_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        with self.path.open("rb") as raw:
            try:
                text = io.TextIOWrapper(raw, encoding=self.source.encoding, newline="")
                for _ in range(self.source.skip_lines):
                    text.readline()
                reader = csv.reader(text, delimiter=self.source.delimiter)
                self.header = [name.strip() for name in next(reader, [])]
                if not self.header:
                    raise BadInputError(f"{self.path.name}: no header row")
                header = self.header
                for number, row in enumerate(reader, start=1):
                    if number % 4096 == 0:
                        self.position = raw.tell()
                    if row:
                        yield number, dict(zip(header, row, strict=False))
            except UnicodeDecodeError as exc:
                raise BadInputError(
                    f"{self.path.name} is not {self.source.encoding} text (set the source's"
                    f" encoding): {exc.reason} at byte {exc.start}"
                ) from None
            except csv.Error as exc:
                raise BadInputError(f"{self.path.name}: not readable as CSV: {exc}") from None
        self.position = self.size

    def _sheet_rows(self) -> Iterator[tuple[int, dict[str, Any]]]:
        import openpyxl  # noqa: PLC0415 (only for workbooks: it takes a while to import)

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many kinds for a broken file
            raise BadInputError(f"{self.path.name} is not a readable workbook: {exc}") from None
        try:
            name = self.source.sheet
            if name is not None and name not in book.sheetnames:
                raise BadInputError(f"{self.path.name} has no sheet {name!r}: {book.sheetnames}")
            sheet = book[name] if name is not None else book.worksheets[0]
            cells = sheet.iter_rows(values_only=True)
            for _ in range(self.source.skip_lines):
                next(cells, None)
            first = next(cells, None) or ()
            self.header = ["" if c is None else str(c).strip() for c in first]
            if not any(self.header):
                raise BadInputError(f"{self.path.name}: no header row")
            header = self.header
            total = max(sheet.max_row or 1, 1)
            for number, row in enumerate(cells, start=1):
                if number % 4096 == 0:
                    self.position = self.size * number // total
                if any(cell is not None for cell in row):
                    yield number, dict(zip(header, row, strict=False))
        finally:
            book.close()
        self.position = self.size
