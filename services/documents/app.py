"""Wiring of the documents service."""

from __future__ import annotations

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
    engine = make_engine(settings.database_url)
    messaging = Messaging(store.metadata, service=NAME, namespace=settings.bus_namespace)
    renderer = PdfRenderer(workers=settings.document_workers)

    async def start() -> None:
        await renderer.start()

    async def stop() -> None:
        await renderer.stop()

    return ServiceParts(
        name=NAME, engine=engine, messaging=messaging,
        nats=handlers.build_router(consumer_for(engine, messaging, broker, settings),
                                   renderer=renderer, env=templates(HERE)),
        http=api.build_router(engine=engine), on_start=start, on_stop=stop,
    )
