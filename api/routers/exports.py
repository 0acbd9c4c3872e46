"""Spreadsheets for the district's reports: alerts and a station's readings as CSV, streamed page
by page from the store, UTF-8 with a byte-order mark so that spreadsheet programs show Vietnamese
(Xã Tân Đông, Cống Xuân Hòa) as written."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response, StreamingResponse

from saltwatch.api.auth import AUTH_RESPONSES, Viewer
from saltwatch.api.context import ctx_of
from saltwatch.api.convert import alert_out, moment_query, station_range
from saltwatch.api.routers.alerts import AlertFilters
from saltwatch.core.errors import BadInputError
from saltwatch.core.schema import measurement_for
from saltwatch.core.timeutil import VN_TZ, parse_duration, to_rfc3339
from saltwatch.core.topics import TopicKind

router = APIRouter(prefix="/api/v1", tags=["exports"], responses=AUTH_RESPONSES)
BOM = "\ufeff"
PAGE = 500
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "CSV, UTF-8 with BOM, a header row (or, with style=xlsx, a workbook)",
        "content": {"text/csv": {}, XLSX: {"schema": {"type": "string", "format": "binary"}}},
    }
}
ALERT_COLUMNS: list[object] = [
    "id", "started_at", "updated_at", "resolved_at", "state", "severity", "kind", "rule",
    "zone", "zone_name", "device", "value", "threshold", "unit", "acked_by", "message_vi",
    "message_en", "group",
]  # fmt: skip


#: how the file is written: ``intl`` commas between fields and decimal points, times in RFC 3339;
#: ``vi`` as a spreadsheet set to Vietnamese reads it (a semicolon between fields, a decimal
#: comma, times as 2024-03-12 14:00:00 in Vietnam time), so numbers are numbers, not text
Style = Annotated[
    Literal["intl", "vi", "xlsx"],
    Query(description="intl: `,` and decimal points; vi: `;` and decimal commas, for a "
          "spreadsheet in Vietnamese; xlsx: an Excel workbook (numbers and dates as such, in "
          "every locale)"),
]  # fmt: skip


def _cell(value: object, vi: bool) -> object:
    if value is None:
        return ""
    if vi and isinstance(value, float):
        return repr(value).replace(".", ",")
    if vi and isinstance(value, str) and _RFC3339.fullmatch(value):
        return value[:19].replace("T", " ")
    return value


_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?[+-]\d\d:\d\d")


def _xlsx(rows: Iterable[list[object]], filename: str) -> Response:
    """One sheet, its header row bold, times as real dates (Vietnam time), numbers as numbers."""
    from openpyxl import Workbook  # noqa: PLC0415 - only when asked for
    from openpyxl.cell import WriteOnlyCell  # noqa: PLC0415
    from openpyxl.styles import Font  # noqa: PLC0415

    book = Workbook(write_only=True)
    sheet = book.create_sheet("SaltWatch")
    for i, row in enumerate(rows):
        cells: list[object] = []
        for value in row:
            if isinstance(value, str) and _RFC3339.fullmatch(value):
                cell = WriteOnlyCell(sheet, datetime.fromisoformat(value).replace(tzinfo=None))
                cell.number_format = "dd/mm/yyyy hh:mm"
            else:
                cell = WriteOnlyCell(sheet, value)
            if i == 0:
                cell.font = Font(bold=True)
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    name = filename.removesuffix(".csv") + ".xlsx"
    return Response(
        out.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def _csv(
    rows: Iterable[list[object]], filename: str, style: str = "intl"
) -> StreamingResponse | Response:
    if style == "xlsx":
        return _xlsx(rows, filename)
    vi = style == "vi"

    def lines() -> Iterator[str]:
        yield BOM
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=";" if vi else ",", lineterminator="\r\n")
        for row in rows:
            writer.writerow([_cell(v, vi) for v in row])
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get(
    "/alerts.csv",
    summary="Alerts as CSV (the filters of GET /alerts, every match, any age), streamed",
    responses=CSV_RESPONSE,
    response_class=StreamingResponse,
)
def alerts_csv(
    request: Request, _: Viewer, filters: AlertFilters, style: Style = "intl"
) -> Response:
    ctx = ctx_of(request)
    first, _total = ctx.state.query(replace(filters, offset=0, limit=PAGE))  # unreachable: 503

    def rows() -> Iterator[list[object]]:
        yield ALERT_COLUMNS
        offset, items = 0, first
        while True:
            if offset:
                items, _total = ctx.state.query(replace(filters, offset=offset, limit=PAGE))
            for alert in items:
                out = alert_out(alert, ctx.registry).model_dump()
                yield [out[str(c)] for c in ALERT_COLUMNS]
            if len(items) < PAGE:
                return
            offset += PAGE

    return _csv(rows(), "saltwatch-alerts.csv", style)


@router.get(
    "/stations/{station}/readings.csv",
    summary="A station's readings, or min/mean/max/count per `every`, as CSV, streamed",
    responses={**CSV_RESPONSE, 404: {"description": "no such salinity station"}},
    response_class=StreamingResponse,
)
def readings_csv(
    request: Request,
    _: Viewer,
    station: str,
    start: Annotated[str | None, moment_query("default: 7 days before end")] = None,
    end: Annotated[str | None, moment_query("default: now")] = None,
    every: Annotated[str | None, Query(description="bucket width: 15m, 1h, 1d…")] = None,
    style: Style = "intl",
) -> Response:
    ctx = ctx_of(request)
    start_ns, end_ns = station_range(ctx, station, start, end, 7 * 86_400)
    if every is not None:
        try:
            every_s = parse_duration(every)
        except BadInputError as exc:
            raise HTTPException(422, f"every: {exc}") from None
        buckets = ctx.store.aggregate(
            TopicKind.SALINITY, station, "salinity_ppt", start_ns, end_ns, every_s
        )
        header: list[object] = ["time", "min_ppt", "mean_ppt", "max_ppt", "count"]
        rows = [[to_rfc3339(b.start_ns, VN_TZ), b.min, b.mean, b.max, b.count] for b in buckets]
        return _csv([header, *rows], f"{station}-{every}.csv", style)
    fields = [f for f in measurement_for(TopicKind.SALINITY).fields if f != "qc"]
    first = ctx.store.query(TopicKind.SALINITY, station, start_ns, end_ns, PAGE)  # else a 503

    def readings() -> Iterator[list[object]]:
        yield ["time", *fields, "qc"]
        page = first
        while True:
            for r in page:
                yield [to_rfc3339(r.ts_ns, VN_TZ), *(r.fields.get(f) for f in fields), r.qc]
            if len(page) < PAGE:
                return
            page = ctx.store.query(TopicKind.SALINITY, station, page[-1].ts_ns + 1, end_ns, PAGE)

    return _csv(readings(), f"{station}.csv", style)
