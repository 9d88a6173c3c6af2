"""One scan through all four services in one process, on a real NATS and PostgreSQL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import sqlalchemy as sa

from shared.db import make_engine
from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import (
    answer_and_submit,
    create_questionnaire,
    eventually,
    invitation_links,
    invite_one,
    login,
    questionnaire_status,
    respondent_page,
    send_invitations,
    statement_ids,
)

pytestmark = pytest.mark.integration


async def completed(client: httpx.AsyncClient, qid: str, *, reports: int = 2):  # noqa: ANN201
    async def check():  # noqa: ANN202
        status = await questionnaire_status(client, qid)
        return status if status["status"] == "completed" and len(status["reports"]) == reports \
            else None

    return await eventually(check, timeout=60, what="the scan to complete")


async def test_three_respondents_complete_a_scan_and_the_admin_downloads_the_report(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=3)
    assert await send_invitations(client, q["id"]) == 3

    links = await invitation_links(stack.sink, expected=3)
    assert len(set(links)) == 3
    respondent = stack.new_client()
    for link, answer in zip(links, ("volledig", "deels", "niet"), strict=True):
        submitted = await answer_and_submit(respondent, link, answer=answer)
        assert submitted.status_code == 200, submitted.text[-3000:]
        assert "Bedankt" in submitted.text

    status = await completed(client, q["id"])
    assert status["submitted"] == 3
    assert status["overall_percent"] == pytest.approx(50.0)
    pdf = await client.get(status["reports"]["nl"])
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")

    result = await client.get(f"/scoring/api/questionnaires/{q['id']}/result")
    assert result.status_code == 200
    body = result.json()
    assert body["respondents"] == 3
    assert len(body["themes"]) == 19
    # One said Niet and another Volledig on every statement: every statement is a gap.
    assert len(body["perception_gaps"]) == len(body["statements"])


async def test_the_dashboard_and_the_report_belong_to_their_organisation_only(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink, title="Alleen van ons")
    await answer_and_submit(client, link)
    status = await completed(client, q["id"])

    other = stack.new_client()
    await login(other, **OTHER_ADMIN)
    assert (await other.get(f"/admin/api/questionnaires/{q['id']}")).status_code == 404
    assert (await other.get(status["reports"]["nl"])).status_code == 404
    assert (await other.get(f"/scoring/api/questionnaires/{q['id']}/result")).status_code == 404
    assert "Alleen van ons" not in (await other.get("/admin")).text
    anonymous = stack.new_client()
    assert (await anonymous.get(status["reports"]["nl"])).status_code == 303  # to the login


async def test_a_wrong_link_says_so_and_reveals_nothing(stack):
    response = await stack.client.get("/r/" + "x" * 43)
    assert response.status_code == 404
    assert "Deze link kennen we niet" in response.text


async def test_na_without_comment_is_refused_but_nothing_typed_is_lost(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    ids = statement_ids(await respondent_page(client, link))
    form = {f"answer-{sid}": "deels" for sid in ids}
    form[f"answer-{ids[0]}"] = "nvt"
    form[f"comment-{ids[1]}"] = "Dit geldt alleen voor ICT."
    refused = await client.post(link, data={**form, "action": "submit"})
    assert refused.status_code == 422
    assert "Leg kort uit waarom" in refused.text

    page = await client.get(link)
    assert "Dit geldt alleen voor ICT." in page.text
    assert len(re.findall(r'value="deels"\s+checked', page.text)) == len(ids) - 1
    assert (await questionnaire_status(client, q["id"]))["submitted"] == 0


async def test_after_the_deadline_a_respondent_sees_why_and_the_saved_answers_stay(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    ids = statement_ids(await respondent_page(client, link))
    saved = await client.post(link, data={f"answer-{ids[0]}": "volledig", "action": "save"})
    assert saved.status_code == 200

    engine = make_engine(stack.settings.database_url)
    async with engine.begin() as conn:  # the deadline passes
        await conn.execute(sa.text("UPDATE responses.questionnaires SET deadline = :d"),
                           {"d": datetime.now(UTC) - timedelta(minutes=1)})
    await engine.dispose()

    late = await client.post(link, data={f"answer-{ids[0]}": "niet", "action": "submit"})
    assert late.status_code == 409
    assert "De deadline is voorbij" in late.text
    assert re.search(r'value="volledig"\s+checked', late.text)
    assert (await questionnaire_status(client, q["id"]))["submitted"] == 0


async def test_an_invalid_questionnaire_form_names_each_problem_in_the_users_language(stack):
    client = stack.client
    await login(client, **ADMIN)
    page = await client.get("/admin/questionnaires/new?lang=en")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    response = await client.post("/admin/questionnaires", data={
        "csrf": csrf, "title": "x", "deadline": "2001-01-01", "respondents": "no address"})
    assert response.status_code == 422
    assert "Enter a title of 3 to 200 characters." in response.text
    assert "The deadline must be today or later." in response.text
    assert "A respondent line has no valid email address" in response.text
    assert 'value="x"' in response.text  # what was typed stays in the form


async def test_a_form_post_without_the_session_token_is_refused(stack):
    client = stack.client
    await login(client, **ADMIN)
    del client.headers["X-CSRF-Token"]
    response = await client.post("/admin/questionnaires", data={
        "title": "Zonder token", "deadline": "2099-01-01", "respondents": "a@b.example"})
    assert response.status_code == 403
    assert "Zonder token" not in (await client.get("/admin")).text


async def test_closing_a_scan_completes_it_with_the_responses_so_far(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=3)
    await send_invitations(client, q["id"])
    links = await invitation_links(stack.sink, expected=3)
    await answer_and_submit(client, links[0], answer="deels")
    await eventually(lambda: _submitted(client, q["id"], 1), what="the first response")
    closed = await client.post(f"/admin/api/questionnaires/{q['id']}/close")
    assert closed.status_code == 200

    status = await completed(client, q["id"])
    assert status["submitted"] == 1
    assert status["overall_percent"] == pytest.approx(50.0)
    await eventually(lambda: _page_says(client, links[1], "Deze scan is afgesloten"),
                     what="responses to learn of the closure")
    late = await answer_and_submit(client, links[1])
    assert late.status_code == 409
    assert "Deze scan is afgesloten" in late.text


async def _submitted(client: httpx.AsyncClient, qid: str, count: int) -> bool:
    return (await questionnaire_status(client, qid))["submitted"] >= count


async def _page_says(client: httpx.AsyncClient, link: str, text: str) -> bool:
    return text in (await client.get(link)).text
