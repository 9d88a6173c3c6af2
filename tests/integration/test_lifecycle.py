"""A scan's life as the admin sees it: create with a deadline time, edit, close with a
confirmation, states, the 23:59 Amsterdam edge, and no route open to another organisation."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.responses import api as responses_api
from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import (
    CSRF,
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
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def next_date(month: int, day: int) -> date:
    """The next such day at least a week ahead: winter or summer time as asked."""
    today = date.today()
    candidate = date(today.year, month, day)
    return candidate if candidate > today + timedelta(days=7) else date(today.year + 1, month,
                                                                          day)


async def test_a_scan_is_created_with_a_deadline_time_and_mail_language_shown_as_amsterdam_time(
        stack):
    client = stack.client
    await login(client, **ADMIN)
    form = await client.get("/admin/questionnaires/new")
    assert 'name="deadline_time"' in form.text and 'value="23:59"' in form.text
    day = date.today() + timedelta(days=12)
    created = await client.post("/admin/questionnaires", data={
        "title": "MVI-scan met tijd", "deadline": day.isoformat(), "deadline_time": "17:00",
        "mail_language": "en", "respondents": "Anna <anna@voorbeeldstad.example>"})
    assert created.status_code == 303
    page = await client.get(created.headers["location"])
    assert f"{day:%d-%m-%Y} 17:00 (Amsterdamse tijd)" in page.text
    assert "Concept" in page.text  # nobody invited yet: a draft
    dashboard = await client.get("/admin")
    assert re.search(r'MVI-scan met tijd</a></td>\s*<td[^>]*>[^<]*</td>\s*<td class="state"[^>]*>Concept',
                     dashboard.text)


async def test_a_date_alone_through_the_json_api_still_means_2359_that_day(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    deadline = datetime.fromisoformat(q["deadline"]).astimezone(AMSTERDAM)
    assert (deadline.hour, deadline.minute) == (23, 59)


async def test_the_admin_edits_title_and_deadline_and_respondents_see_them(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    edit = await client.get(f"/admin/questionnaires/{q['id']}/edit")
    assert edit.status_code == 200 and 'value="23:59"' in edit.text
    day = date.today() + timedelta(days=30)
    saved = await client.post(f"/admin/questionnaires/{q['id']}/edit", data={
        "title": "MVI-scan voorjaar", "deadline": day.isoformat(), "deadline_time": "12:00"})
    assert saved.status_code == 303
    page = await client.get(saved.headers["location"])
    assert "De wijzigingen zijn opgeslagen." in page.text
    assert "MVI-scan voorjaar" in page.text
    assert f"{day:%d-%m-%Y} 12:00 (Amsterdamse tijd)" in page.text
    await eventually(lambda: _shows(client, link, "MVI-scan voorjaar"),
                     what="the respondent's page to show the new title")


async def _shows(client, link: str, text: str) -> bool:  # noqa: ANN001
    return text in (await client.get(link)).text


@pytest.mark.parametrize(("title", "deadline", "field"), [
    ("MVI\u2028Bcc: x@evil.example", None, "title"),
    ("MVI\x85scan", None, "title"),
    ("MVI-scan", "gisteren", "deadline"),
    ("MVI-scan", (date.today() - timedelta(days=1)).isoformat(), "deadline"),
])
async def test_an_invalid_edit_shows_the_form_again_and_changes_nothing(stack, title, deadline,
                                                                        field):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1, title="Ongewijzigd")
    answer = await client.post(f"/admin/questionnaires/{q['id']}/edit", data={
        "title": title, "deadline": deadline or (date.today() + timedelta(days=5)).isoformat(),
        "deadline_time": "10:00"})
    assert answer.status_code == 422
    assert f'id="{field}"' in answer.text
    assert re.search(rf'id="{field}"[^>]*aria-invalid="true"[^>]*aria-describedby="{field}-error"'
                     rf'|aria-invalid="true" aria-describedby="{field}-error"', answer.text)
    assert f'href="#{field}"' in answer.text  # the error summary
    after = await questionnaire_status(client, q["id"])
    assert after["title"] == "Ongewijzigd" and after["deadline"] == q["deadline"]


async def test_closing_asks_for_confirmation_on_a_page_of_its_own_first(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, _ = await invite_one(client, stack.sink)
    page = await client.get(f"/admin/questionnaires/{q['id']}")
    assert f'href="/admin/questionnaires/{q["id"]}/close"' in page.text
    confirm = await client.get(f"/admin/questionnaires/{q['id']}/close")
    assert confirm.status_code == 200
    assert "Weet je zeker" in confirm.text
    assert f'action="/admin/questionnaires/{q["id"]}/close"' in confirm.text
    # asking changes nothing
    assert (await questionnaire_status(client, q["id"]))["status"] == "open"
    closed = await client.post(f"/admin/questionnaires/{q['id']}/close",
                               data={"csrf": CSRF.search(confirm.text).group(1)})
    assert closed.status_code == 303
    assert (await questionnaire_status(client, q["id"]))["status"] in ("closed", "completed")


@pytest.mark.parametrize("month", [1, 7])  # winter time and summer time
async def test_a_save_at_2358_amsterdam_time_is_taken_and_at_midnight_refused(stack, monkeypatch,
                                                                             month):
    client = stack.client
    await login(client, **ADMIN)
    day = next_date(month, 15)
    response = await client.post("/admin/api/questionnaires", json={
        "title": "Randgeval", "deadline": day.isoformat(),
        "respondents": ["Anna <anna@voorbeeldstad.example>"]})
    assert response.status_code == 201
    qid = response.json()["id"]
    await send_invitations(client, qid)
    (link,) = await invitation_links(stack.sink, expected=1)
    sid = statement_ids(await respondent_page(client, link))[0]

    monkeypatch.setattr(responses_api, "utcnow", lambda: datetime.combine(
        day, time(23, 58), tzinfo=AMSTERDAM).astimezone(UTC))
    in_time = await client.post(link, data={f"answer-{sid}": "deels", "action": "save"})
    assert in_time.status_code == 200

    monkeypatch.setattr(responses_api, "utcnow", lambda: datetime.combine(
        day + timedelta(days=1), time(0, 0), tzinfo=AMSTERDAM).astimezone(UTC))
    late = await client.post(link, data={f"answer-{sid}": "niet", "action": "save"})
    assert late.status_code == 409
    assert "De deadline is voorbij" in late.text
    assert re.search(r'value="deels"\s+checked', late.text)


async def test_every_lifecycle_route_answers_404_to_another_organisation(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1, title="Van Voorbeeldstad")
    other = stack.new_client()
    await login(other, **OTHER_ADMIN)
    base = f"/admin/questionnaires/{q['id']}"
    future = (date.today() + timedelta(days=9)).isoformat()
    for method, url, body in [
        ("GET", f"{base}/edit", None),
        ("POST", f"{base}/edit", {"data": {"title": "Gekaapt", "deadline": future}}),
        ("GET", f"{base}/close", None),
        ("GET", f"{base}/delete", None),
        ("POST", f"{base}/delete", {"data": {}}),
        ("POST", f"{base}/restore", {"data": {}}),
        ("POST", f"/admin/api/questionnaires/{q['id']}/edit",
         {"json": {"title": "Gekaapt", "deadline": future}}),
        ("POST", f"/admin/api/questionnaires/{q['id']}/delete", {"json": {}}),
        ("POST", f"/admin/api/questionnaires/{q['id']}/restore", {"json": {}}),
    ]:
        answer = await other.request(method, url, **(body or {}))
        assert answer.status_code == 404, (method, url, answer.status_code)
    after = await questionnaire_status(client, q["id"])
    assert after["title"] == "Van Voorbeeldstad"
    assert "Van Voorbeeldstad" in (await client.get("/admin")).text
    # Deleted by its own admin, it is listed for them only.
    assert (await client.post(f"/admin/api/questionnaires/{q['id']}/delete")).status_code == 200
    assert "Van Voorbeeldstad" in (await client.get("/admin/deleted-questionnaires")).text
    listed = await other.get("/admin/deleted-questionnaires")
    assert listed.status_code == 200 and "Van Voorbeeldstad" not in listed.text


async def test_an_unknown_scan_is_404_and_state_changes_need_the_csrf_token(stack):
    client = stack.client
    await login(client, **ADMIN)
    assert (await client.get(f"/admin/questionnaires/{uuid.uuid4()}/edit")).status_code == 404
    q = await create_questionnaire(client, respondents=1)
    tokenless = stack.new_client()
    tokenless.cookies = client.cookies
    refused = await tokenless.post(f"/admin/questionnaires/{q['id']}/delete", data={})
    assert refused.status_code == 403
    assert "Er zijn geen verwijderde scans." in (
        await client.get("/admin/deleted-questionnaires")).text
    assert (await questionnaire_status(client, q["id"]))["status"] == "open"
