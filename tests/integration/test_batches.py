"""Batch consumers on a real NATS and PostgreSQL: the guarantees hold per message when many
are handled in one transaction."""

from __future__ import annotations

import asyncio
import json
import secrets
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import nats
import pytest
import sqlalchemy as sa
from faststream.nats import NatsBroker, NatsRouter

from services.scoring import app as scoring
from services.scoring import store
from shared.bus import (
    DEAD_REASON,
    Consumer,
    dead_letter_stream,
    ensure_streams,
    events_stream,
    subscribe_batch,
)
from shared.content import Answer
from shared.db import make_engine
from shared.events import (
    QuestionnaireClosed,
    ScanCompleted,
    encode,
    envelope,
    subject_for,
)
from shared.runtime import build_app
from shared.settings import Settings
from tests.flows import eventually
from tests.probe_service import probe_tables
from tests.scans import submitted_scan

pytestmark = pytest.mark.integration

ORG = uuid.UUID("00000000-0000-4000-8000-000000000002")


def body_of(event) -> bytes:  # noqa: ANN001
    return encode(envelope(event, source="test", time=datetime.now(UTC)))


async def publish(nats_url: str, namespace: str, bodies: list[tuple[type, bytes]]) -> None:
    """Put events on the stream before any consumer runs, so that they arrive as one batch."""
    nc = await nats.connect(nats_url)
    js = nc.jetstream()
    await ensure_streams(js, namespace)
    for event_type, body in bodies:
        await js.publish(subject_for(namespace, event_type, ORG), body,
                         stream=events_stream(namespace),
                         headers={"Nats-Msg-Id": str(uuid.uuid4())})
    await nc.close()


@asynccontextmanager
async def batch_probe(nats_url: str, database_url: str, namespace: str, *,
                      fail_for: set[uuid.UUID] = frozenset()):
    """A service 'probe' whose one batch consumer records each questionnaire it is told about,
    and fails every batch that holds one of ``fail_for``."""
    engine, messaging, effects = await probe_tables(database_url, namespace)
    batches: list[int] = []

    async def record(conn, events) -> None:  # noqa: ANN001
        batches.append(len(events))
        await conn.execute(effects.insert(), [{"questionnaire_id": e.questionnaire_id}
                                              for e, _ in events])
        if any(e.questionnaire_id in fail_for for e, _ in events):
            raise RuntimeError("the database said no")

    broker = NatsBroker(nats_url)
    router = NatsRouter()
    consumer = Consumer(engine=engine, messaging=messaging, broker=broker, namespace=namespace,
                        max_deliveries=2)
    subscribe_batch(router, consumer, purpose="record", event=QuestionnaireClosed, handler=record)
    broker.include_router(router)
    await broker.start()
    js = broker.config.connection_state.stream

    async def effects_of(questionnaire_id: uuid.UUID) -> int:
        async with engine.connect() as conn:
            return await conn.scalar(sa.select(sa.func.count()).select_from(effects).where(
                effects.c.questionnaire_id == questionnaire_id))

    async def settled() -> bool:
        info = await js.consumer_info(events_stream(namespace), "probe-record")
        return info.num_pending == 0 and info.num_ack_pending == 0

    try:
        yield type("Probe", (), {"js": js, "batches": batches, "effects_of": effects_of,
                                 "settled": settled})
    finally:
        await broker.stop()
        await engine.dispose()


def closed(questionnaire_id: uuid.UUID | None = None) -> QuestionnaireClosed:
    return QuestionnaireClosed(organisation_id=ORG, questionnaire_id=questionnaire_id
                               or uuid.uuid4(), closed_at=datetime.now(UTC))


async def test_one_poison_message_in_a_batch_is_dead_lettered_alone(
        nats_url, database_url, namespace):
    good = [closed() for _ in range(8)]
    poison = closed()
    events = [*good[:4], poison, *good[4:]]
    await publish(nats_url, namespace, [(QuestionnaireClosed, body_of(e)) for e in events]
                  + [(QuestionnaireClosed, b"{not json")])
    async with batch_probe(nats_url, database_url, namespace,
                           fail_for={poison.questionnaire_id}) as p:
        async def dead_lettered() -> bool:
            info = await p.js.stream_info(dead_letter_stream(namespace))
            return info.state.messages == 2

        await eventually(dead_lettered, timeout=30, what="the poison and the malformed message")
        await eventually(p.settled, what="every message settled")
        for event in good:
            assert await p.effects_of(event.questionnaire_id) == 1
        assert await p.effects_of(poison.questionnaire_id) == 0
        reasons = sorted([(await p.js.get_msg(dead_letter_stream(namespace), seq))
                          .headers[DEAD_REASON] for seq in (1, 2)])
        assert reasons[0].startswith("failed 2 times")
        assert reasons[1].startswith("malformed")
        assert p.batches[0] > 1  # handled together until the poison showed


async def test_a_redelivered_batch_changes_nothing(nats_url, database_url, namespace):
    events = [closed() for _ in range(5)]
    bodies = [(QuestionnaireClosed, body_of(e)) for e in events]
    # Each event twice in the first batch, as after a redelivery JetStream cannot deduplicate.
    await publish(nats_url, namespace, [body for body in bodies for _ in range(2)])
    async with batch_probe(nats_url, database_url, namespace) as p:
        await eventually(p.settled, what="the first batch settled")
        await publish(nats_url, namespace, bodies)
        await eventually(p.settled, what="the redelivered batch settled")
        for event in events:
            assert await p.effects_of(event.questionnaire_id) == 1
        assert sum(p.batches) == len(events)  # the handler never saw an event twice


async def test_two_scoring_workers_complete_a_questionnaire_of_many_responses_exactly_once(
        nats_url, database_url, namespace):
    respondents = 120
    events = submitted_scan(respondents=respondents, answer=Answer.VOLLEDIG, organisation_id=ORG)
    await publish(nats_url, namespace, [(type(e), body_of(e)) for e in events])
    settings = Settings(nats_url=nats_url, database_url=database_url, bus_namespace=namespace,
                        secret_key=secrets.token_urlsafe(48), relay_interval=0.05)
    scoring.migrate(settings)
    workers = []
    for _ in range(2):
        broker = NatsBroker(nats_url)
        app = build_app(settings, broker, [scoring.build(settings, broker)])
        workers.append(app.router.lifespan_context(app))
    await asyncio.gather(*(w.__aenter__() for w in workers))
    try:
        nc = await nats.connect(nats_url)
        js = nc.jetstream()

        async def completions() -> int:
            info = await js.stream_info(events_stream(namespace),
                                        subjects_filter=f"{namespace}.*.{ScanCompleted.name}")
            return sum((info.state.subjects or {}).values())

        await eventually(completions, timeout=60, what="scan.completed")
        await asyncio.sleep(1.0)  # time for a second completion, should there be one
        assert await completions() == 1
        engine = make_engine(database_url)
        async with engine.connect() as conn:
            q = (await conn.execute(sa.select(store.questionnaires))).one()
            results = await conn.scalar(sa.select(sa.func.count())
                                        .select_from(store.scan_results))
            stored = await conn.scalar(sa.select(sa.func.count())
                                       .select_from(store.scored_responses))
        await engine.dispose()
        assert (q.submitted, stored, results) == (respondents, respondents, 1)
        last = await js.get_last_msg(events_stream(namespace),
                                     subject_for(namespace, ScanCompleted, ORG))
        completed = ScanCompleted.model_validate(json.loads(last.data)["data"])
        assert completed.respondents_submitted == respondents
        assert completed.result.overall_percent == 100.0
        await nc.close()
    finally:
        for worker in workers:
            await worker.__aexit__(None, None, None)
