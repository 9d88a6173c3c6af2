"""Wiring of the responses service."""

from __future__ import annotations

from pathlib import Path

from faststream.nats import NatsBroker

from services.responses import api, handlers, store
from shared.db import Messaging, make_engine, run_migrations
from shared.ratelimit import Limit, Limiter
from shared.runtime import ServiceParts, consumer_for
from shared.settings import Settings
from shared.web import templates

NAME = "responses"
HERE = Path(__file__).parent


def migrate(settings: Settings) -> None:
    run_migrations(settings.database_url, schema=store.SCHEMA, migrations=HERE / "migrations")


def build(settings: Settings, broker: NatsBroker) -> ServiceParts:
    engine = make_engine(settings.database_url)
    messaging = Messaging(store.metadata, service=NAME, namespace=settings.bus_namespace)
    # Asked on every page: read from a mirror of its bucket kept in the process.
    guesses = Limiter(broker, namespace=settings.bus_namespace, purpose="link_guesses",
                      limit=Limit(failures=settings.link_guesses_per_minute, seconds=60),
                      replicas=settings.stream_replicas, mirrored=True)
    return ServiceParts(
        name=NAME, engine=engine, messaging=messaging,
        nats=handlers.build_router(consumer_for(engine, messaging, broker, settings)),
        http=api.build_router(engine=engine, messaging=messaging, env=templates(HERE),
                              guesses=guesses),
        on_stop=guesses.stop,
    )
