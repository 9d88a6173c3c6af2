"""Wiring of the scoring service."""

from __future__ import annotations

from pathlib import Path

from faststream.nats import NatsBroker

from services.scoring import api, handlers, store
from shared.content import CURRENT_VERSION, content
from shared.db import Messaging, make_engine, run_migrations
from shared.runtime import ServiceParts, consumer_for
from shared.settings import Settings

NAME = "scoring"
HERE = Path(__file__).parent


def migrate(settings: Settings) -> None:
    run_migrations(settings.database_url, schema=store.SCHEMA, migrations=HERE / "migrations")


def build(settings: Settings, broker: NatsBroker) -> ServiceParts:
    # Scoring's consumers and relay all go through the gate; after a database restart its one
    # API route may answer 503 once, which a caller retries.
    engine = make_engine(settings.database_url, pre_ping=False)
    messaging = Messaging(store.metadata, service=NAME, namespace=settings.bus_namespace)

    async def start() -> None:
        # Read and checked once here, not under the lock of the first completion (which asks
        # by version, and the cache keys on the arguments as given).
        content(CURRENT_VERSION)

    return ServiceParts(
        name=NAME, engine=engine, messaging=messaging,
        nats=handlers.build_router(consumer_for(engine, messaging, broker, settings)),
        http=api.build_router(engine=engine), on_start=start,
    )
