"""Files of readings uploaded by operators (docs/sources.md §2): the body is the file, imported
through a configured file source exactly as ``saltwatch import`` does (a dry run first, if
wished), and the report is the answer; on the audit log."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field

from saltwatch.api.auth import AUTH_RESPONSES, Operator
from saltwatch.api.deps import Audit, Context, record
from saltwatch.core.errors import BadInputError
from saltwatch.core.qc import QualityControl
from saltwatch.ingest.importer import Importer, ImportReport

router = APIRouter(prefix="/api/v1", tags=["sources"], responses=AUTH_RESPONSES)


class RefusedRow(BaseModel):
    row: int
    reason: str
    detail: str


class ImportOut(BaseModel):
    file: str
    source: str
    dry_run: bool
    rows: int = Field(description="data rows read")
    stored: int = Field(description="new readings written (a dry run: that would be)")
    already_stored: int = Field(description="the store held the same values at that time")
    repeated_in_file: int
    conflicts: int = Field(description="another value for a stored time: reported, not written")
    refused: dict[str, int] = Field(description="rows refused, by reason")
    examples: list[RefusedRow] = Field(description="the first refused or conflicting rows")
    resumed_from_row: int
    seconds: float


@router.post(
    "/imports",
    summary="Import an uploaded CSV or Excel file through a file source (operator); the report",
    response_model=ImportOut,
    responses={413: {"description": "the file is over 64 MiB: use `saltwatch import`"}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/octet-stream": {"schema": {"type": "string"}}},
        }
    },
)
async def upload(
    request: Request,
    ctx: Context,
    audit: Audit,
    who: Operator,
    source: Annotated[str, Query(description="the configured file source whose mapping reads it")],
    filename: Annotated[
        str, Query(max_length=200, description="the file's name; .xlsx is read as Excel")
    ] = "upload.csv",
    dry_run: Annotated[bool, Query(description="judge and report, write nothing")] = False,
) -> ImportOut:
    try:
        mapping = ctx.settings.source(source)
    except BadInputError as exc:
        raise HTTPException(422, f"source: {exc}") from None
    if mapping.kind != "file":
        raise HTTPException(422, f"source: {source!r} is a {mapping.kind} source, not a file one")
    body = await request.body()
    if not body:
        raise HTTPException(422, "the body is the file, and it is empty")
    suffix = ".xlsx" if filename.lower().endswith((".xlsx", ".xlsm")) else ".csv"
    importer = Importer(
        mapping,
        ctx.registry,
        ctx.store,
        QualityControl(ctx.settings.qc.to_config()),
        ctx.clock,
        ctx.settings.state.path.parent / "imports",
        max_future_s=ctx.settings.ingest.max_future_s,
        patience_s=5.0,  # a person waits: a store away answers 503 soon
    )
    report = await run_in_threadpool(_run, importer, body, suffix, dry_run)
    report.file = Path(filename).name
    if not dry_run:
        detail = f"{report.file}: {report.stored} stored, {report.conflicts} conflicts"
        record(audit, ctx, who, "import", source, detail)
        ctx.cache.clear()
    return ImportOut.model_validate(report.as_dict())


def _run(importer: Importer, body: bytes, suffix: str, dry_run: bool) -> ImportReport:
    with tempfile.TemporaryDirectory(prefix="saltwatch-upload-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(body)
        return importer.run(path, dry_run)
