"""What the outage tests share: servers of their own (they kill them), a workload of several
scans over HTTP, and the checks that nothing was lost, nothing done twice, nothing dead-lettered."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import nats
import pytest
import sqlalchemy as sa

from shared.bus import dead_letter_stream, events_stream
from shared.db import make_engine
from shared.embedded import EmbeddedNats, EmbeddedPostgres, free_port
from tests.conftest import ADMIN
from tests.flows import answer_and_submit, eventually, invitation_links, login
from tests.processes import NAMES

QUESTIONNAIRES = 3
RESPONDENTS = 8  # per questionnaire


@pytest.fixture
def own_nats():  # noqa: ANN201
    folder = Path(tempfile.mkdtemp(prefix="iso20400-outage-nats-"))
    server = EmbeddedNats(folder).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def own_postgres():  # noqa: ANN201
    folder = Path(tempfile.mkdtemp(prefix="iso20400-outage-pg-"))
    server = EmbeddedPostgres(folder).start()
    yield server
    server.stop()
    shutil.rmtree(folder, ignore_errors=True)


def restart(server) -> None:  # noqa: ANN001
    """The same server again: same port, same data folder (the fixture still stops it)."""
    server.start()


class Workload:
    """Several questionnaires, each with its respondents, driven over HTTP as people would."""

    def __init__(self, processes, mail_sink, settings) -> None:  # noqa: ANN001
        self.processes = processes
        self.sink = mail_sink
        self.settings = settings
        self.admin = httpx.AsyncClient(base_url=processes.url("invitations"), timeout=30)
        self.ids: list[uuid.UUID] = []
        self.links: list[str] = []

    async def create_and_invite(self) -> None:
        await login(self.admin, **ADMIN)
        for q in range(QUESTIONNAIRES):
            created = await self.admin.post("/admin/api/questionnaires", json={
                "title": f"Outage {q}", "deadline": (date.today() + timedelta(days=30)).isoformat(),
                "respondents": [f"R{q}-{i} <r{q}-{i}@voorbeeldstad.example>"
                                for i in range(RESPONDENTS)]})
            assert created.status_code == 201, created.text
            self.ids.append(uuid.UUID(created.json()["id"]))
            sent = await self.admin.post(f"/admin/api/questionnaires/{self.ids[-1]}/send")
            assert sent.status_code == 200, sent.text
        self.links = await invitation_links(self.sink, expected=QUESTIONNAIRES * RESPONDENTS,
                                            timeout=60)

    async def submit(self, links: list[str]) -> None:
        async with httpx.AsyncClient(base_url=self.processes.url("responses"), timeout=30) as r:
            for i, link in enumerate(links):
                answer = ("volledig", "deels", "niet")[i % 3]
                response = await answer_and_submit(r, link, answer=answer, timeout=60)
                assert response.status_code == 200, response.text

    async def statuses(self) -> list[dict]:
        return [(await self.admin.get(f"/admin/api/questionnaires/{q}")).json() for q in self.ids]

    async def all_completed(self) -> bool:
        try:
            return all(s["status"] == "completed" for s in await self.statuses())
        except (httpx.HTTPError, KeyError, ValueError):
            return False

    async def all_reported(self) -> bool:
        try:
            return all(len(s["reports"]) == 2 for s in await self.statuses())
        except (httpx.HTTPError, KeyError, ValueError):
            return False

    async def close(self) -> None:
        await self.admin.aclose()


async def count(database_url: str, sql: str) -> int:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text(sql))
    finally:
        await engine.dispose()


async def assert_nothing_lost_nothing_twice(work: Workload, nats_url: str) -> None:
    total = QUESTIONNAIRES * RESPONDENTS
    for status in await work.statuses():
        assert status["status"] == "completed"
        assert status["invited"] == status["submitted"] == RESPONDENTS  # the admin's counters
    db = work.settings.database_url
    assert await count(db, "SELECT count(*) FROM scoring.scored_responses") == total
    assert await count(db, "SELECT count(*) FROM scoring.scan_results") == QUESTIONNAIRES
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        ns = work.settings.bus_namespace
        dead = (await js.stream_info(dead_letter_stream(ns))).state.messages
        assert dead == 0, "the dead-letter stream is empty"
        completed = []
        info = await js.stream_info(events_stream(ns))
        for seq in range(1, info.state.last_seq + 1):
            msg = await js.get_msg(events_stream(ns), seq)
            if msg.subject.endswith(".scan.completed"):
                completed.append(json.loads(msg.data)["data"]["questionnaire_id"])
        assert sorted(completed) == sorted(str(q) for q in work.ids), "each scan completed once"
    finally:
        await nc.close()


async def all_healthy(processes) -> bool:  # noqa: ANN001
    async with httpx.AsyncClient(timeout=2) as client:
        for name in NAMES:
            try:
                if (await client.get(f"{processes.url(name)}/{name}/health")).status_code != 200:
                    return False
            except httpx.HTTPError:
                return False
    return True


async def wait_for(check, what: str, timeout: float) -> float:  # noqa: ANN001
    """Seconds it took ``check`` to hold."""
    started = time.monotonic()
    await eventually(check, timeout=timeout, interval=0.2, what=what)
    return time.monotonic() - started


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def extra_replica(processes, name: str, log: Path) -> subprocess.Popen:  # noqa: ANN001
    """One more replica of a service beside the fixture's, once it is healthy."""
    port = free_port()
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name, "--no-migrate",
             "--port", str(port)], env=processes.env(), stdout=out, stderr=subprocess.STDOUT)

    async def healthy() -> bool:
        try:
            async with httpx.AsyncClient(timeout=2) as client:
                return (await client.get(f"http://127.0.0.1:{port}/{name}/health")
                        ).status_code == 200
        except httpx.HTTPError:
            return False

    await eventually(healthy, timeout=60, what=f"the extra {name} replica")
    return proc


async def seconds_to_stop(proc: subprocess.Popen, limit: float) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    while proc.poll() is None and time.monotonic() - started < limit + 5:
        await asyncio.sleep(0.1)
    if proc.poll() is None:
        proc.kill()
        proc.wait(5)
    return time.monotonic() - started
