"""The outbox relay publishes on the commit's notification, and its poll still catches what
no notification announced."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from faststream.nats import NatsBroker

from shared.bus import OutboxRelay, ensure_streams, events_stream
from shared.db import Messaging, make_engine, outbox_notify_ddl
from shared.events import QuestionnaireClosed
from tests.flows import eventually

pytestmark = pytest.mark.integration

ORG = uuid.UUID("00000000-0000-4000-8000-000000000001")
NEVER = 3600.0  # a poll interval no test outlives: what arrives came through the notification


@asynccontextmanager
async def relaying(nats_url: str, database_url: str, namespace: str, *, interval: float):
    """A service 'relayed' with a migrated outbox, its relay running and listening."""
    metadata = sa.MetaData(schema="relayed")
    messaging = Messaging(metadata, service="relayed", namespace=namespace)
    engine = make_engine(database_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS relayed"))
        await conn.run_sync(metadata.create_all)
        for statement in outbox_notify_ddl("relayed"):
            await conn.execute(sa.text(statement))
    broker = NatsBroker(nats_url)
    await broker.connect()
    js = broker.config.connection_state.stream
    await ensure_streams(js, namespace)
    relay = OutboxRelay(engine=engine, messaging=messaging, broker=broker,
                        namespace=namespace, interval=interval)
    relay.start()
    try:
        await asyncio.wait_for(relay.listening.wait(), 10)
        yield type("Relayed", (), {"engine": engine, "messaging": messaging, "relay": relay,
                                   "js": js})
    finally:
        await relay.stop()
        await broker.stop()
        await engine.dispose()


async def emit_one(r) -> uuid.UUID:  # noqa: ANN001
    event = QuestionnaireClosed(organisation_id=ORG, questionnaire_id=uuid.uuid4(),
                                closed_at=datetime.now(UTC))
    async with r.engine.begin() as conn:
        return (await r.messaging.emit(conn, event, now=datetime.now(UTC))).id


async def stored_ids(r, namespace: str) -> list[str]:  # noqa: ANN001
    info = await r.js.stream_info(events_stream(namespace))
    return [(await r.js.get_msg(events_stream(namespace), seq)).headers["Nats-Msg-Id"]
            for seq in range(1, info.state.messages + 1)]


async def test_an_event_is_published_right_after_its_commit_without_waiting_for_the_poll(
        nats_url, database_url, namespace):
    async with relaying(nats_url, database_url, namespace, interval=NEVER) as r:
        ids = [str(await emit_one(r)) for _ in range(3)]
        await eventually(lambda: _equal(stored_ids(r, namespace), ids), timeout=5,
                         interval=0.01, what="all three events, in commit order")


async def test_the_relay_listens_again_after_losing_its_connection(
        nats_url, database_url, namespace):
    async with relaying(nats_url, database_url, namespace, interval=NEVER) as r:
        async with r.engine.begin() as conn:
            await conn.execute(sa.text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query = 'LISTEN \"relayed_outbox\"' AND datname = current_database()"))
        await eventually(lambda: not r.relay.listening.is_set(), timeout=5, interval=0.01,
                         what="the relay noticing its lost connection")
        await asyncio.wait_for(r.relay.listening.wait(), 10)
        event_id = str(await emit_one(r))
        await eventually(lambda: _equal(stored_ids(r, namespace), [event_id]), timeout=5,
                         interval=0.01, what="the event published through the new connection")


async def test_a_row_no_notification_announced_is_still_published_by_the_poll(
        nats_url, database_url, namespace):
    async with relaying(nats_url, database_url, namespace, interval=0.3) as r:
        # As a notification lost with a crashed listener, or a relay that was not running.
        async with r.engine.begin() as conn:
            await conn.execute(sa.text("ALTER TABLE relayed.outbox DISABLE TRIGGER outbox_notify"))
        event_id = str(await emit_one(r))
        await eventually(lambda: _equal(stored_ids(r, namespace), [event_id]), timeout=10,
                         interval=0.05, what="the unannounced event published by the poll")
        unpublished = sa.select(sa.func.count()).select_from(r.messaging.outbox).where(
            r.messaging.outbox.c.published_at.is_(None))
        async with r.engine.connect() as conn:
            assert await conn.scalar(unpublished) == 0


async def _equal(found, expected: list[str]) -> bool:  # noqa: ANN001
    return await found == expected
