"""Failure counts that two replicas agree on, read from each replica's mirror of the bucket,
also after NATS went away and came back."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

from faststream.nats import NatsBroker

from shared.embedded import EmbeddedNats
from shared.kv import BusUnavailable
from shared.ratelimit import Limit, Limiter
from tests.flows import eventually

LIMIT = Limit(failures=3, seconds=60)


@asynccontextmanager
async def replica(nats_url: str, namespace: str):  # noqa: ANN201
    broker = NatsBroker(nats_url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)
    await broker.connect()
    limiter = Limiter(broker, namespace=namespace, purpose="guesses", limit=LIMIT, mirrored=True)
    try:
        yield limiter
    finally:
        await limiter.stop()
        await broker.stop()


async def refused(limiter: Limiter, subject: str) -> bool:
    return await limiter.retry_after(subject) is not None


async def mirror_current(limiter: Limiter) -> None:
    async def current():  # noqa: ANN202
        await limiter.retry_after("anyone")  # starts the watch when there is none
        return limiter.mirror._current_for is not None

    await eventually(current, timeout=10, what="the mirror to hold the bucket")


async def test_a_failure_counted_by_one_replica_is_refused_by_the_other(nats_url, namespace):
    async with replica(nats_url, namespace) as a, replica(nats_url, namespace) as b:
        await mirror_current(b)
        for _ in range(LIMIT.failures):
            assert not await refused(a, "10.0.0.1")
            await a.failed("10.0.0.1")
        assert await refused(a, "10.0.0.1")  # its own failures: at once
        await eventually(lambda: refused(b, "10.0.0.1"), timeout=2, interval=0.01,
                         what="the other replica to see the failures")
        assert not await refused(b, "10.0.0.2")
        wait = await b.retry_after("10.0.0.1")
        assert 1 <= wait <= 60

        await a.forget("10.0.0.1")
        assert not await refused(a, "10.0.0.1")
        await eventually(lambda: _free(b, "10.0.0.1"), timeout=2, interval=0.01,
                         what="the other replica to see the count forgotten")


async def _free(limiter: Limiter, subject: str) -> bool:
    return not await refused(limiter, subject)


async def test_after_nats_came_back_the_mirror_misses_nothing():
    folder = Path(tempfile.mkdtemp(prefix="iso20400-test-limits-nats-"))
    server = EmbeddedNats(folder).start()
    try:
        async with replica(server.url, "limits") as a, replica(server.url, "limits") as b:
            await a.failed("10.0.0.9")
            await mirror_current(b)
            server.stop()

            async def away():  # noqa: ANN202
                try:
                    await b.retry_after("10.0.0.9")
                    return False  # not noticed yet: the mirror still answers
                except BusUnavailable:
                    return True

            await eventually(away, timeout=10, what="the replica to notice NATS is away")
            server.start()  # same port, same data: the count is still there

            async def connected():  # noqa: ANN202
                try:
                    await a.retry_after("10.0.0.9")
                    await b.retry_after("10.0.0.9")
                    return True
                except BusUnavailable:
                    return False

            await eventually(connected, timeout=30, interval=0.2, what="NATS to come back")
            # Counted while b's watch from before the outage may be gone: b still sees it.
            for _ in range(LIMIT.failures - 1):
                await a.failed("10.0.0.9")
            await eventually(lambda: refused(b, "10.0.0.9"), timeout=2, interval=0.01,
                             what="the failures counted after the outage")
            await mirror_current(b)
            assert await refused(b, "10.0.0.9")
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
