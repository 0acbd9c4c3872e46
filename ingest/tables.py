"""Rows of a table file — CSV (any delimiter, any encoding) or an Excel workbook — with the
header row's names, for a source's mapping (core/batch_mapping.py)."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
from collections.abc import Iterator, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

from saltwatch.core.batch_mapping import Cells
from saltwatch.core.errors import BadInputError
from saltwatch.core.sources import SourceSettings

_EXCEL = (".xlsx", ".xlsm")
_ASCII_SUPERSETS = {"utf-8", "utf-8-sig", "ascii", "latin-1", "iso8859-1", "cp1252", "cp1258"}


class Table:
    """One file's data rows, numbered from 1 after the header, each a sequence of cells in the
    order of ``header`` (a short row lacks the last ones); ``position`` says how far the reading
    has gone in bytes (of ``size``), for a progress bar."""

    def __init__(self, path: Path, source: SourceSettings) -> None:
        if not path.is_file():
            raise BadInputError(f"no such file: {path}")
        self.path = path
        self.source = source
        self.size = path.stat().st_size
        self.position = 0
        self.header: list[str] = []
        self._plain_bytes: bool | None = None  # no quote, no bare CR (``scan``)

    def chunks(self, size: int) -> Iterator[Cells]:
        """The data rows ``size`` lines at a time, with their numbers; blank rows left out."""
        excel = self.path.suffix.lower() in _EXCEL
        number = 0
        for read in self._sheet_rows(size) if excel else self._csv_rows(size):
            count = len(read.columns[0]) if isinstance(read, Cells) else len(read)
            numbers = list(range(number + 1, number + count + 1))
            number += count
            if isinstance(read, Cells):  # lines cut at once, none of them blank
                read.numbers = numbers
                yield read
            elif read.count([]):
                kept = [i for i, line in enumerate(read) if line]
                yield Cells.of_rows([numbers[i] for i in kept], [read[i] for i in kept])
            else:
                yield Cells.of_rows(numbers, read)

    def _csv_rows(self, size: int) -> Iterator[list[Sequence[Any]] | Cells]:
        with self.path.open("rb") as raw:
            try:
                text = io.TextIOWrapper(raw, encoding=self.source.encoding, newline="")
                for _ in range(self.source.skip_lines):
                    text.readline()
                reader = csv.reader(text, delimiter=self.source.delimiter)
                self.header = [name.strip() for name in next(reader, [])]
                if not self.header:
                    raise BadInputError(f"{self.path.name}: no header row")
                if self._plain():
                    for lines in self._split(text, size):
                        self.position = raw.tell()
                        yield lines
                    return
                while lines := list(itertools.islice(reader, size)):
                    self.position = raw.tell()
                    yield lines  # type: ignore[misc]
            except UnicodeDecodeError as exc:
                raise BadInputError(
                    f"{self.path.name} is not {self.source.encoding} text (set the source's"
                    f" encoding): {exc.reason} at byte {exc.start}"
                ) from None
            except csv.Error as exc:
                raise BadInputError(f"{self.path.name}: not readable as CSV: {exc}") from None
        self.position = self.size

    def scan(self) -> str:
        """Read the file once: its content's SHA-256 (an import's cursor is keyed by it), noting
        on the way whether it is plain text for ``_plain``."""
        digest = hashlib.sha256()
        plain = True
        with self.path.open("rb") as raw:
            while block := raw.read(1 << 20):
                digest.update(block)
                if plain and (b'"' in block or block.count(b"\r") != block.count(b"\r\n")):
                    plain = False
                plain = plain and not block.endswith(b"\r")  # a CR LF split between two blocks
        self._plain_bytes = plain
        return digest.hexdigest()

    def _plain(self) -> bool:
        """Whether the CSV reader would only cut lines at the delimiter: an encoding that keeps
        ASCII as bytes, no quote anywhere, no carriage return but before a line feed."""
        if codecs.lookup(self.source.encoding).name not in _ASCII_SUPERSETS:
            return False
        if self._plain_bytes is None:
            self.scan()
        return bool(self._plain_bytes)

    def _split(self, text: io.TextIOWrapper, size: int) -> Iterator[list[Sequence[Any]] | Cells]:
        """The rest of a plain CSV (``_plain``) cut into rows ``size`` at a time, as the CSV
        reader cuts it: a blank line is an empty row. Lines that all hold as many cells as the
        header are cut at once, straight into columns (numbered by ``chunks``)."""
        delimiter, pending, carry = self.source.delimiter, [], ""
        width = len(self.header)
        while True:
            block = text.read(1 << 20)
            if block:
                lines = (carry + block).replace("\r\n", "\n").split("\n")
                carry = lines.pop()
                pending.extend(lines)
            elif carry:
                pending.append(carry)
                carry = ""
            while len(pending) >= size or (pending and not block):
                part = pending[:size]
                del pending[:size]
                if width > 1 and list(map(str.count, part, repeat(delimiter))).count(
                    width - 1
                ) == len(part):
                    cells = delimiter.join(part).split(delimiter)
                    yield Cells([], [cells[i::width] for i in range(width)])
                    continue
                rows: list[Sequence[Any]] = list(map(str.split, part, repeat(delimiter)))
                if "" in part:
                    rows = [row if line else [] for row, line in zip(rows, part, strict=True)]
                yield rows
            if not block:
                return

    def _sheet_rows(self, size: int) -> Iterator[list[Sequence[Any]]]:
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
            total, done = max(sheet.max_row or 1, 1), 0
            while lines := list(itertools.islice(cells, size)):
                done += len(lines)
                self.position = self.size * done // total
                yield [row if any(cell is not None for cell in row) else [] for row in lines]
        finally:
            book.close()
        self.position = self.size
