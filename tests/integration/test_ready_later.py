"""What a service leaves until the process is ready: documents' PDF workers start then, and a
report due before that waits for them instead of failing."""

from __future__ import annotations

import asyncio

import nats
import psutil
import pytest

from services.documents import app as documents
from shared.db import make_engine
from shared.runtime import build_app, make_broker
from tests.flows import eventually
from tests.integration.test_documents import _count, publish
from tests.unit.test_report_rendering import completed

pytestmark = pytest.mark.integration
STORED = "SELECT language FROM documents.documents"


def pdf_workers() -> list[psutil.Process]:
    return [p for p in psutil.Process().children()
            if any(part.endswith("pdf_worker.py") for part in p.cmdline())]


async def test_a_report_due_before_the_process_is_ready_is_rendered_once_it_is(settings):
    await asyncio.to_thread(documents.migrate, settings)
    broker = make_broker(settings)
    ready = asyncio.Event()
    app = build_app(settings, broker, [documents.build(settings, broker)], ready=ready.wait)
    engine = make_engine(settings.database_url)
    async with app.router.lifespan_context(app):
        nc = await nats.connect(settings.nats_url)
        try:
            await publish(nc.jetstream(), settings.bus_namespace, completed())
            await asyncio.sleep(1.0)  # time enough to be consumed, not to be rendered
            assert await _count(engine, STORED, 0)
            assert pdf_workers() == []
            ready.set()
            await eventually(lambda: _count(engine, STORED, 2), timeout=60, what="both reports")
        finally:
            await nc.close()
            await engine.dispose()
