"""Running services: one or all four in a process, on one broker and one ASGI app.

``iso20400 serve NAME`` and ``iso20400 up`` both come through ``build_app``, so the embedded
mode runs exactly the code that runs in production, only more of it in one process.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
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
from shared.gate import gate_for, is_unavailable
from shared.http import install_http
from shared.logs import broker_logging
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
    # Work that may wait until the process is ready (and serving) rather than delay it.
    on_ready: Callable[[], Awaitable[None]] | None = None
    relay: OutboxRelay | None = field(default=None, init=False)


# SIGTERM must end a process within seconds even while NATS is away; these bound each step.
STOP_TIMEOUT = 4.0
RECONNECT_WAIT = 1.0


class Broker(NatsBroker):
    """The one NATS connection of a process: every server in the list, reconnecting forever.

    A connection closed by anything but ``stop`` (never an outage: reconnects are unlimited)
    ends the process non-zero, for its supervisor to start it again, instead of leaving it up
    and deaf.
    """

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings.nats_servers, max_reconnect_attempts=-1, **broker_logging(),
                         reconnect_time_wait=RECONNECT_WAIT, connect_timeout=2.0,
                         closed_cb=self._closed)
        self.stopping = False
        self.lost = False

    async def stop(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        self.stopping = True
        await super().stop(*args, **kwargs)

    async def _closed(self) -> None:
        if not self.stopping:
            self.lost = True
            log.critical("the NATS connection is closed for good; exiting to be restarted")
            os.kill(os.getpid(), signal.SIGTERM)


def make_broker(settings: Settings) -> NatsBroker:
    return Broker(settings)


def consumer_for(engine: AsyncEngine, messaging: Messaging, broker: NatsBroker,
                 settings: Settings) -> Consumer:
    return Consumer(engine=engine, messaging=messaging, broker=broker,
                    namespace=settings.bus_namespace, max_deliveries=settings.max_deliveries,
                    ack_wait=settings.ack_wait, batch_size=settings.batch_size, clock=utcnow)


def build_app(settings: Settings, broker: NatsBroker, services: Sequence[ServiceParts],
              *, extra: Callable[[FastAPI], None] | None = None,
              before_consuming: Callable[[], Awaitable[None]] | None = None,
              ready: Callable[[], Awaitable[None]] | None = None) -> FastAPI:
    """The ASGI app whose lifespan runs the services.

    ``before_consuming`` is awaited once NATS is connected, before any handler or relay starts:
    ``iso20400 up`` lets its migrations finish there, while the NATS side starts meanwhile.
    The services' ``on_ready`` run in the background once the start-up is done, or once
    ``ready`` returns (``up``: when its banner is shown).
    """
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
        # One connection per service, opened while ``before_consuming`` (migrations) runs:
        # the first requests, a supervisor's health checks among them, find it in the pool.
        connecting = asyncio.gather(*(_open_a_connection(p.engine) for p in services),
                                    return_exceptions=True)  # health reports what failed
        # What start-up built (modules, tables, the scan content) lives as long as the process.
        # Frozen, it is out of the collector's reach, so a full collection walks only what
        # requests left behind instead of pausing every page for 100 ms or more. Garbage is
        # collected first so that none of it is kept for good, and all is unfrozen at the
        # end for a process (the tests) that goes on after this app. Done before consuming,
        # so that events waiting at start do not wait for this collection too.
        gc.collect()
        gc.freeze()
        if before_consuming:
            await before_consuming()
        await broker.start()
        for parts in services:
            parts.relay.start()
        log.info("services running: %s", ", ".join(p.name for p in services))
        readying = asyncio.create_task(_when_ready(services, ready))
        try:
            yield
        finally:
            readying.cancel()
            connecting.cancel()
            gc.unfreeze()
            for parts in services:
                await parts.relay.stop()
            await _stop_broker(broker)
            for parts in services:
                if parts.on_stop:
                    await parts.on_stop()
                await parts.engine.dispose()
            if getattr(broker, "lost", False):
                os._exit(1)  # stopped cleanly, but the process must not look successful

    # No /docs or /redoc: their pages load scripts from a CDN, which the CSP rightly blocks.
    # Integrators read /openapi.json.
    app = FastAPI(title="ISO 20400 Scan", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Self-assessment and implementation coach for ISO 20400")
    install(app, sessions=Sessions(settings.secret_key, secure=settings.cookie_secure,
                                   broker=broker, namespace=settings.bus_namespace,
                                   replicas=settings.stream_replicas))
    install_http(app, hsts=settings.cookie_secure)
    app.add_exception_handler(sa.exc.DBAPIError, _database_unavailable)
    app.add_exception_handler(sa.exc.TimeoutError, _database_unavailable)
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


async def _open_a_connection(engine: AsyncEngine) -> None:
    async with engine.connect():
        pass  # back into the pool, which keeps it


async def _when_ready(services: Sequence[ServiceParts],
                      ready: Callable[[], Awaitable[None]] | None) -> None:
    if ready:
        await ready()
    for parts in services:
        if parts.on_ready:
            await parts.on_ready()


async def _stop_broker(broker: NatsBroker) -> None:
    # Draining needs a connected server; during an outage it would wait or fail, so the
    # broker gets a bounded time and then the connection is simply closed.
    try:
        await asyncio.wait_for(broker.stop(), STOP_TIMEOUT)
        return
    except Exception as exc:  # noqa: BLE001 - stopping goes on regardless
        log.warning("NATS did not drain (%r); closing the connection", exc)
    connection = broker.config.connection_state.connection if broker.config else None
    if connection is not None and not connection.is_closed:
        try:
            await asyncio.wait_for(connection.close(), STOP_TIMEOUT)
        except Exception:  # noqa: BLE001
            pass


async def _database_unavailable(request, exc: Exception) -> JSONResponse:  # noqa: ANN001
    """A page or API call during a database outage: 503 and come back later, never a 500."""
    if not is_unavailable(exc):
        raise exc
    log.warning("%s %s: database unavailable", request.method, request.url.path)
    return JSONResponse({"detail": "service temporarily unavailable, try again shortly"},
                        status_code=503, headers={"Retry-After": "10"})


def _health(parts: ServiceParts, broker: NatsBroker):  # noqa: ANN202
    """Readiness: 503 with the reason while the database or NATS is away."""
    async def health() -> JSONResponse:
        checks: dict[str, bool] = {"database": False, "nats": False}
        reasons = []
        gate = gate_for(parts.engine)
        try:
            async with asyncio.timeout(3.0):
                async with parts.engine.connect() as conn:
                    await conn.execute(sa.text("SELECT 1"))
            checks["database"] = gate.is_up
        except Exception as exc:  # noqa: BLE001 - reported in the response
            reasons.append(f"database unavailable: {type(exc).__name__}")
        if not gate.is_up and gate.reason:
            reasons.append(gate.reason)
        connection = broker.config.connection_state.connection if broker.config else None
        checks["nats"] = bool(connection and connection.is_connected)
        if not checks["nats"]:
            reasons.append("NATS unavailable: reconnecting")
        ok = all(checks.values())
        body = {"service": parts.name, "ok": ok, **checks}
        if reasons:
            body["reason"] = "; ".join(dict.fromkeys(reasons))
        return JSONResponse(body, status_code=200 if ok else 503)

    return health
