"""Wiring of the documents service."""

from __future__ import annotations

import asyncio
from pathlib import Path

from faststream.nats import NatsBroker

from services.documents import api, handlers, store
from services.documents.render import PdfRenderer
from shared.db import Messaging, make_engine, run_migrations
from shared.runtime import ServiceParts, consumer_for
from shared.settings import Settings
from shared.web import templates

NAME = "documents"
HERE = Path(__file__).parent


def migrate(settings: Settings) -> None:
    run_migrations(settings.database_url, schema=store.SCHEMA, migrations=HERE / "migrations")


def build(settings: Settings, broker: NatsBroker) -> ServiceParts:
    # No ping per checkout (three a scan): the consumer and the outbox relay wait at the
    # database gate and retry; a download that meets a connection PostgreSQL dropped gets the
    # 503 of an outage once, and the pool is renewed.
    engine = make_engine(settings.database_url, pre_ping=False)
    messaging = Messaging(store.metadata, service=NAME, namespace=settings.bus_namespace)
    renderer = _StartedWhenReady(PdfRenderer(workers=settings.document_workers))

    return ServiceParts(
        name=NAME, engine=engine, messaging=messaging,
        nats=handlers.build_router(consumer_for(engine, messaging, broker, settings),
                                   renderer=renderer, env=templates(HERE)),
        http=api.build_router(engine=engine), on_ready=renderer.start, on_stop=renderer.stop,
    )


class _StartedWhenReady:
    """The PDF renderer, whose workers start once the process is ready: their imports and first
    render take seconds of CPU that the start-up would otherwise share. A report due before
    then waits for them."""

    def __init__(self, renderer: PdfRenderer) -> None:
        self.renderer = renderer
        self.workers = renderer.workers
        self.started = asyncio.Event()

    async def start(self) -> None:
        await self.renderer.start()
        self.started.set()

    async def render(self, html: str) -> bytes:
        await self.started.wait()
        return await self.renderer.render(html)

    async def stop(self) -> None:
        await self.renderer.stop()
