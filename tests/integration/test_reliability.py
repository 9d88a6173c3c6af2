"""Nothing lost, nothing twice: outbox, inbox, retries and dead letters on a real NATS and
PostgreSQL, with a small probe service built from the same parts the services use."""

from __future__ import annotations

import asyncio
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import nats
import pytest
import sqlalchemy as sa
from faststream.nats import NatsBroker, NatsRouter
from nats.js.errors import NoStreamResponseError

from shared.bus import (
    DEAD_REASON,
    Consumer,
    OutboxRelay,
    dead_letter_stream,
    ensure_streams,
    events_stream,
    subscribe,
)
from shared.events import QuestionnaireClosed, encode, envelope, subject_for
from tests.flows import eventually
from tests.probe_service import probe_tables

pytestmark = pytest.mark.integration

ORG = uuid.UUID("00000000-0000-4000-8000-000000000001")


def closed_event() -> QuestionnaireClosed:
    return QuestionnaireClosed(organisation_id=ORG, questionnaire_id=uuid.uuid4(),
                               closed_at=datetime.now(UTC))


@asynccontextmanager
async def probe(nats_url: str, database_url: str, namespace: str, handler=None,  # noqa: ANN001
                *, max_deliveries: int = 3):
    """A service named 'probe' with an outbox, an inbox, an effects table and one consumer."""
    engine, messaging, effects = await probe_tables(database_url, namespace)
    broker = NatsBroker(nats_url)
    router = NatsRouter()

    async def record(conn, event, env) -> None:  # noqa: ANN001
        await conn.execute(effects.insert().values(questionnaire_id=event.questionnaire_id))
        if handler is not None:
            await handler(event)

    consumer = Consumer(engine=engine, messaging=messaging, broker=broker, namespace=namespace,
                        max_deliveries=max_deliveries)
    subscribe(router, consumer, purpose="record", event=QuestionnaireClosed, handler=record)
    broker.include_router(router)
    await broker.connect()
    js = broker.config.connection_state.stream
    await ensure_streams(js, namespace)
    await broker.start()
    try:
        yield type("Probe", (), {"engine": engine, "messaging": messaging, "effects": effects,
                                 "broker": broker, "js": js, "namespace": namespace})
    finally:
        await broker.stop()
        await engine.dispose()


async def effect_count(p, questionnaire_id: uuid.UUID | None = None) -> int:  # noqa: ANN001
    stmt = sa.select(sa.func.count()).select_from(p.effects)
    if questionnaire_id:
        stmt = stmt.where(p.effects.c.questionnaire_id == questionnaire_id)
    async with p.engine.connect() as conn:
        return await conn.scalar(stmt)


async def publish_raw(js, namespace: str, body: bytes, msg_id: str) -> None:  # noqa: ANN001
    await js.publish(subject_for(namespace, QuestionnaireClosed, ORG), body,
                     stream=events_stream(namespace), headers={"Nats-Msg-Id": msg_id})


async def consumer_settled(js, namespace: str) -> bool:  # noqa: ANN001
    info = await js.consumer_info(events_stream(namespace), "probe-record")
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_outbox_publishes_committed_events_once_in_order_and_never_rolled_back_ones(
        nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        events = [closed_event() for _ in range(3)]
        async with p.engine.begin() as conn:
            envelopes = [await p.messaging.emit(conn, e, now=datetime.now(UTC)) for e in events]
        with pytest.raises(RuntimeError):
            async with p.engine.begin() as conn:
                await p.messaging.emit(conn, closed_event(), now=datetime.now(UTC))
                raise RuntimeError("the state change failed")
        relay = OutboxRelay(engine=p.engine, messaging=p.messaging, broker=p.broker,
                            namespace=namespace, interval=0.05)
        assert await relay.publish_pending() == 3
        assert await relay.publish_pending() == 0

        # A crash between publishing and marking: the rows are published again ...
        async with p.engine.begin() as conn:
            await conn.execute(p.messaging.outbox.update().values(published_at=None))
        assert await relay.publish_pending() == 3
        # ... and JetStream keeps one copy of each, in the order they were written.
        info = await p.js.stream_info(events_stream(namespace))
        assert info.state.messages == 3
        for seq, env in enumerate(envelopes, start=1):
            msg = await p.js.get_msg(events_stream(namespace), seq)
            assert msg.headers["Nats-Msg-Id"] == str(env.id)
        async def all_three() -> bool:
            return await effect_count(p) == 3

        await eventually(all_three, what="the three events handled")
        await eventually(lambda: consumer_settled(p.js, namespace), what="nothing pending")
        assert await effect_count(p) == 3


async def test_a_redelivered_event_has_its_effect_once(nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        event = closed_event()
        body = encode(envelope(event, source="probe", time=datetime.now(UTC)))
        # Two copies of one event id that JetStream cannot deduplicate (as after a redelivery).
        await publish_raw(p.js, namespace, body, "copy-1")
        await publish_raw(p.js, namespace, body, "copy-2")
        await eventually(lambda: consumer_settled(p.js, namespace), what="both copies acked")
        assert await effect_count(p, event.questionnaire_id) == 1


async def test_a_malformed_event_goes_to_the_dead_letters_and_the_consumer_keeps_going(
        nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        await publish_raw(p.js, namespace, b"{this is not json", "bad-1")
        good = closed_event()
        await publish_raw(p.js, namespace, encode(envelope(good, source="probe",
                                                           time=datetime.now(UTC))), "good-1")
        await eventually(lambda: effect_count(p, good.questionnaire_id), what="the good event")
        dead = await p.js.get_msg(dead_letter_stream(namespace), 1)
        assert dead.data == b"{this is not json"
        assert dead.headers[DEAD_REASON].startswith("malformed: not a valid CloudEvent")
        assert dead.headers["Iso20400-Consumer"] == "probe-record"
        await eventually(lambda: consumer_settled(p.js, namespace), what="nothing pending")


async def test_a_failing_handler_is_retried_and_finally_dead_lettered_without_its_effect(
        nats_url, database_url, namespace):
    attempts: dict[uuid.UUID, int] = {}
    poison, flaky = closed_event(), closed_event()

    async def handler(event) -> None:  # noqa: ANN001
        attempts[event.questionnaire_id] = attempts.get(event.questionnaire_id, 0) + 1
        if event.questionnaire_id == poison.questionnaire_id:
            raise RuntimeError("the database said no")
        if attempts[event.questionnaire_id] == 1:
            raise RuntimeError("a passing hiccup")

    async with probe(nats_url, database_url, namespace, handler, max_deliveries=3) as p:
        for event in (poison, flaky):
            await publish_raw(p.js, namespace, encode(envelope(event, source="probe",
                                                               time=datetime.now(UTC))),
                              str(uuid.uuid4()))
        await eventually(lambda: effect_count(p, flaky.questionnaire_id), timeout=30,
                         what="the flaky event on its second attempt")

        async def dead_lettered():  # noqa: ANN202
            info = await p.js.stream_info(dead_letter_stream(namespace))
            return info.state.messages == 1

        await eventually(dead_lettered, timeout=30, what="the poison event dead-lettered")
        dead = await p.js.get_msg(dead_letter_stream(namespace), 1)
        assert "failed 3 times" in dead.headers[DEAD_REASON]
        assert "the database said no" in dead.headers[DEAD_REASON]
        assert attempts == {poison.questionnaire_id: 3, flaky.questionnaire_id: 2}
        assert await effect_count(p, poison.questionnaire_id) == 0
        assert await effect_count(p, flaky.questionnaire_id) == 1
        await asyncio.sleep(0.5)
        assert attempts[poison.questionnaire_id] == 3  # terminated: no further redelivery


async def test_commands_are_not_captured_by_the_event_stream(nats_url, namespace):
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, namespace)
        with pytest.raises(NoStreamResponseError):
            await js.publish(f"{namespace}.cmd.create-questionnaire", b"{}", timeout=1)
        info = await js.stream_info(events_stream(namespace))
        assert info.state.messages == 0
    finally:
        await nc.close()


async def test_an_event_stays_in_the_outbox_until_jetstream_has_acknowledged_it(
        nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        async with p.engine.begin() as conn:
            await p.messaging.emit(conn, closed_event(), now=datetime.now(UTC))
        relay = OutboxRelay(engine=p.engine, messaging=p.messaging, broker=p.broker,
                            namespace=namespace, interval=0.05)
        await p.js.delete_stream(events_stream(namespace))  # nothing will store the event
        with pytest.raises((NoStreamResponseError, nats.errors.NoRespondersError)):
            await relay.publish_pending()
        unpublished = sa.select(sa.func.count()).select_from(p.messaging.outbox).where(
            p.messaging.outbox.c.published_at.is_(None))
        async with p.engine.connect() as conn:
            assert await conn.scalar(unpublished) == 1

        await ensure_streams(p.js, namespace)
        assert await relay.publish_pending() == 1
        info = await p.js.stream_info(events_stream(namespace))
        assert info.state.messages == 1
