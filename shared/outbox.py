"""The outbox relay: publishes a service's committed events in order, once each.

Each commit that writes outbox rows NOTIFYs the service's channel (a trigger, see
``shared.db.outbox_notify_ddl``); the relay LISTENs on its own connection and publishes at
once. A slow poll every ``interval`` stays as the safety net: for rows a crash left behind, for
a notification missed, and while the listening connection is down.

Outages only delay it: while the database is unreachable it waits at the service's database
gate, and while NATS is away it waits for the reconnect, one log line each, no retry storm.
"""

from __future__ import annotations

import asyncio
import logging

import psycopg
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
        self.channel = messaging.channel
        self.broker = broker
        self.stream = events_stream(namespace)
        self.interval = interval
        self.batch = batch
        # Claims and marks a batch in one statement; the mark only commits once every publish
        # of the batch is acknowledged (an error rolls it back), so marking first is safe.
        table = self.outbox
        due = (sa.select(table.c.seq).where(table.c.published_at.is_(None))
               .order_by(table.c.seq).limit(batch).with_for_update(skip_locked=True))
        self._claim = (table.update().where(table.c.seq.in_(due.scalar_subquery()))
                       .values(published_at=sa.func.now())
                       .returning(table.c.seq, table.c.event_id, table.c.subject,
                                  table.c.payload))
        self._task: asyncio.Task | None = None
        self._listener: asyncio.Task | None = None
        self._wake = asyncio.Event()
        self.listening = asyncio.Event()
        self._stopping = False

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self.engine.begin() as conn:
            rows = sorted((await conn.execute(self._claim)).all(), key=lambda row: row.seq)
            for row in rows:
                # JetStream drops a second publish with the same Nats-Msg-Id, so a crash after
                # publishing but before this commit cannot deliver the event twice.
                await self.broker.publish(
                    row.payload, row.subject, stream=self.stream, timeout=5.0,
                    headers={"Nats-Msg-Id": str(row.event_id),
                             "content-type": "application/cloudevents+json"},
                )
        return len(rows)

    async def run(self) -> None:
        # The flag as well as the cancel: on Python 3.11, asyncio.wait_for (inside nats-py's
        # request) can swallow a cancellation that lands as its reply arrives, which left
        # stop() waiting for a relay that kept going.
        while not self._stopping:
            try:
                await self._wait_for_nats()
                # Cleared before the SELECT: a commit it cannot see yet wakes us once more.
                self._wake.clear()
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
            await self._woken_or_timeout()

    async def _woken_or_timeout(self) -> None:
        try:
            await asyncio.wait_for(self._wake.wait(), self.interval)
        except TimeoutError:
            pass

    async def listen(self) -> None:
        """Wake the relay on every notification; reconnect by itself after a lost connection."""
        warned = False
        while not self._stopping:
            try:
                # Keepalives: a peer gone without a word (a dead host, a dropped NAT entry)
                # is noticed within a minute instead of leaving the relay on its poll for good.
                async with await psycopg.AsyncConnection.connect(
                        self._conninfo(), autocommit=True, connect_timeout=5, keepalives=1,
                        keepalives_idle=30, keepalives_interval=10, keepalives_count=3) as conn:
                    await conn.execute(f'LISTEN "{self.channel}"')
                    self.listening.set()
                    warned = False
                    self._wake.set()  # rows committed while nobody listened
                    async for _ in conn.notifies():
                        self._wake.set()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the poll covers the gap; listen again
                self.listening.clear()
                if is_unavailable(exc):
                    await gate_for(self.engine).wait_until_up(exc)
                    continue
                if not warned:  # once until it listens again: the poll carries on meanwhile
                    log.warning("outbox relay of %s cannot listen (%r); polling until it can",
                                self.channel, exc)
                    warned = True
                await asyncio.sleep(1.0)

    def _conninfo(self) -> str:
        return self.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

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
        self._listener = asyncio.create_task(self.listen(), name=f"outbox-listen-{self.channel}")
        self._task = asyncio.create_task(self.run(), name=f"outbox-relay-{self.stream}")

    async def stop(self) -> None:
        self._stopping = True
        for task in (self._listener, self._task):
            if task is not None:
                task.cancel()
                try:
                    await task
                except asyncio.CancelledError:
                    pass
