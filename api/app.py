"""The FastAPI application factory."""

from __future__ import annotations

import logging
from importlib import resources
from pathlib import Path

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles

from saltwatch.api.context import ApiContext
from saltwatch.api.headers import SecurityHeadersMiddleware
from saltwatch.api.limits import BodyLimitMiddleware
from saltwatch.api.metrics import ApiMetrics, LatencyMiddleware
from saltwatch.api.routers import (
    alerts,
    analytics,
    bulletins,
    devices,
    exports,
    handheld,
    imports,
    operations,
    outlook,
    schedules,
    signin,
    structures,
    system,
)
from saltwatch.core.errors import BadInputError, RetryableError

log = logging.getLogger(__name__)

_ALLOWED: dict[int, frozenset[str]] = {}  # per route (routes live as long as the app)


def _query_names(dependant: Dependant) -> set[str]:
    names = {p.alias for p in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """A 422 for query parameters the route does not take: a typo (``?sevrity=``) should not
    silently return everything."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not request.query_params:
        return
    allowed = _ALLOWED.get(id(route))
    if allowed is None:
        allowed = _ALLOWED[id(route)] = frozenset(_query_names(route.dependant))
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        shown = ", ".join(repr(name[:40]) for name in unknown[:5])
        raise HTTPException(422, f"unknown query parameter(s): {shown}")


RETRY_AFTER_S = 5


async def _unavailable(request: Request, exc: Exception) -> JSONResponse:
    """A store or the alert state that cannot be reached now (docs/interface.md): 503, JSON, and
    when to try again; never a plain-text 500."""
    log.warning("%s %s: %s", request.method, request.url.path, exc)
    return JSONResponse(
        {"detail": f"temporarily unavailable: {exc}"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S)},
    )


async def _bad_input(request: Request, exc: Exception) -> JSONResponse:
    """Input found wrong below the routes' own checks: the caller's error, 422 in JSON."""
    return JSONResponse({"detail": str(exc)[:300]}, status_code=422)


async def _failed(request: Request, exc: Exception) -> JSONResponse:
    """Anything else: logged with its trace, and a 500 that is still JSON."""
    log.error("%s %s failed", request.method, request.url.path, exc_info=exc)
    return JSONResponse({"detail": "internal error (logged)"}, status_code=500)


def _local_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` with its script and style from the fastapi-offline package (only
    its files: Swagger UI 5, which reads the OpenAPI 3.1 that FastAPI writes; Swagger UI 4 said
    "Unable to render this definition")."""
    assets = Path(str(resources.files("fastapi_offline") / "static"))
    app.mount("/docs-assets", StaticFiles(directory=assets), "docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="SaltWatch API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon.png",
        )


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        dependencies=[Depends(reject_unknown_query)],
        title="SaltWatch",
        version="0.1.0",
        description="Salinity, backup wells and public taps of the Mekong Delta: readings, "
        "alerts and acknowledgements. Authenticate with `Authorization: Bearer <token>`; roles "
        "viewer (read), operator (acknowledge, silence, open and close gates), admin.",
        docs_url=None,  # served below from local files: the deployments may be offline
        redoc_url=None,
    )
    app.state.ctx = ctx
    api_metrics = ApiMetrics()
    app.state.api_metrics = api_metrics
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(LatencyMiddleware, metrics=api_metrics)  # outermost: times the 413s too
    routers = (
        system,
        devices,
        operations,
        alerts,
        exports,
        analytics,
        outlook,
        bulletins,
        signin,
        structures,
        schedules,
        handheld,
        imports,
    )
    for module in routers:
        app.include_router(module.router)
    app.add_exception_handler(RetryableError, _unavailable)
    app.add_exception_handler(BadInputError, _bad_input)
    app.add_exception_handler(Exception, _failed)
    _local_docs(app)
    static = Path(str(resources.files("saltwatch.api").joinpath("static")))
    app.mount("/", StaticFiles(directory=static, html=True), name="dashboard")
    return app
