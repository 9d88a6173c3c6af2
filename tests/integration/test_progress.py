"""The scan's progress (invited, started, submitted) follows what respondents do, from events."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import psycopg
import pytest

from services.invitations.handlers_progress import on_response_started
from shared.db import make_engine
from shared.events import ResponseStarted
from shared.web import translate
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


def counts(status: dict) -> tuple[int, int, int]:
    return status["invited"], status["started"], status["submitted"]


async def progress_becomes(client, questionnaire_id: str, expected: tuple[int, int, int]):  # noqa: ANN001, ANN201
    async def reached():  # noqa: ANN202
        return counts(await questionnaire_status(client, questionnaire_id)) == expected

    await eventually(reached, what=f"progress {expected}")


def dashboard_row(page: str, questionnaire_id: str) -> list[str]:
    row = re.search(rf'<tr>\s*<td[^>]*><a href="/admin/questionnaires/{questionnaire_id}">.*?</tr>',
                    page, re.S).group(0)
    return re.findall(r'<td class="number"[^>]*>(\d+)</td>', row)


def started_events(settings) -> int:  # noqa: ANN001
    url = settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM responses.outbox "
                            "WHERE subject LIKE '%.response.started'").fetchone()[0]


async def test_progress_counts_invited_started_and_submitted_once_each(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=3)
    assert counts(await questionnaire_status(client, q["id"])) == (0, 0, 0)
    await send_invitations(client, q["id"])
    first, second, _ = await invitation_links(stack.sink, expected=3)
    await progress_becomes(client, q["id"], (3, 0, 0))  # once the mails went out

    # One respondent saves three times: started once.
    respondent = stack.new_client()
    ids = statement_ids(await respondent_page(respondent, first))
    for answer in ("niet", "deels", "volledig"):
        saved = await respondent.post(first, data={f"answer-{ids[0]}": answer, "action": "save"})
        assert saved.status_code == 200
    await progress_becomes(client, q["id"], (3, 1, 0))
    assert started_events(stack.settings) == 1

    # Another submits at once, without saving first: started and submitted.
    assert (await answer_and_submit(stack.new_client(), second)).status_code == 200
    await progress_becomes(client, q["id"], (3, 2, 1))
    assert started_events(stack.settings) == 2

    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    assert translate("nl", "progress.summary", invited=3, started=2, submitted=1) in page
    english = (await client.get(f"/admin/questionnaires/{q['id']}?lang=en")).text
    assert "3 invited · 2 started · 1 submitted" in english
    assert dashboard_row((await client.get("/admin")).text, q["id"]) == ["3", "2", "1"]


async def test_a_scan_not_yet_sent_shows_nothing_invited(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    assert translate("nl", "progress.summary", invited=0, started=0, submitted=0) in page
    assert dashboard_row((await client.get("/admin")).text, q["id"]) == ["0", "0", "0"]


async def test_a_start_counts_only_for_the_organisation_that_owns_the_invitation(stack):
    """An event naming another organisation (a forged or misrouted one) changes nothing, and a
    start handled twice keeps the first moment."""
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    await send_invitations(client, q["id"])
    await progress_becomes(client, q["id"], (1, 0, 0))
    url = stack.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        invitation_id, organisation_id = conn.execute(
            "SELECT id, organisation_id FROM invitations.invitations").fetchone()

    def started(**values) -> ResponseStarted:  # noqa: ANN003
        return ResponseStarted(**{"organisation_id": organisation_id,
                                  "questionnaire_id": q["id"], "invitation_id": invitation_id,
                                  "response_id": uuid.uuid4(),
                                  "started_at": datetime(2026, 3, 1, 9, tzinfo=UTC), **values})

    engine = make_engine(stack.settings.database_url)
    try:
        async with engine.begin() as conn:
            await on_response_started(conn, started(organisation_id=uuid.uuid4()), None)
        assert counts(await questionnaire_status(client, q["id"])) == (1, 0, 0)
        async with engine.begin() as conn:
            await on_response_started(conn, started(), None)
            await on_response_started(conn, started(started_at=datetime(2026, 3, 2, tzinfo=UTC)),
                                      None)
    finally:
        await engine.dispose()
    assert counts(await questionnaire_status(client, q["id"])) == (1, 1, 0)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT started_at FROM invitations.invitations").fetchone()[0] \
            == datetime(2026, 3, 1, 9, tzinfo=UTC)
