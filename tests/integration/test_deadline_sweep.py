"""The deadline passing closes a scan by itself, once, however many replicas sweep."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from services.invitations.store import metadata
from services.invitations.usecases_lifecycle import Lifecycle
from shared.db import Messaging, make_engine
from tests.conftest import ADMIN
from tests.flows import (
    answer_and_submit,
    create_questionnaire,
    eventually,
    invitation_links,
    login,
    questionnaire_status,
    send_invitations,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings):  # noqa: ANN001, ANN201
    return settings.model_copy(update={"sweep_interval": 0.2})


async def _deadline_passes(stack, qid: str) -> None:  # noqa: ANN001
    """The test's stand-in for waiting until the deadline: it is moved a minute back."""
    engine = make_engine(stack.settings.database_url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("UPDATE invitations.questionnaires SET deadline = :d "
                                   "WHERE id = :id"),
                           {"d": datetime.now(UTC) - timedelta(minutes=1), "id": qid})
    await engine.dispose()


async def test_a_scan_past_its_deadline_closes_by_itself_and_completes_with_the_answers_so_far(
        stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    await send_invitations(client, q["id"])
    first, _ = await invitation_links(stack.sink, expected=2)
    assert (await answer_and_submit(stack.new_client(), first, answer="deels")).status_code == 200
    await eventually(lambda: _submitted(client, q["id"], 1), what="the submission to count")

    await _deadline_passes(stack, q["id"])

    async def completed():  # noqa: ANN202
        status = await questionnaire_status(client, q["id"])
        return status if status["status"] == "completed" else None

    status = await eventually(completed, timeout=60, what="the sweep to close the scan")
    assert status["submitted"] == 1
    assert status["overall_percent"] == pytest.approx(50.0)
    result = await client.get(f"/scoring/api/questionnaires/{q['id']}/result")
    assert result.status_code == 200
    engine = make_engine(stack.settings.database_url)
    async with engine.connect() as conn:
        reason = await conn.scalar(sa.text(
            "SELECT reason FROM scoring.scan_results WHERE questionnaire_id = :id"),
            {"id": q["id"]})
    await engine.dispose()
    assert reason == "deadline_passed"


async def _submitted(client, qid: str, count: int) -> bool:  # noqa: ANN001
    return (await questionnaire_status(client, qid))["submitted"] == count


async def test_sweepers_racing_close_an_overdue_scan_exactly_once(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    await _deadline_passes(stack, q["id"])

    # Two more replicas' sweeps, on engines of their own, at the same moment as the stack's.
    engines = [make_engine(stack.settings.database_url) for _ in range(2)]
    sweepers = [Lifecycle(engine=engine, messaging=Messaging(
        metadata, service="invitations", namespace=stack.settings.bus_namespace))
        for engine in engines]
    now = datetime.now(UTC)
    closed = await asyncio.gather(*(s.close_overdue(now=now) for s in sweepers))
    assert sum(closed) <= 1  # the stack's own sweep may have been first

    await eventually(lambda: _status_in(client, q["id"], ("closed", "completed")),
                     what="the scan to be closed")
    await asyncio.sleep(1)  # several more sweeps of the stack's own
    async with engines[0].connect() as conn:
        events = await conn.scalar(sa.text(
            "SELECT count(*) FROM invitations.outbox WHERE subject LIKE '%.questionnaire.closed' "
            "AND convert_from(payload, 'UTF8') LIKE :id"), {"id": f"%{q['id']}%"})
    for engine in engines:
        await engine.dispose()
    assert events == 1


async def _status_in(client, qid: str, states: tuple[str, ...]) -> bool:  # noqa: ANN001
    return (await questionnaire_status(client, qid))["status"] in states


async def test_a_scan_whose_deadline_is_ahead_stays_open(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    await asyncio.sleep(1)
    assert (await questionnaire_status(client, q["id"]))["status"] == "open"
