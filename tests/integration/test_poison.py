"""Poison that must not take a consumer down (huge events, subjects that lie, oversized emits),
redeliveries that are not the event's fault, and a list of NATS servers of which one is dead."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import nats
from nats.js.api import AckPolicy, ConsumerConfig
import pytest

from shared.bus import BY_REFERENCE, DEAD_REASON, dead_letter_stream, ensure_streams, events_stream
from shared.dead_letters import read_dead_letters, replay
from shared.embedded import free_port
from shared.events import (
    MAX_EVENT_BYTES,
    EventTooLarge,
    QuestionnaireClosed,
    QuestionnaireCreated,
    encode,
    envelope,
    subject_for,
)
from shared.runtime import make_broker
from shared.settings import Settings
from tests.conftest import TEST_SECRET
from tests.flows import eventually
from tests.integration.test_reliability import (
    ORG,
    closed_event,
    consumer_settled,
    effect_count,
    probe,
    publish_raw,
)

pytestmark = pytest.mark.integration

OTHER_ORG = uuid.UUID("00000000-0000-4000-8000-000000000002")


async def dead_letter_count(js, namespace: str) -> int:  # noqa: ANN001
    return (await js.stream_info(dead_letter_stream(namespace))).state.messages


async def test_a_near_one_mebibyte_malformed_event_is_dead_lettered_by_reference(
        nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        huge = b'{"padding": "' + b"x" * (1024 * 1024 - 4096) + b'"}'
        await publish_raw(p.js, namespace, huge, "huge-1")
        good = closed_event()
        await publish_raw(p.js, namespace, encode(envelope(good, source="probe",
                                                           time=datetime.now(UTC))), "good-1")

        # The consumer went on to the next event: the connection survived the dead letter.
        await eventually(lambda: effect_count(p, good.questionnaire_id), timeout=20,
                         what="the event after the huge one")
        await eventually(lambda: consumer_settled(p.js, namespace), what="nothing pending")
        dead = await p.js.get_msg(dead_letter_stream(namespace), 1)
        assert dead.headers[BY_REFERENCE] == "true"
        assert dead.headers[DEAD_REASON].startswith("malformed: not a valid CloudEvent")
        assert len(dead.data) < 1000
        reference = json.loads(dead.data)
        assert reference == {"stream": events_stream(namespace), "sequence": 1,
                             "subject": subject_for(namespace, QuestionnaireClosed, ORG),
                             "size": len(huge)}
        # The reference leads to the original, which replay republishes whole.
        [letter] = await read_dead_letters(p.js, namespace)
        assert letter.consumer == "probe-record" and letter.original_sequence == 1
        assert await replay(p.js, namespace) == 1
        copy = await p.js.get_msg(events_stream(namespace), 3)
        assert copy.data == huge


async def test_an_event_whose_subject_names_another_organisation_is_dead_lettered(
        nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        event = QuestionnaireClosed(organisation_id=OTHER_ORG, questionnaire_id=uuid.uuid4(),
                                    closed_at=datetime.now(UTC))
        body = encode(envelope(event, source="probe", time=datetime.now(UTC)))
        # Published on organisation ORG's subject, while envelope and payload say OTHER_ORG.
        await publish_raw(p.js, namespace, body, "mismatch-1")
        await eventually(lambda: dead_letter_count(p.js, namespace), what="a dead letter")
        dead = await p.js.get_msg(dead_letter_stream(namespace), 1)
        assert f"names another organisation than the envelope ({OTHER_ORG})" in \
            dead.headers[DEAD_REASON]
        await eventually(lambda: consumer_settled(p.js, namespace), what="nothing pending")
        assert await effect_count(p) == 0

        # The same event on its own organisation's subject is handled.
        await p.js.publish(subject_for(namespace, QuestionnaireClosed, OTHER_ORG), body,
                           stream=events_stream(namespace), headers={"Nats-Msg-Id": "right-1"})
        await eventually(lambda: effect_count(p, event.questionnaire_id), what="the right one")


async def test_the_outbox_refuses_an_event_over_the_size_cap(nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace) as p:
        too_big = QuestionnaireCreated(
            organisation_id=ORG, questionnaire_id=uuid.uuid4(), organisation_name="Stad",
            title="t" * MAX_EVENT_BYTES, content_version="2026.1",
            deadline=datetime.now(UTC), created_at=datetime.now(UTC))
        with pytest.raises(EventTooLarge, match=f"at most {MAX_EVENT_BYTES}"):
            async with p.engine.begin() as conn:
                await p.messaging.emit(conn, too_big, now=datetime.now(UTC))
        async with p.engine.connect() as conn:
            rows = (await conn.execute(p.messaging.outbox.select())).all()
        assert rows == []


async def test_a_server_list_with_one_dead_address_connects_to_the_live_one(
        nats_url, namespace):
    dead = f"nats://127.0.0.1:{free_port()}"
    settings = Settings(nats_url=f"{dead}, {nats_url}", secret_key=TEST_SECRET,
                        bus_namespace=namespace)
    assert settings.nats_servers == [dead, nats_url]
    for _ in range(3):  # the list is tried in random order; each time it must get through
        broker = make_broker(settings)
        await broker.connect()
        try:
            js = broker.config.connection_state.stream
            await ensure_streams(js, namespace)
            await broker.publish(b"{}", subject_for(namespace, QuestionnaireClosed, ORG),
                                 stream=events_stream(namespace))
        finally:
            await broker.stop()
    info = await js_info(nats_url, namespace)
    assert info.state.messages == 3


async def js_info(nats_url: str, namespace: str):  # noqa: ANN201
    import nats

    nc = await nats.connect(nats_url)
    try:
        return await nc.jetstream().stream_info(events_stream(namespace))
    finally:
        await nc.close()


async def test_redeliveries_caused_by_crashes_and_outages_spend_no_attempts(
        nats_url, database_url, namespace):
    async with probe(nats_url, database_url, namespace):
        pass  # the durable consumer now exists, with nobody pulling from it
    event = closed_event()
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await publish_raw(js, namespace, encode(envelope(event, source="probe",
                                                         time=datetime.now(UTC))), "e-1")
        # Six workers took the event and vanished (killed, or NATS went away) before acking.
        puller = await js.pull_subscribe_bind("probe-record", stream=events_stream(namespace))
        for _ in range(6):
            [msg] = await puller.fetch(1, timeout=5)
            await msg.nak()
        await puller.unsubscribe()
    finally:
        await nc.close()

    attempts = []

    async def flaky(e) -> None:  # noqa: ANN001
        attempts.append(e.questionnaire_id)
        if len(attempts) == 1:
            raise RuntimeError("a passing hiccup")

    async with probe(nats_url, database_url, namespace, flaky, max_deliveries=3) as p:
        await eventually(lambda: effect_count(p, event.questionnaire_id), timeout=20,
                         what="the event handled on its second attempt")
        assert len(attempts) == 2
        assert await dead_letter_count(p.js, namespace) == 0


async def test_consumers_made_with_a_server_side_delivery_limit_lose_it(nats_url, namespace):
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        await ensure_streams(js, namespace)
        await js.add_consumer(events_stream(namespace), ConsumerConfig(
            durable_name="old-consumer", max_deliver=8, ack_policy=AckPolicy.EXPLICIT))
        await ensure_streams(js, namespace)  # as every process does when it starts
        info = await js.consumer_info(events_stream(namespace), "old-consumer")
        assert info.config.max_deliver == -1
    finally:
        await nc.close()
