"""Fixtures every test level shares. Servers come from ``tests.servers``; nothing starts
unless a test asks for it, so the unit tests need no server at all."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest

from services.cli import SERVICES
from services.invitations.app import seed_demo
from shared.embedded import free_port
from shared.mail import MailSink, mailbox_router
from shared.runtime import build_app, make_broker
from shared.settings import Settings

pytest_plugins = ["tests.servers"]

ADMIN = {"email": "beheer@voorbeeldstad.example", "password": "correct horse battery staple"}
OTHER_ADMIN = {"email": "beheer@anderstad.example", "password": "another long password"}
TEST_SECRET = "Vq3x9TnH2kLm8RbW5ZyC7dFgJ4sPaE6u-tests-only"


@pytest.fixture
def mail_sink(tmp_path):  # noqa: ANN201
    sink = MailSink(tmp_path / "mail", port=free_port()).start()
    yield sink
    sink.stop()


@pytest.fixture
def settings(nats_url: str, database_url: str, namespace: str, mail_sink: MailSink) -> Settings:
    return Settings(
        nats_url=nats_url, database_url=database_url, bus_namespace=namespace,
        secret_key=TEST_SECRET, smtp_host="127.0.0.1", smtp_port=mail_sink.port,
        base_url="http://testserver", max_deliveries=3, ack_wait=3,
        mailbox_dir=str(mail_sink.folder),
        # Tests poll a new link until responses has learnt of it, each miss a "guess".
        link_guesses_per_minute=10_000,
    )


@dataclass
class Stack:
    settings: Settings
    client: httpx.AsyncClient
    sink: MailSink
    app: object

    def new_client(self) -> httpx.AsyncClient:
        """Another browser: its own cookies, same server."""
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app),
                                 base_url="http://testserver")


async def migrate_and_seed(settings: Settings) -> None:
    for module in SERVICES.values():
        await asyncio.to_thread(module.migrate, settings)
    for admin in (ADMIN, OTHER_ADMIN):
        await seed_demo(settings, **admin)


@pytest.fixture
async def stack(settings: Settings, mail_sink: MailSink):  # noqa: ANN201
    """All four services in this process, as ``iso20400 up`` runs them, reached over ASGI."""
    await migrate_and_seed(settings)
    broker = make_broker(settings)
    app = build_app(settings, broker, [m.build(settings, broker) for m in SERVICES.values()],
                    extra=lambda a: a.include_router(mailbox_router(mail_sink)))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield Stack(settings=settings, client=client, sink=mail_sink, app=app)


@pytest.fixture
async def processes(settings: Settings, tmp_path):  # noqa: ANN201
    """The four services as separate processes against one NATS and one PostgreSQL."""
    from tests.processes import NAMES, ServiceProcesses

    await migrate_and_seed(settings)
    procs = ServiceProcesses(settings, tmp_path)
    try:
        for name in NAMES:
            procs.start(name, wait=False)
        for name in NAMES:
            await asyncio.to_thread(procs.wait_healthy, name)
        yield procs
    finally:
        procs.stop_all()
