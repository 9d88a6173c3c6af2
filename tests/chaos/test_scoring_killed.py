"""Scoring is killed with SIGKILL in the middle of its work and started again: every response is
scored once and the scan completes exactly once."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from shared.bus import events_stream
from shared.db import make_engine
from tests.conftest import ADMIN
from tests.flows import answer_and_submit, eventually, invitation_links, login

pytestmark = pytest.mark.chaos
RESPONDENTS = 40


async def count(engine, sql: str, **params) -> int:  # noqa: ANN001
    async with engine.connect() as conn:
        return await conn.scalar(sa.text(sql), params)


async def test_killing_scoring_mid_work_loses_nothing_and_completes_once(
        processes, mail_sink, settings, nats_url, monkeypatch):
    # Small batches, so that the backlog takes several and the kill can fall between them.
    monkeypatch.setenv("ISO20400_BATCH_SIZE", "5")
    engine = make_engine(settings.database_url)
    invitations = processes.url("invitations")
    async with httpx.AsyncClient(timeout=30) as admin:
        await login(admin, url=invitations, **ADMIN)
        created = await admin.post(f"{invitations}/admin/api/questionnaires", json={
            "title": "Chaos",
            "deadline": (date.today() + timedelta(days=30)).isoformat(),
            "respondents": [f"R{i} <r{i}@voorbeeldstad.example>" for i in range(RESPONDENTS)]})
        qid = uuid.UUID(created.json()["id"])
        await admin.post(f"{invitations}/admin/api/questionnaires/{qid}/send")
        links = await invitation_links(mail_sink, expected=RESPONDENTS)

        # Scoring is down while everyone answers, so a backlog waits for it in the stream.
        processes.kill("scoring")
        async with httpx.AsyncClient(base_url=processes.url("responses"), timeout=30) as r:
            for i, link in enumerate(links):
                answer = ("volledig", "deels", "niet")[i % 3]
                assert (await answer_and_submit(r, link, answer=answer)).status_code == 200
        async def all_published() -> bool:
            return await count(engine, "SELECT count(*) FROM responses.outbox WHERE published_at"
                                       " IS NOT NULL AND subject LIKE '%response.submitted'"
                               ) == RESPONDENTS

        await eventually(all_published, timeout=30, what="every response published")

        processes.start("scoring", wait=False)
        scored_sql = "SELECT count(*) FROM scoring.scored_responses WHERE questionnaire_id = :q"
        at_kill = await eventually(lambda: _between(engine, scored_sql, qid), timeout=60,
                                   interval=0.005, what="scoring to be part-way")
        processes.kill("scoring")
        processes.start("scoring")

        async def done():  # noqa: ANN202
            status = (await admin.get(f"{invitations}/admin/api/questionnaires/{qid}")).json()
            return status if len(status["reports"]) == 2 else None

        status = await eventually(done, timeout=120, what="the scan to complete")

    assert 1 <= at_kill < RESPONDENTS, "scoring was killed while it was still scoring"
    assert status["submitted"] == RESPONDENTS
    assert await count(engine, scored_sql, q=qid) == RESPONDENTS
    assert await count(engine, "SELECT count(*) FROM scoring.inbox WHERE consumer = "
                               "'scoring-score-responses'") == RESPONDENTS
    assert await count(engine, "SELECT count(*) FROM scoring.scan_results") == 1
    assert await count(engine, "SELECT count(*) FROM documents.documents") == 2
    await engine.dispose()

    import nats

    nc = await nats.connect(nats_url)
    try:
        info = await nc.jetstream().stream_info(
            events_stream(settings.bus_namespace),
            subjects_filter=f"{settings.bus_namespace}.*.scan.completed")
        assert sum(info.state.subjects.values()) == 1  # scan.completed, exactly once
    finally:
        await nc.close()


async def _between(engine, sql: str, qid: uuid.UUID) -> int | None:  # noqa: ANN001
    scored = await count(engine, sql, q=qid)
    return scored if scored >= 1 else None
