"""NATS JetStream plumbing: streams, reliable consumers, dead letters and the outbox relay.

FastStream 0.7 terminates a message whose handler raises unless told otherwise, and a publish
without ``stream=`` is fire-and-forget. Here every consumer uses ``AckPolicy.MANUAL`` and
decides itself: ack after the commit, nak with back-off while attempts remain, dead-letter and
terminate when the event is malformed or the attempts are used up. Every publish names its
stream, so JetStream acknowledges it before the outbox row is marked sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.annotations import NatsMessage
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import Messaging
from shared.events import CloudEvent, E, MalformedEvent, decode, subject_for

log = logging.getLogger("iso20400.bus")

# Server-side redelivery limit is a little above ours, so that a worker crashing during the
# last attempt still gets the message back once more to dead-letter it.
SERVER_DELIVERY_MARGIN = 3
BACKOFF_SECONDS = (0.5, 2.0, 5.0, 15.0, 30.0)
DEAD_REASON = "Iso20400-Dead-Reason"


def events_stream(namespace: str) -> str:
    return f"{namespace.upper()}_EVENTS"


def dead_letter_stream(namespace: str) -> str:
    return f"{namespace.upper()}_DEAD_LETTERS"


def dead_letter_subject(namespace: str, consumer: str) -> str:
    return f"{namespace}.dlq.{consumer}"


async def ensure_streams(js, namespace: str, *, replicas: int = 1) -> None:  # noqa: ANN001
    """Create or update the event stream and the dead-letter stream."""
    configs = [
        StreamConfig(
            name=events_stream(namespace),
            subjects=[f"{namespace}.*.*.*"],  # <ns>.<organisation>.<noun>.<verb>
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            num_replicas=replicas,
            duplicate_window=120.0,
            description="ISO 20400 Scan events",
        ),
        StreamConfig(
            name=dead_letter_stream(namespace),
            subjects=[f"{namespace}.dlq.*"],
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=120.0,
            description="Events a consumer could not handle, with the reason in a header",
        ),
    ]
    for config in configs:
        try:
            await js.stream_info(config.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)


async def delete_streams(js, namespace: str) -> None:  # noqa: ANN001
    for name in (events_stream(namespace), dead_letter_stream(namespace)):
        try:
            await js.delete_stream(name)
        except NotFoundError:
            pass


Handler = Callable[[AsyncConnection, E, CloudEvent], Awaitable[None]]


@dataclass(frozen=True)
class Consumer:
    """Everything one durable consumer needs; ``name`` is ``<service>-<purpose>``."""

    engine: AsyncEngine
    messaging: Messaging
    broker: NatsBroker
    namespace: str
    max_deliveries: int
    ack_wait: float = 30.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)


def subscribe(router: NatsRouter, consumer: Consumer, *, purpose: str, event: type[E],
              handler: Handler) -> None:
    """Register ``handler`` as a durable pull consumer of ``event`` that is handled exactly once.

    The handler runs inside a transaction that also records the event id in the inbox; the
    message is acked only after that transaction committed.
    """
    name = f"{consumer.messaging.service}-{purpose}"

    @router.subscriber(
        subject_for(consumer.namespace, event),
        stream=JStream(name=events_stream(consumer.namespace), declare=False),
        durable=name,
        pull_sub=PullSub(batch_size=1, timeout=5.0),
        config=ConsumerConfig(
            ack_wait=consumer.ack_wait,
            max_deliver=consumer.max_deliveries + SERVER_DELIVERY_MARGIN,
            max_ack_pending=100,
        ),
        ack_policy=AckPolicy.MANUAL,
        title=name,
        description=f"{consumer.messaging.service} handles {event.name} to {purpose}",
    )
    async def consume(message: NatsMessage) -> None:
        attempt = message.raw_message.metadata.num_delivered
        try:
            env, payload = decode(message.body, event)
        except MalformedEvent as exc:
            await _dead_letter(consumer, name, message, reason=f"malformed: {exc}")
            return
        # A short ack_wait lets a crashed worker's message go to another one quickly; a handler
        # that takes longer (rendering a PDF) tells the server it is still at work.
        heartbeat = asyncio.create_task(_keep_alive(message, consumer.ack_wait / 3))
        try:
            async with consumer.engine.begin() as conn:
                if await consumer.messaging.first_time(
                    conn, consumer=name, event_id=env.id, now=consumer.clock()
                ):
                    await handler(conn, payload, env)
        except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
            if attempt >= consumer.max_deliveries:
                log.exception("%s gives up on event %s after %d attempts", name, env.id, attempt)
                await _dead_letter(
                    consumer, name, message,
                    reason=f"failed {attempt} times, last error: {type(exc).__name__}: {exc}",
                )
            else:
                log.warning("%s failed on event %s (attempt %d): %r", name, env.id, attempt, exc)
                delay = BACKOFF_SECONDS[min(attempt, len(BACKOFF_SECONDS)) - 1]
                await message.nack(delay=delay)
            return
        finally:
            heartbeat.cancel()
        await message.ack()


async def _keep_alive(message, interval: float) -> None:  # noqa: ANN001
    while True:
        await asyncio.sleep(interval)
        await message.in_progress()


async def _dead_letter(consumer: Consumer, name: str, message, *, reason: str) -> None:  # noqa: ANN001
    meta = message.raw_message.metadata
    await consumer.broker.publish(
        message.body,
        dead_letter_subject(consumer.namespace, name),
        stream=dead_letter_stream(consumer.namespace),
        headers={
            "Nats-Msg-Id": f"{name}:{meta.sequence.stream}",
            DEAD_REASON: reason[:1000],
            "Iso20400-Original-Subject": message.raw_message.subject,
            "Iso20400-Consumer": name,
        },
    )
    await message.reject()  # terminate: the dead-letter stream has it now
    log.error("dead-lettered stream message %s for %s: %s", meta.sequence.stream, name, reason)


class OutboxRelay:
    """Publishes a service's outbox rows in order; several replicas may run at once."""

    def __init__(self, *, engine: AsyncEngine, messaging: Messaging, broker: NatsBroker,
                 namespace: str, interval: float, batch: int = 100) -> None:
        self.engine = engine
        self.outbox = messaging.outbox
        self.broker = broker
        self.stream = events_stream(namespace)
        self.interval = interval
        self.batch = batch
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published."""
        table = self.outbox
        async with self.engine.begin() as conn:
            rows = (await conn.execute(
                sa.select(table.c.seq, table.c.event_id, table.c.subject, table.c.payload)
                .where(table.c.published_at.is_(None))
                .order_by(table.c.seq)
                .limit(self.batch)
                .with_for_update(skip_locked=True)
            )).all()
            for row in rows:
                # JetStream drops a second publish with the same Nats-Msg-Id, so a crash after
                # publishing but before this commit cannot deliver the event twice.
                await self.broker.publish(
                    row.payload, row.subject, stream=self.stream,
                    headers={"Nats-Msg-Id": str(row.event_id),
                             "content-type": "application/cloudevents+json"},
                )
            if rows:
                await conn.execute(
                    table.update()
                    .where(table.c.seq.in_([r.seq for r in rows]))
                    .values(published_at=datetime.now(UTC))
                )
        return len(rows)

    async def run(self) -> None:
        # The flag as well as the cancel: on Python 3.11, asyncio.wait_for (inside nats-py's
        # request) can swallow a cancellation that lands as its reply arrives, which left
        # stop() waiting for a relay that kept going.
        while not self._stopping:
            try:
                if await self.publish_pending() == self.batch:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - keep relaying once NATS or the database is back
                log.exception("outbox relay failed; retrying")
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.stream}")

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
