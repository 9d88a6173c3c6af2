"""Wiring of the invitations service."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from services.invitations import (
    api,
    api_guidance,
    api_lifecycle,
    api_login,
    api_mail,
    api_participants,
    api_respondent_import,
    api_respondents,
    handlers,
    store,
)
from services.invitations.mail_worker import MailWorker
from services.invitations.passwords import PasswordChecker
from services.invitations.usecases import Invitations
from services.invitations.usecases_lifecycle import Lifecycle, Sweeper
from services.invitations.usecases_mail import MailUseCases
from shared.csrf import LoginToken
from shared.db import Messaging, make_engine, run_migrations
from shared.mail import Mailer, MailIndex
from shared.ratelimit import Limiter
from shared.runtime import ServiceParts, consumer_for, utcnow
from shared.settings import Settings
from shared.web import templates

NAME = "invitations"
HERE = Path(__file__).parent


def migrate(settings: Settings) -> None:
    run_migrations(settings.database_url, schema=store.SCHEMA, migrations=HERE / "migrations")


def _usecases(settings: Settings, engine: AsyncEngine) -> Invitations:
    index = MailIndex(Path(settings.mailbox_dir)) if settings.mailbox_dir else None
    messaging = Messaging(store.metadata, service=NAME, namespace=settings.bus_namespace)
    mailer = Mailer(host=settings.smtp_host, port=settings.smtp_port, sender=settings.mail_from,
                    index=index)
    base_url = settings.base_url.rstrip("/")
    worker = MailWorker(engine=engine, messaging=messaging, mailer=mailer, base_url=base_url,
                        clock=utcnow)
    mail = MailUseCases(engine=engine, messaging=messaging, wake=worker.wake, base_url=base_url)
    return Invitations(engine=engine, messaging=messaging, base_url=base_url, mail=mail,
                       mail_worker=worker)


def _login_router(settings: Settings, broker: NatsBroker, engine: AsyncEngine) -> APIRouter:
    def limiter(purpose: str, limit) -> Limiter:  # noqa: ANN001
        return Limiter(broker, namespace=settings.bus_namespace, purpose=purpose, limit=limit,
                       replicas=settings.stream_replicas)

    return api_login.build_router(
        engine=engine, env=templates(HERE), passwords=PasswordChecker(),
        guard=api_login.LoginGuard(accounts=limiter("login_accounts", api_login.ACCOUNT_LIMIT),
                                   addresses=limiter("login_addresses",
                                                     api_login.ADDRESS_LIMIT)),
        login_token=LoginToken(secure=settings.cookie_secure),
    )


def build(settings: Settings, broker: NatsBroker) -> ServiceParts:
    engine = make_engine(settings.database_url)
    uc = _usecases(settings, engine)
    http = APIRouter()
    http.include_router(_login_router(settings, broker, engine))
    pages = templates(HERE)  # one for all routers: the mail pages add the status helper
    http.include_router(api.build_router(uc, pages))
    http.include_router(api_mail.build_router(uc.mail, pages))
    http.include_router(api_guidance.build_router(uc, pages))
    # Before the list's routes: /admin/respondents/import is not a respondent's id.
    http.include_router(api_respondent_import.build_router(engine, pages))
    http.include_router(api_respondents.build_router(engine, pages))
    http.include_router(api_participants.build_router(uc, pages))
    lifecycle = Lifecycle(engine=engine, messaging=uc.messaging)
    http.include_router(api_lifecycle.build_router(uc, lifecycle, pages))
    sweeper = Sweeper(lifecycle, interval=settings.sweep_interval, clock=utcnow)

    # Both loops start once migrations have run (on_ready): `up` migrates while the service
    # starts, and a first sweep or claim must find the tables.
    async def start() -> None:
        await sweeper.start()
        await uc.mail_worker.start()

    async def stop() -> None:
        await sweeper.stop()
        await uc.mail_worker.stop()

    return ServiceParts(
        name=NAME, engine=engine, messaging=uc.messaging,
        nats=handlers.build_router(consumer_for(engine, uc.messaging, broker, settings)),
        http=http, on_ready=start, on_stop=stop,
    )


async def seed_demo(settings: Settings, *, email: str, password: str) -> bool:
    """Create the demo organisation and admin on first start."""
    engine = make_engine(settings.database_url, pool_size=1)
    try:
        return await _usecases(settings, engine).seed_demo(email=email, password=password,
                                                           now=utcnow())
    finally:
        await engine.dispose()
