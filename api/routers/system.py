"""/health, /metrics and the dashboard's words: no token (bind /metrics to a private interface in
production)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from saltwatch.api.deps import Context, Ingest
from saltwatch.api.schemas import Health, SourceHealth
from saltwatch.core.catalogue import Lang, catalogue
from saltwatch.core.timeutil import VN_TZ, to_rfc3339

router = APIRouter(tags=["system"])


@router.get("/health", response_model=Health, summary="Store and broker reachability")
def health(ctx: Context, ingest: Ingest) -> Health:
    store_ok = ctx.store.ping()
    broker = ingest.broker_connected()
    quarantined = ingest.quarantined()
    saving = ctx.alerts.unsaved_since() is None
    disk_full = ingest.spool_disk_full()
    sources = [
        SourceHealth(name=s.name, lag_s=s.lag_s, stale=s.stale, failing=s.failing)
        for s in ingest.sources()
    ]
    fresh = not any(s.stale for s in sources)
    ok = store_ok and broker is not False and not quarantined and saving and not disk_full
    ok = ok and fresh
    return Health(
        status="ok" if ok else "degraded",
        store=store_ok,
        broker=broker,
        now=to_rfc3339(ctx.clock.now_ns(), VN_TZ),
        clock_rate=float(getattr(ctx.clock, "rate", 1.0)),
        quarantined=quarantined,
        alert_state_saved=saving,
        alert_changes_waiting=ctx.alerts.waiting(),
        spool_disk_full=disk_full,
        sources=sources,
    )


@router.get("/metrics", summary="Prometheus metrics: ingest, alerts, API", response_class=Response)
def metrics(request: Request) -> Response:
    registries = [*request.app.state.ctx.metrics, request.app.state.api_metrics.registry]
    body = b"".join(generate_latest(r) for r in registries)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/api/v1/text/{lang}",
    summary="The dashboard's words in one language, from the catalogue the alert messages and "
    "bulletins share (config/text/<lang>.toml). No token: the sign-in page needs them",
    response_model=dict[str, Any],
)
def text(lang: Lang) -> dict[str, Any]:
    words: dict[str, Any] = catalogue(lang)["dashboard"]
    return words
