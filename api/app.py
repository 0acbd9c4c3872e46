"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI

from api.context import ApiContext
from api.routers import alerts, devices, operations, system


def create_app(ctx: ApiContext) -> FastAPI:
    app = FastAPI(
        title="SaltWatch",
        version="0.1.0",
        description="Salinity, backup wells and public taps of the Mekong Delta: readings, "
        "alerts and acknowledgements. Authenticate with `Authorization: Bearer <token>`; roles "
        "viewer (read), operator (acknowledge, silence), admin.",
    )
    app.state.ctx = ctx
    for module in (system, devices, operations, alerts):
        app.include_router(module.router)
    return app
