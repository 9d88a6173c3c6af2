"""What the latency benchmark drives and observes with: the events an integrator publishes,
commits (LISTEN), arrivals on the bus, and a service running as its own process, as
``iso20400 serve`` runs it in production."""

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
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from bench.common import Servers
from shared.content import Answer, content
from shared.embedded import free_port
from shared.events import (
    AnswerGiven,
    InvitationSent,
    QuestionnaireCreated,
    ResponseSubmitted,
    encode,
    envelope,
    subject_for,
)
from shared.streams import events_stream
from shared.tokens import hash_token, new_token
from tests.servers import fresh_database, fresh_namespace, remove_namespace

Message = tuple[str, str, bytes]  # (key, also its Nats-Msg-Id; subject; body)


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


def questionnaire(*, total: int, tokens: list[str] | None = None,
                  ) -> tuple[list, Callable[[str], ResponseSubmitted]]:
    """A questionnaire's created event, an invitation for each personal link token (one if
    none are given), and a maker of submissions keyed by invitation id. Scoring completes the
    questionnaire once ``total`` are submitted."""
    scan = content()
    org, qid, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    setup = [QuestionnaireCreated(organisation_id=org, questionnaire_id=qid,
                                  organisation_name="Bench", title="Bench",
                                  content_version=scan.version,
                                  deadline=now + timedelta(days=1), created_at=now)]
    setup += [InvitationSent(organisation_id=org, questionnaire_id=qid,
                             invitation_id=uuid.uuid4(), respondent_id=uuid.uuid4(),
                             respondent_name="R", token_hash=hash_token(token),
                             invitations_total=total, sent_at=now)
              for token in tokens or [new_token()]]
    answers = tuple(AnswerGiven(statement_id=s.id, answer=Answer.DEELS) for s in scan.statements)

    def submitted(key: str) -> ResponseSubmitted:
        return ResponseSubmitted(organisation_id=org, questionnaire_id=qid,
                                 response_id=uuid.uuid4(), invitation_id=uuid.UUID(key),
                                 content_version=scan.version, submitted_at=now, answers=answers)
    return setup, submitted


class Bus:
    """This process's publisher of product events to a namespace's stream."""

    def __init__(self, nc, namespace: str) -> None:  # noqa: ANN001
        self.js, self.namespace = nc.jetstream(), namespace

    def message(self, event) -> Message:  # noqa: ANN001
        env = envelope(event, source="bench", time=datetime.now(UTC))
        return (str(env.id), subject_for(self.namespace, type(event), event.organisation_id),
                encode(env))

    async def send(self, event) -> None:  # noqa: ANN001
        key, subject, body = self.message(event)
        await self.js.publish(subject, body, stream=events_stream(self.namespace),
                              headers={"Nats-Msg-Id": key})
