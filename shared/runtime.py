"""Running services: one or all four in a process, on one broker and one ASGI app.

``iso20400 serve NAME`` and ``iso20400 up`` both come through ``build_app``, so the embedded
mode runs exactly the code that runs in production, only more of it in one process.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from faststream.nats import NatsBroker, NatsRouter
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.bus import Consumer, OutboxRelay, ensure_streams
from shared.db import Messaging
from shared.http import install_http
from shared.settings import Settings
from shared.web import Sessions, install

log = logging.getLogger("iso20400")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ServiceParts:
    """What a service contributes to a running process."""

    name: str
    engine: AsyncEngine
    messaging: Messaging
    nats: NatsRouter
    http: APIRouter
    on_start: Callable[[], Awaitable[None]] | None = None
    on_stop: Callable[[], Awaitable[None]] | None = None
    relay: OutboxRelay | None = field(default=None, init=False)


def consumer_for(engine: AsyncEngine, messaging: Messaging, broker: NatsBroker,
                 settings: Settings) -> Consumer:
    return Consumer(engine=engine, messaging=messaging, broker=broker,
                    namespace=settings.bus_namespace, max_deliveries=settings.max_deliveries,
                    ack_wait=settings.ack_wait, clock=utcnow)


def build_app(settings: Settings, broker: NatsBroker, services: Sequence[ServiceParts],
              *, extra: Callable[[FastAPI], None] | None = None) -> FastAPI:
    for parts in services:
        broker.include_router(parts.nats)
        parts.relay = OutboxRelay(engine=parts.engine, messaging=parts.messaging, broker=broker,
                                  namespace=settings.bus_namespace,
                                  interval=settings.relay_interval)

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        await broker.connect()
        await ensure_streams(broker.config.connection_state.stream, settings.bus_namespace,
                             replicas=settings.stream_replicas)
        for parts in services:
            if parts.on_start:
                await parts.on_start()
        await broker.start()
        for parts in services:
            parts.relay.start()
        log.info("services running: %s", ", ".join(p.name for p in services))
        try:
            yield
        finally:
            for parts in services:
                await parts.relay.stop()
            await broker.stop()
            for parts in services:
                if parts.on_stop:
                    await parts.on_stop()
                await parts.engine.dispose()

    # No /docs or /redoc: their pages load scripts from a CDN, which the CSP rightly blocks.
    # Integrators read /openapi.json.
    app = FastAPI(title="ISO 20400 Scan", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Self-assessment and implementation coach for ISO 20400")
    install(app, sessions=Sessions(settings.secret_key, secure=settings.cookie_secure))
    install_http(app, hsts=settings.cookie_secure)
    for parts in services:  # before the services' routes, which may have catch-all paths
        app.add_api_route(f"/{parts.name}/health", _health(parts, broker), methods=["GET"],
                          tags=["health"], name=f"{parts.name}-health")
    for parts in services:
        app.include_router(parts.http)
    if any(p.name == "invitations" for p in services):
        app.add_api_route("/", lambda: RedirectResponse("/admin", status_code=303),
                          include_in_schema=False)
    if extra:
        extra(app)
    return app


def _health(parts: ServiceParts, broker: NatsBroker):  # noqa: ANN202
    async def health() -> JSONResponse:
        checks = {"database": False, "nats": False}
        try:
            async with parts.engine.connect() as conn:
                await conn.execute(sa.text("SELECT 1"))
            checks["database"] = True
        except Exception:  # noqa: BLE001 - reported in the response
            log.exception("health check: database")
        connection = broker.config.connection_state.connection if broker.config else None
        checks["nats"] = bool(connection and connection.is_connected)
        ok = all(checks.values())
        return JSONResponse({"service": parts.name, "ok": ok, **checks},
                            status_code=200 if ok else 503)

    return health
