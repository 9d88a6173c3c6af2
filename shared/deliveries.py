"""One JetStream message as a consumer settles it, and the messages waiting behind it."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from nats.aio.msg import Msg

log = logging.getLogger("iso20400.bus")

# A batch asks only for messages the server said were waiting, and the server answers at once
# with those it still has; this bounds the wait should it not.
DRAIN_TIMEOUT = 0.5


@dataclass(frozen=True)
class Delivery:
    """One JetStream message, settled on its own whether FastStream or a batch fetch brought it
    (the same calls as FastStream's message, so dead letters take either)."""

    raw_message: Msg

    @property
    def body(self) -> bytes:
        return self.raw_message.data

    async def ack(self) -> None:
        await self.raw_message.ack()

    async def nack(self, *, delay: float) -> None:
        await self.raw_message.nak(delay=delay)

    async def reject(self) -> None:
        await self.raw_message.term()

    async def in_progress(self) -> None:
        await self.raw_message.in_progress()


async def waiting_behind(subscriber, first: Msg, *, limit: int) -> list[Msg]:  # noqa: ANN001
    """The messages that were already waiting behind ``first``, up to ``limit``.

    FastStream's own batch subscription keeps fetching until its batch is full or its timeout
    passes, which at a low rate is pure latency. Here FastStream delivers the first message as
    usual and the rest come from the same pull subscription only if the server said they were
    there (nats-py returns a fetch as soon as messages are available).
    """
    pending = min(first.metadata.num_pending or 0, limit)
    if pending <= 0 or subscriber.subscription is None:
        return []
    try:
        return await subscriber.subscription.fetch(batch=pending, timeout=DRAIN_TIMEOUT)
    except Exception:  # noqa: BLE001 - a timeout, or NATS away: what was fetched comes back
        return []


@asynccontextmanager
async def kept_alive(messages: list, interval: float):  # noqa: ANN202
    """Tell the server the messages are still being worked on (a PDF, a database outage), so
    that a short ack_wait only hands a crashed worker's messages to another one."""
    async def beat() -> None:
        while True:
            await asyncio.sleep(interval)
            for message in messages:
                try:
                    await message.in_progress()
                except Exception:  # noqa: BLE001 - NATS away: the message comes back if it must
                    pass

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()


async def settle(call: Awaitable[None]) -> None:
    try:
        await call
    except Exception as exc:  # noqa: BLE001 - the server redelivers an unsettled message
        log.warning("could not settle a message with NATS: %r", exc)
