"""PostgreSQL is down for 90 s in the middle of scoring: the work waits and then completes, each
scan exactly once, with nothing dead-lettered and the admin's counters right."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
import sqlalchemy as sa

from shared.db import make_engine
from tests.chaos.outage import (
    QUESTIONNAIRES,
    RESPONDENTS,
    Workload,
    all_healthy,
    assert_nothing_lost_nothing_twice,
    own_postgres,  # noqa: F401 - fixture
    restart,
    wait_for,
)
from tests.flows import eventually

pytestmark = [pytest.mark.chaos, pytest.mark.outage]
OUTAGE = 90.0


@pytest.fixture
def postgres_url(own_postgres):  # noqa: ANN001, ANN201, F811
    return own_postgres.admin_url()


async def test_postgresql_down_for_90_seconds_delays_the_scans_and_loses_nothing(
        processes, mail_sink, settings, own_postgres, nats_url, monkeypatch):  # noqa: F811
    # Small batches, so that the backlog takes several and the outage can fall between them.
    monkeypatch.setenv("ISO20400_BATCH_SIZE", "5")
    work = Workload(processes, mail_sink, settings)
    await work.create_and_invite()
    total = QUESTIONNAIRES * RESPONDENTS

    # Scoring is down while everyone answers, so a backlog waits for it in the stream.
    processes.kill("scoring")
    await work.submit(work.links)
    engine = make_engine(settings.database_url)
    async with engine.connect() as conn:
        async def scored() -> int:
            return await conn.scalar(sa.text("SELECT count(*) FROM scoring.scored_responses"))

        async def all_published() -> bool:
            return await conn.scalar(sa.text(
                "SELECT count(*) FROM responses.outbox WHERE published_at IS NULL")) == 0

        await eventually(all_published, timeout=30, what="every response published")
        processes.start("scoring", wait=False)
        at_stop = await eventually(scored, timeout=60, interval=0.005, what="scoring under way")
    own_postgres.proc.kill()  # SIGKILL: a crash, in the middle of scoring
    stopped = time.monotonic()
    await engine.dispose()

    # During the outage every service answers, and says it is not ready and why.
    await asyncio.sleep(10)
    async with httpx.AsyncClient(timeout=5) as client:
        health = await client.get(f"{processes.url('scoring')}/scoring/health")
        page = await work.admin.get(f"/admin/api/questionnaires/{work.ids[0]}")
    assert health.status_code == 503
    assert "database unavailable" in health.json()["reason"]
    assert page.status_code == 503 and page.headers["retry-after"]  # never a 500

    await asyncio.sleep(OUTAGE - (time.monotonic() - stopped))
    restart(own_postgres)
    took = await wait_for(work.all_completed, "every scan completed", timeout=180)
    print(f"\nPostgreSQL outage {OUTAGE:.0f}s, stopped with {at_stop}/{total} responses "
          f"scored: last scan completed {took:.1f}s after PostgreSQL returned")
    await wait_for(work.all_reported, "every report made", timeout=120)
    await wait_for(lambda: all_healthy(processes), "every service ready", timeout=30)

    assert 1 <= at_stop < total, "PostgreSQL went down while scoring was under way"
    await assert_nothing_lost_nothing_twice(work, nats_url)
    await work.close()
