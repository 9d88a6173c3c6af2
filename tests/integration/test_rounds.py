"""Reopening a completed scan: respondents carry on through the same link with nothing lost,
the first result stays as round 1, and the next completion makes round 2 over everyone."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from shared.db import make_engine
from tests.conftest import ADMIN
from tests.flows import (
    answer_and_submit,
    create_questionnaire,
    eventually,
    invitation_links,
    login,
    questionnaire_status,
    respondent_page,
    send_invitations,
    statement_ids,
)

pytestmark = pytest.mark.integration


async def _completed(client, qid: str, *, percent: float) -> dict | None:  # noqa: ANN001
    status = await questionnaire_status(client, qid)
    done = (status["status"] == "completed" and len(status["reports"]) == 2
            and status["overall_percent"] == pytest.approx(percent))
    return status if done else None


async def test_a_reopened_scan_keeps_earlier_answers_and_gives_a_second_result_round(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    await send_invitations(client, q["id"])
    first, second = await invitation_links(stack.sink, expected=2)
    respondent = stack.new_client()
    assert (await answer_and_submit(respondent, first, answer="volledig")).status_code == 200
    ids = statement_ids(await respondent_page(respondent, second))
    draft = await respondent.post(second, data={f"answer-{ids[0]}": "deels", "action": "save"})
    assert draft.status_code == 200

    # Round 1: the admin closes with one response in.
    await client.post(f"/admin/api/questionnaires/{q['id']}/close")
    round_1 = await eventually(lambda: _completed(client, q["id"], percent=100.0), timeout=60,
                               what="round 1")
    assert round_1["submitted"] == 1

    # The deadline moves into the future: the scan opens again.
    new_day = date.today() + timedelta(days=20)
    edited = await client.post(f"/admin/questionnaires/{q['id']}/edit", data={
        "title": q["title"], "deadline": new_day.isoformat(), "deadline_time": "23:59"})
    assert edited.status_code == 303
    page = await client.get(edited.headers["location"])
    assert "De scan is heropend" in page.text
    assert (await questionnaire_status(client, q["id"]))["status"] == "open"

    # The second respondent's saved answer is still there, through the same link.
    async def reopened_page():  # noqa: ANN202
        text = (await respondent.get(second)).text
        return text if "De scan is afgesloten" not in text and "disabled" not in text else None

    text = await eventually(reopened_page, what="the respondent's page to open again")
    assert re.search(r'value="deels"\s+checked', text)
    assert (await answer_and_submit(respondent, second, answer="niet")).status_code == 200

    # Everyone invited has now submitted: round 2 over both responses, the earlier included.
    round_2 = await eventually(lambda: _completed(client, q["id"], percent=50.0), timeout=60,
                               what="round 2")
    assert round_2["submitted"] == 2
    result = (await client.get(f"/scoring/api/questionnaires/{q['id']}/result")).json()
    assert result["overall_percent"] == pytest.approx(50.0)
    assert "Uitslagronde" in (await client.get(f"/admin/questionnaires/{q['id']}")).text

    async def all_reports():  # noqa: ANN202
        documents = (await client.get(f"/documents/api/questionnaires/{q['id']}")).json()
        return documents if len(documents) == 4 else None  # two languages, two rounds

    documents = await eventually(all_reports, timeout=60, what="round 2's reports")
    round_2_files = {d["url"] for d in documents if re.search(r"-2-(nl|en)\.pdf$", d["filename"])}
    assert len(round_2_files) == 2

    async def latest_linked():  # noqa: ANN202
        reports = (await questionnaire_status(client, q["id"]))["reports"]
        return set(reports.values()) == round_2_files

    await eventually(latest_linked, what="the scan page to offer round 2's reports")
    engine = make_engine(stack.settings.database_url)
    async with engine.connect() as conn:
        rounds = (await conn.execute(sa.text(
            "SELECT round, reason, (result ->> 'overall_percent')::float FROM scoring.scan_results "
            "WHERE questionnaire_id = :id ORDER BY round"), {"id": q["id"]})).all()
    await engine.dispose()
    assert [tuple(r) for r in rounds] == [(1, "closed_by_admin", 100.0),
                                          (2, "all_submitted", 50.0)]


async def test_a_reopened_scan_that_everyone_had_submitted_waits_for_its_deadline_or_close(
        stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    await send_invitations(client, q["id"])
    (link,) = await invitation_links(stack.sink, expected=1)
    assert (await answer_and_submit(stack.new_client(), link)).status_code == 200
    await eventually(lambda: _completed(client, q["id"], percent=100.0), timeout=60,
                     what="round 1")

    edit = await client.post(f"/admin/api/questionnaires/{q['id']}/edit", json={
        "title": q["title"], "deadline": (date.today() + timedelta(days=5)).isoformat()})
    assert edit.json()["reopened"] is True
    assert (await questionnaire_status(client, q["id"]))["status"] == "open"
    # Nobody is left to submit: round 2 comes with the close, not at once.
    await client.post(f"/admin/api/questionnaires/{q['id']}/close")

    async def round_2():  # noqa: ANN202
        engine = make_engine(stack.settings.database_url)
        async with engine.connect() as conn:
            rounds = (await conn.execute(sa.text(
                "SELECT round, reason FROM scoring.scan_results WHERE questionnaire_id = :id "
                "ORDER BY round"), {"id": q["id"]})).all()
        await engine.dispose()
        return rounds if len(rounds) == 2 else None

    rounds = await eventually(round_2, timeout=60, what="round 2")
    assert [tuple(r) for r in rounds] == [(1, "all_submitted"), (2, "closed_by_admin")]
