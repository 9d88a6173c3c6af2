"""The outbox relay: publishes a service's committed events in order, once each.

Outages only delay it: while the database is unreachable it waits at the service's database
gate, and while NATS is away it waits for the reconnect, one log line each, no retry storm.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import sqlalchemy as sa
from faststream.nats import NatsBroker
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.db import Messaging
from shared.gate import gate_for, is_unavailable
from shared.streams import events_stream

log = logging.getLogger("iso20400.bus")


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
                    row.payload, row.subject, stream=self.stream, timeout=5.0,
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
                await self._wait_for_nats()
                if await self.publish_pending() == self.batch:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep relaying once NATS or the database is back
                if is_unavailable(exc):
                    await gate_for(self.engine).wait_until_up(exc)
                    continue
                if self._nats_connected():
                    log.exception("outbox relay failed; retrying")
                await asyncio.sleep(1.0)
            await asyncio.sleep(self.interval)

    def _nats_connected(self) -> bool:
        state = self.broker.config.connection_state
        connection = state.connection if state else None
        return bool(connection and connection.is_connected)

    async def _wait_for_nats(self) -> None:
        # While nats-py reconnects it would buffer our publishes and flush them all at once
        # later; waiting here keeps one copy of each, published in order, when it is back.
        while not self._nats_connected():
            await asyncio.sleep(0.5)

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
