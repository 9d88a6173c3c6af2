"""What the latency benchmark observes with: commits (LISTEN), arrivals on the bus, and a
service running as its own process, as ``iso20400 serve`` runs it in production."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import psycopg

from bench.common import Servers
from shared.embedded import free_port
from tests.servers import fresh_database, fresh_namespace, remove_namespace


class Commits:
    """When this process learnt of each committed key: a NOTIFY on ``channel`` whose payload is
    the key, sent by a row trigger, so it arrives once the writing transaction commits."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.seen: dict[str, float] = {}
        self._changed = asyncio.Event()

    async def listen(self, database_url: str) -> None:
        async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
            await conn.execute(f"LISTEN {self.channel}")
            async for note in conn.notifies():
                self.seen[note.payload] = time.perf_counter()
                self._changed.set()

    async def wait_for(self, keys: list[str], *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not all(k in self.seen for k in keys):
            self._changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{sum(k in self.seen for k in keys)} of {len(keys)} committed")
            try:
                await asyncio.wait_for(self._changed.wait(), left)
            except TimeoutError:
                pass


async def arrivals(nc, subject: str):  # noqa: ANN001, ANN201
    """A core NATS subscription to ``subject`` and a queue of (arrival time, message)."""
    arrived: asyncio.Queue = asyncio.Queue()

    async def on_message(msg) -> None:  # noqa: ANN001
        arrived.put_nowait((time.perf_counter(), msg))

    return await nc.subscribe(subject, cb=on_message), arrived


@asynccontextmanager
async def service_process(servers: Servers, service: str, *,
                          probe: str) -> AsyncIterator[tuple[str, str, str]]:
    """``iso20400 serve <service>`` on a fresh database and namespace, ``probe`` (SQL) run once
    it is migrated and healthy; yields (namespace, database URL, base URL)."""
    namespace = fresh_namespace()
    with fresh_database(servers.postgres_url) as database_url, \
            tempfile.TemporaryDirectory(prefix="bench-latency-") as folder:
        port = free_port()
        base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ISO20400_NATS_URL": servers.nats_url,
               "ISO20400_DATABASE_URL": database_url, "ISO20400_BUS_NAMESPACE": namespace,
               "ISO20400_SECRET_KEY": secrets.token_urlsafe(48), "ISO20400_BASE_URL": base_url,
               # The benchmark asks for links before responses has learnt of them.
               "ISO20400_LINK_GUESSES_PER_MINUTE": "100000"}
        log = Path(folder) / f"{service}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "services.cli", "serve", service,
                                     "--port", str(port)], env=env, stdout=out, stderr=out)
        try:
            await _until_healthy(f"{base_url}/{service}/health", proc, log)
            async with await psycopg.AsyncConnection.connect(database_url,
                                                             autocommit=True) as conn:
                await conn.execute(probe)
            yield namespace, database_url, base_url
        finally:
            stop(proc)
            await remove_namespace(servers.nats_url, namespace)


async def _until_healthy(url: str, proc: subprocess.Popen, log: Path) -> None:
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"the service exited:\n{log.read_text()[-2000:]}")
        try:
            with await asyncio.to_thread(urllib.request.urlopen, url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError(f"the service never became healthy:\n{log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
