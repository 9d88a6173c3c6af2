"""Reliable consumers: each event handled exactly once, outages waited out, poison set aside.

FastStream 0.7 terminates a message whose handler raises unless told otherwise, so every
consumer uses ``AckPolicy.MANUAL`` and decides itself what happens to a message:

* handled: the effect and the event id (the inbox) commit in one transaction, then the ack.
  A batch consumer (``subscribe_batch``) takes the messages already waiting behind the one
  delivered and handles them all in one transaction, each with its own inbox row, and acks
  each after that commit;
* the database is unreachable: not the message's fault. The handler waits at the service's
  database gate, keeps its messages alive meanwhile and tries the same delivery again; the
  subscription pulls nothing else while it waits (one message or batch at a time, or
  ``concurrency`` messages);
* the handler failed: a batch is handled again one message at a time, so that only the message
  at fault fails. That one is nacked with back-off and dead-lettered after ``max_deliveries``
  failures. Failures are counted here, not by the server: a NATS restart or a killed worker
  also causes redeliveries, and those must not push a good event towards the dead letters.
  The server's delivery count is only a backstop against a message that crashes every worker
  it reaches;
* malformed, or its subject names another organisation than its envelope: dead-lettered at
  once, alone; the rest of its batch goes on.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.annotations import NatsMessage
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import Messaging
from shared.dead_letters import DeadLetter, dead_letter, dead_letter_id
from shared.deliveries import Delivery, kept_alive, settle, waiting_behind
from shared.events import CloudEvent, E, Event, MalformedEvent, decode, subject_for
from shared.gate import gate_for, is_unavailable
from shared.streams import dead_letter_stream, events_stream

log = logging.getLogger("iso20400.bus")

BACKOFF_SECONDS = (0.5, 2.0, 5.0, 15.0, 30.0)
# Deliveries beyond max_deliveries that restarts and outages may cause before the server's
# count says the message itself kills whoever handles it.
REDELIVERY_ALLOWANCE = 20
# A "connection" error while the database answers every probe is the statement's doing.
MAX_UNAVAILABLE_RETRIES = 50

Handler = Callable[[AsyncConnection, E, CloudEvent], Awaitable[None]]
# Slow work done before the handler's transaction (see ``subscribe``).
Prepare = Callable[[E, CloudEvent], Awaitable[object]]
# Gets the events of a batch that were not handled before, in the order they arrived.
BatchHandler = Callable[[AsyncConnection, list[tuple[E, CloudEvent]]], Awaitable[None]]

@dataclass(frozen=True)
class Consumer:
    """Everything one service's durable consumers need; each is named ``<service>-<purpose>``."""

    engine: AsyncEngine
    messaging: Messaging
    broker: NatsBroker
    namespace: str
    max_deliveries: int
    ack_wait: float = 30.0
    # Messages a batch consumer handles in one transaction at most; at 50, two workers sharing
    # a consumer (max_ack_pending 100) can both have a batch in hand.
    batch_size: int = 50
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Handler failures per (consumer name, stream sequence), for this process's deliveries.
    failures: dict[tuple[str, int], int] = field(default_factory=dict, compare=False)

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(ack_wait=self.ack_wait, max_deliver=-1, max_ack_pending=100)


@dataclass(frozen=True)
class Decoded:
    delivery: Delivery
    envelope: CloudEvent
    payload: Event


def subscribe(router: NatsRouter, consumer: Consumer, *, purpose: str, event: type[E],
              handler: Handler, prepare: Prepare | None = None, concurrency: int = 1) -> None:
    """Register ``handler`` as a durable pull consumer of ``event`` that is handled exactly once,
    one message per transaction.

    ``prepare``, if given, runs first and outside any transaction, for slow work the handler's
    transaction must not wait on (rendering PDFs); the handler then gets what it returned in
    place of the event. It may run again for an event already handled, and fails like a handler.
    ``concurrency`` messages are handled at once, each alone, so that the processes a
    ``prepare`` waits on go on with the next one while the last one's transaction commits.
    """
    _subscribe(router, consumer, purpose=purpose, event=event, handler=each_in_turn(handler),
               batch_size=1, prepare=prepare, concurrency=concurrency)


def each_in_turn(handler: Handler) -> BatchHandler:
    """A batch handler that gives the batch's events to ``handler`` one after the other, in the
    batch's one transaction (for events that gain little from multi-row statements)."""
    async def handle(conn: AsyncConnection, events: list[tuple[E, CloudEvent]]) -> None:
        for payload, env in events:
            await handler(conn, payload, env)

    return handle


def subscribe_batch(router: NatsRouter, consumer: Consumer, *, purpose: str, event: type[E],
                    handler: BatchHandler) -> None:
    """Like ``subscribe``, but ``handler`` gets up to ``consumer.batch_size`` events in one
    transaction: the messages already waiting when one arrives (never waiting for more).

    The guarantees hold per message: each is recorded in the inbox, acked after the commit, and
    dead-lettered alone, because a batch that fails is handled again one message at a time.
    """
    _subscribe(router, consumer, purpose=purpose, event=event, handler=handler,
               batch_size=consumer.batch_size)


def _subscribe(router: NatsRouter, consumer: Consumer, *, purpose: str, event: type[E],
               handler: BatchHandler, batch_size: int, prepare: Prepare | None = None,
               concurrency: int = 1) -> None:
    name = f"{consumer.messaging.service}-{purpose}"
    subscriber = _durable(
        router, consumer, name=name, subject=subject_for(consumer.namespace, event),
        stream=events_stream(consumer.namespace), concurrency=concurrency,
        description=f"{consumer.messaging.service} handles {event.name} to {purpose}")

    @subscriber
    async def consume(message: NatsMessage) -> None:
        first = message.raw_message
        waiting = await waiting_behind(subscriber, first, limit=batch_size - 1)
        batch = []
        for delivery in map(Delivery, [first, *waiting]):
            if (decoded := await _decoded_or_dead(consumer, name, delivery, event)) is not None:
                batch.append(decoded)
        if batch:
            async with kept_alive([d.delivery for d in batch], consumer.ack_wait / 3):
                await _handle_batch(consumer, name, batch, handler, prepare)


async def _decoded_or_dead(consumer: Consumer, name: str, delivery: Delivery,
                           event: type[E]) -> Decoded | None:
    """The message's event, or None once a message that can never be handled is dead-lettered."""
    raw = delivery.raw_message
    if raw.metadata.num_delivered > consumer.max_deliveries + REDELIVERY_ALLOWANCE:
        await _dead_letter(consumer, name, delivery, reason=(
            f"delivered {raw.metadata.num_delivered} times without being handled"))
        return None
    try:
        env, payload = decode(delivery.body, event, subject=raw.subject)
    except MalformedEvent as exc:
        await _dead_letter(consumer, name, delivery, reason=f"malformed: {exc}")
        return None
    return Decoded(delivery=delivery, envelope=env, payload=payload)


async def _handle_batch(consumer: Consumer, name: str, batch: list[Decoded],
                        handler: BatchHandler, prepare: Prepare | None = None) -> None:
    """Handle ``batch`` in one transaction and ack each message; if that fails, handle each
    message alone, so that one bad message is retried and dead-lettered by itself."""
    try:
        work = [d.payload if prepare is None else await prepare(d.payload, d.envelope)
                for d in batch]

        async def effect(conn: AsyncConnection, fresh: list[int]) -> None:
            await handler(conn, [(work[n], batch[n].envelope) for n in fresh])

        await _handle_once(consumer, name, [d.envelope.id for d in batch], effect)
    except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
        if len(batch) > 1:
            log.warning("%s failed on a batch of %d (%r); handling them one by one",
                        name, len(batch), exc)
            for decoded in batch:
                await _handle_batch(consumer, name, [decoded], handler, prepare)
            return
        await _retry_or_give_up(consumer, name, batch[0].delivery, batch[0].envelope, exc)
        return
    for decoded in batch:
        consumer.failures.pop((name, decoded.delivery.raw_message.metadata.sequence.stream), None)
        await settle(decoded.delivery.ack())


async def _retry_or_give_up(consumer: Consumer, name: str, message, env: CloudEvent,  # noqa: ANN001
                            exc: Exception) -> None:
    key = (name, message.raw_message.metadata.sequence.stream)
    failures = consumer.failures[key] = consumer.failures.get(key, 0) + 1
    if failures < consumer.max_deliveries:
        log.warning("%s failed on event %s (attempt %d): %r", name, env.id, failures, exc)
        delay = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1]
        await settle(message.nack(delay=delay))
        return
    log.error("%s gives up on event %s after %d attempts", name, env.id, failures,
              exc_info=exc)
    if await dead_letter(consumer.broker, message, namespace=consumer.namespace, consumer=name,
                         reason=f"failed {failures} times, last error: {type(exc).__name__}: "
                                f"{exc}", now=consumer.clock()):
        consumer.failures.pop(key, None)


def subscribe_dead_letters(router: NatsRouter, consumer: Consumer, *, purpose: str,
                           handler: Callable[[AsyncConnection, DeadLetter], Awaitable[None]],
                           ) -> None:
    """Register ``handler`` for every new dead letter, once each (e.g. to show a stuck scan)."""
    name = f"{consumer.messaging.service}-{purpose}"

    @_durable(router, consumer, name=name, subject=f"{consumer.namespace}.dlq.*",
              stream=dead_letter_stream(consumer.namespace),
              description=f"{consumer.messaging.service} watches the dead letters to {purpose}")
    async def consume(message: NatsMessage) -> None:
        raw = message.raw_message
        letter = DeadLetter.from_message(raw.metadata.sequence.stream, None, raw.headers,
                                         message.body)
        letter_id = dead_letter_id(consumer.namespace, letter.sequence)
        async with kept_alive([message], consumer.ack_wait / 3):
            try:
                await _handle_once(consumer, name, [letter_id],
                                   lambda conn, _: handler(conn, letter))
            except Exception as exc:  # noqa: BLE001 - a dead letter cannot be dead-lettered
                log.exception("%s failed on dead letter %s: %r", name, letter.sequence, exc)
                await settle(message.nack(delay=BACKOFF_SECONDS[-1]))
                return
        await settle(message.ack())


def _durable(router: NatsRouter, consumer: Consumer, *, name: str, subject: str, stream: str,
             description: str, concurrency: int = 1):  # noqa: ANN202 - FastStream's decorator
    """Every subscription here: a durable pull consumer, one message delivered at a time (to
    each of ``concurrency`` handlers), manual acks."""
    return router.subscriber(
        subject, stream=JStream(name=stream, declare=False), durable=name,
        pull_sub=PullSub(batch_size=1, timeout=5.0), config=consumer.consumer_config(),
        ack_policy=AckPolicy.MANUAL, title=name, description=description, max_workers=concurrency)


async def _handle_once(consumer: Consumer, name: str, event_ids: list[uuid.UUID],
                       effect: Callable[[AsyncConnection, list[int]], Awaitable[None]]) -> None:
    """Record the events in the inbox and run ``effect`` for those not seen before (their
    positions in ``event_ids``), in one transaction; an event seen before is skipped.

    While the database is unreachable this waits and then tries again, for as long as it takes.
    """
    gate = gate_for(consumer.engine)
    for _ in range(MAX_UNAVAILABLE_RETRIES):
        try:
            async with consumer.engine.begin() as conn:
                new = await consumer.messaging.first_times(
                    conn, consumer=name, event_ids=event_ids, now=consumer.clock())
                fresh = []
                for n, event_id in enumerate(event_ids):
                    if event_id in new:
                        new.remove(event_id)  # the same event twice in a batch: handled once
                        fresh.append(n)
                if fresh:
                    await effect(conn, fresh)
            return
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            await gate.wait_until_up(exc)
    raise RuntimeError(f"{MAX_UNAVAILABLE_RETRIES} connection errors while the database answered")


async def _dead_letter(consumer: Consumer, name: str, message, *, reason: str) -> None:  # noqa: ANN001
    await dead_letter(consumer.broker, message, namespace=consumer.namespace, consumer=name,
                      reason=reason, now=consumer.clock())
