"""Reliable consumers: each event handled exactly once, outages waited out, poison set aside.

FastStream 0.7 terminates a message whose handler raises unless told otherwise, so every
consumer uses ``AckPolicy.MANUAL`` and decides itself what happens to a message:

* handled: the effect and the event id (the inbox) commit in one transaction, then the ack;
* the database is unreachable: not the message's fault. The handler waits at the service's
  database gate, keeps the message alive meanwhile and tries the same delivery again; the
  subscription pulls nothing else while it waits (one message at a time);
* the handler failed: nak with back-off, and dead-letter it after ``max_deliveries`` failures.
  Failures are counted here, not by the server: a NATS restart or a killed worker also causes
  redeliveries, and those must not push a good event towards the dead letters. The server's
  delivery count is only a backstop against a message that crashes every worker it reaches;
* malformed, or its subject names another organisation than its envelope: dead-lettered at once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.annotations import NatsMessage
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from shared.db import Messaging
from shared.dead_letters import DeadLetter, dead_letter, dead_letter_id
from shared.events import CloudEvent, E, MalformedEvent, decode, subject_for
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
Prepare = Callable[[E, CloudEvent], Awaitable[object]]


@dataclass(frozen=True)
class Consumer:
    """Everything one service's durable consumers need; each is named ``<service>-<purpose>``."""

    engine: AsyncEngine
    messaging: Messaging
    broker: NatsBroker
    namespace: str
    max_deliveries: int
    ack_wait: float = 30.0
    clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    # Handler failures per (consumer name, stream sequence), for this process's deliveries.
    failures: dict[tuple[str, int], int] = field(default_factory=dict, compare=False)

    def consumer_config(self) -> ConsumerConfig:
        return ConsumerConfig(ack_wait=self.ack_wait, max_deliver=-1, max_ack_pending=100)


def subscribe(router: NatsRouter, consumer: Consumer, *, purpose: str, event: type[E],
              handler: Handler, prepare: Prepare | None = None) -> None:
    """Register ``handler`` as a durable pull consumer of ``event`` that is handled exactly once.

    ``prepare``, if given, runs first and outside any transaction, for slow work the handler's
    transaction must not wait on (rendering PDFs); the handler then gets what it returned in
    place of the event. It may run again for an event already handled, and fails like a handler.
    """
    name = f"{consumer.messaging.service}-{purpose}"

    @_durable(router, consumer, name=name, subject=subject_for(consumer.namespace, event),
              stream=events_stream(consumer.namespace),
              description=f"{consumer.messaging.service} handles {event.name} to {purpose}")
    async def consume(message: NatsMessage) -> None:
        raw = message.raw_message
        if raw.metadata.num_delivered > consumer.max_deliveries + REDELIVERY_ALLOWANCE:
            await _dead_letter(consumer, name, message, reason=(
                f"delivered {raw.metadata.num_delivered} times without being handled"))
            return
        try:
            env, payload = decode(message.body, event, subject=raw.subject)
        except MalformedEvent as exc:
            await _dead_letter(consumer, name, message, reason=f"malformed: {exc}")
            return
        async with _kept_alive(message, consumer.ack_wait / 3):
            try:
                work = payload if prepare is None else await prepare(payload, env)
                await _handle_once(consumer, name, env.id,
                                   lambda conn: handler(conn, work, env))
            except Exception as exc:  # noqa: BLE001 - every failure is retried or dead-lettered
                await _retry_or_give_up(consumer, name, message, env, exc)
                return
        consumer.failures.pop((name, raw.metadata.sequence.stream), None)
        await _settle(message.ack())


async def _retry_or_give_up(consumer: Consumer, name: str, message, env: CloudEvent,  # noqa: ANN001
                            exc: Exception) -> None:
    key = (name, message.raw_message.metadata.sequence.stream)
    failures = consumer.failures[key] = consumer.failures.get(key, 0) + 1
    if failures < consumer.max_deliveries:
        log.warning("%s failed on event %s (attempt %d): %r", name, env.id, failures, exc)
        delay = BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS)) - 1]
        await _settle(message.nack(delay=delay))
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
        async with _kept_alive(message, consumer.ack_wait / 3):
            try:
                await _handle_once(consumer, name, letter_id,
                                   lambda conn: handler(conn, letter))
            except Exception as exc:  # noqa: BLE001 - a dead letter cannot be dead-lettered
                log.exception("%s failed on dead letter %s: %r", name, letter.sequence, exc)
                await _settle(message.nack(delay=BACKOFF_SECONDS[-1]))
                return
        await _settle(message.ack())


def _durable(router: NatsRouter, consumer: Consumer, *, name: str, subject: str, stream: str,
             description: str):  # noqa: ANN202 - FastStream's subscriber decorator
    """Every subscription here: a durable pull consumer, one message at a time, manual acks."""
    return router.subscriber(
        subject, stream=JStream(name=stream, declare=False), durable=name,
        pull_sub=PullSub(batch_size=1, timeout=5.0), config=consumer.consumer_config(),
        ack_policy=AckPolicy.MANUAL, title=name, description=description,
    )


async def _handle_once(consumer: Consumer, name: str, event_id: uuid.UUID,
                       effect: Callable[[AsyncConnection], Awaitable[None]]) -> None:
    """Run ``effect`` and record the event in the inbox, in one transaction; skip a repeat.

    While the database is unreachable this waits and then tries again, for as long as it takes.
    """
    gate = gate_for(consumer.engine)
    for _ in range(MAX_UNAVAILABLE_RETRIES):
        try:
            async with consumer.engine.begin() as conn:
                if await consumer.messaging.first_time(
                    conn, consumer=name, event_id=event_id, now=consumer.clock()
                ):
                    await effect(conn)
            return
        except Exception as exc:
            if not is_unavailable(exc):
                raise
            await gate.wait_until_up(exc)
    raise RuntimeError(f"{MAX_UNAVAILABLE_RETRIES} connection errors while the database answered")


@asynccontextmanager
async def _kept_alive(message, interval: float):  # noqa: ANN001, ANN202
    """Tell the server the message is still being worked on (a PDF, a database outage), so that
    a short ack_wait only hands a crashed worker's message to another one."""
    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await message.in_progress()
            except Exception:  # noqa: BLE001 - NATS away: the message comes back if it must
                pass

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


async def _dead_letter(consumer: Consumer, name: str, message, *, reason: str) -> None:  # noqa: ANN001
    await dead_letter(consumer.broker, message, namespace=consumer.namespace, consumer=name,
                      reason=reason, now=consumer.clock())


async def _settle(call: Awaitable[None]) -> None:
    try:
        await call
    except Exception as exc:  # noqa: BLE001 - the server redelivers an unsettled message
        log.warning("could not settle a message with NATS: %r", exc)
