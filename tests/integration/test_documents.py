"""Documents on real NATS and PostgreSQL: a completed scan gets its report in Dutch and English,
each stored with its document.generated in one transaction with the inbox, once, and nothing of
it is committed while a render fails."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import nats
import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from services.documents import app as documents
from services.documents.render import PdfRenderer, RenderFailed
from shared.bus import events_stream
from shared.db import make_engine
from shared.dead_letters import read_dead_letters
from shared.events import ScanCompleted, encode, envelope, subject_for
from shared.runtime import build_app, make_broker
from shared.settings import Settings
from tests.flows import eventually
from tests.unit.test_report_rendering import completed

pytestmark = pytest.mark.integration
CONSUMER = "documents-render-reports"


@asynccontextmanager
async def running_documents(settings: Settings) -> AsyncIterator[tuple]:
    """The documents service alone, a JetStream client, and an engine to look at its tables."""
    await asyncio.to_thread(documents.migrate, settings)
    broker = make_broker(settings)
    app = build_app(settings, broker, [documents.build(settings, broker)])
    engine = make_engine(settings.database_url)
    async with app.router.lifespan_context(app):
        nc = await nats.connect(settings.nats_url)
        try:
            yield nc.jetstream(), engine
        finally:
            await nc.close()
            await engine.dispose()


async def publish(js, namespace: str, event: ScanCompleted, *, env=None,  # noqa: ANN001
                  msg_id: str = ""):  # noqa: ANN201
    env = env or envelope(event, source="scoring", time=datetime.now(UTC))
    await js.publish(subject_for(namespace, ScanCompleted, event.organisation_id), encode(env),
                     stream=events_stream(namespace),
                     headers={"Nats-Msg-Id": msg_id or str(env.id)})
    return env


async def rows(engine, sql: str) -> list:  # noqa: ANN001
    async with engine.connect() as conn:
        return (await conn.execute(sa.text(sql))).all()


async def settled(js, namespace: str) -> bool:  # noqa: ANN001
    info = await js.consumer_info(events_stream(namespace), CONSUMER)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_a_completed_scan_gets_both_reports_once_even_when_its_event_comes_twice(settings):
    async with running_documents(settings) as (js, engine):
        env = await publish(js, settings.bus_namespace, completed())
        stored = "SELECT language, content FROM documents.documents ORDER BY language"
        await eventually(lambda: _count(engine, stored, 2), timeout=60, what="both reports")
        # The same event again (as after a lost ack): the inbox knows it, nothing is added.
        await publish(js, settings.bus_namespace, completed(), env=env, msg_id="again")
        await eventually(lambda: settled(js, settings.bus_namespace), what="the repeat handled")

        reports = dict(await rows(engine, stored))
        generated = await rows(engine, "SELECT subject FROM documents.outbox")
        inbox = await rows(engine, f"SELECT 1 FROM documents.inbox WHERE consumer = '{CONSUMER}'")
    assert "Resultaten ISO 20400-scan" in _text(reports["nl"])
    assert "ISO 20400 scan results" in _text(reports["en"])
    assert len(generated) == 2 and all(s.endswith("document.generated") for (s,) in generated)
    assert len(inbox) == 1


class EnglishRefused(PdfRenderer):
    """Renders Dutch; refuses English ``refusals`` times (every time when None)."""

    refusals: int | None = None

    async def render(self, html: str) -> bytes:
        if '<html lang="en">' in html and (self.refusals is None or self.refusals > 0):
            if self.refusals is not None:
                EnglishRefused.refusals -= 1
            raise RenderFailed("English refused")
        return await super().render(html)


async def test_a_render_that_keeps_failing_commits_nothing_and_dead_letters_the_event(
        settings, monkeypatch):
    monkeypatch.setattr(documents, "PdfRenderer", EnglishRefused)
    monkeypatch.setattr(EnglishRefused, "refusals", None)
    async with running_documents(settings) as (js, engine):
        env = await publish(js, settings.bus_namespace, completed())

        async def dead_lettered() -> list:
            return await read_dead_letters(js, settings.bus_namespace)

        letters = await eventually(dead_lettered, timeout=30, what="the event dead-lettered")
        assert await _count(engine, "SELECT 1 FROM documents.documents", 0)
        assert await _count(engine, "SELECT 1 FROM documents.outbox", 0)
        assert await _count(engine, "SELECT 1 FROM documents.inbox", 0)
    assert [letter.consumer for letter in letters] == [CONSUMER]
    assert str(env.id).encode() in letters[0].body and "English refused" in letters[0].reason


async def test_a_render_that_fails_once_is_retried_and_stores_each_report_once(
        settings, monkeypatch):
    monkeypatch.setattr(documents, "PdfRenderer", EnglishRefused)
    monkeypatch.setattr(EnglishRefused, "refusals", 1)
    async with running_documents(settings) as (js, engine):
        await publish(js, settings.bus_namespace, completed())
        await eventually(lambda: _count(engine, "SELECT 1 FROM documents.documents", 2),
                         timeout=60, what="both reports after the retry")
        await eventually(lambda: settled(js, settings.bus_namespace), what="the event acked")
        assert await _count(engine, "SELECT 1 FROM documents.outbox", 2)
    assert EnglishRefused.refusals == 0


async def _count(engine, sql: str, expected: int) -> bool:  # noqa: ANN001
    return len(await rows(engine, sql)) == expected


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
