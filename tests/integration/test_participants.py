"""Who takes part in a scan: chosen from the list when it is created, added and removed while
it runs. A removed respondent's link stops working and says so; the scan stops waiting."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape

from shared.db import make_engine
from shared.web import translate
from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import (
    STATEMENT_FIELD,
    answer_and_submit,
    create_questionnaire,
    eventually,
    invitation_links,
    login,
    questionnaire_status,
    respondent_page,
    send_invitations,
)

pytestmark = pytest.mark.integration
DEADLINE = (date.today() + timedelta(days=10)).isoformat()


def nl(key: str, **values: object) -> str:
    return str(escape(translate("nl", key, **values)))


async def add_person(client: httpx.AsyncClient, email: str, **more: object) -> str:
    response = await client.post("/admin/api/respondents", json={"email": email, **more})
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def me(client: httpx.AsyncClient) -> str:
    people = (await client.get("/admin/api/respondents")).json()
    return next(p["id"] for p in people if p["is_admin"])


async def participants(client: httpx.AsyncClient, questionnaire_id: str) -> dict[str, str]:
    response = await client.get(f"/admin/api/questionnaires/{questionnaire_id}/participants")
    assert response.status_code == 200, response.text
    return {p["email"]: p["state"] for p in response.json()}


def links_by_address(sink, links: list[str]) -> dict[str, str]:  # noqa: ANN001
    return {m["to"]: next(link for link in links if link in m["text"])
            for m in sink.messages() if any(link in m["text"] for link in links)}


async def scalar(stack, sql: str, **params: object):  # noqa: ANN001, ANN201
    engine = make_engine(stack.settings.database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(sa.text(sql), params)
    finally:
        await engine.dispose()


async def test_the_admin_adds_themself_to_a_new_scan_chosen_from_the_list(stack):
    client = stack.client
    await login(client, **ADMIN)
    myself = await me(client)
    anna = await add_person(client, "anna@voorbeeldstad.example", name="Anna", tags=["inkoop"])
    await add_person(client, "kees@voorbeeldstad.example", name="Kees", tags=["directie"])
    form = await client.get("/admin/questionnaires/new")
    assert f'value="{myself}"' in form.text and nl("participants.new.legend") in form.text

    filtered = await client.post("/admin/questionnaires", data={
        "title": "Mijn eigen scan", "deadline": DEADLINE, "tag": "inkoop", "action": "filter",
        "respondent": [myself]})
    assert filtered.status_code == 200
    assert 'value="Mijn eigen scan"' in filtered.text  # what was typed stays
    assert "anna@voorbeeldstad.example" in filtered.text
    assert "kees@voorbeeldstad.example" not in filtered.text
    assert f'type="hidden" name="respondent" value="{myself}"' in filtered.text  # kept ticked
    everyone = await client.post("/admin/questionnaires", data={
        "title": "Mijn eigen scan", "deadline": DEADLINE, "action": "all"})
    assert everyone.text.count(" checked>") == 3
    assert (await client.get("/admin/api/respondents")).status_code == 200
    assert "Mijn eigen scan" not in (await client.get("/admin")).text  # nothing created

    created = await client.post("/admin/questionnaires", data={
        "title": "Mijn eigen scan", "deadline": DEADLINE, "respondents": "",
        "respondent": [myself, anna]})
    assert created.status_code == 303, created.text
    questionnaire_id = created.headers["location"].split("/")[-1].split("?")[0]
    assert await participants(client, questionnaire_id) == {
        ADMIN["email"]: "not_invited", "anna@voorbeeldstad.example": "not_invited"}
    await send_invitations(client, questionnaire_id)
    await invitation_links(stack.sink, expected=2)
    assert {m["to"] for m in stack.sink.messages()} == {ADMIN["email"],
                                                        "anna@voorbeeldstad.example"}


async def test_a_new_scan_without_anyone_is_refused(stack):
    client = stack.client
    await login(client, **ADMIN)
    refused = await client.post("/admin/questionnaires", data={
        "title": "Leeg", "deadline": DEADLINE, "respondents": ""})
    assert refused.status_code == 422
    assert nl("form.error.respondents_empty") in refused.text


async def test_people_added_to_a_running_scan_are_invited_by_the_send_action(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    await send_invitations(client, q["id"])
    await invitation_links(stack.sink, expected=1)
    joke = await add_person(client, "joke@voorbeeldstad.example", name="Joke")

    scan_page = await client.get(f"/admin/questionnaires/{q['id']}")
    assert f"/admin/questionnaires/{q['id']}/participants" in scan_page.text
    page = await client.get(f"/admin/questionnaires/{q['id']}/participants")
    assert f'value="{joke}"' in page.text
    nobody = await client.post(f"/admin/questionnaires/{q['id']}/participants", data={})
    assert nobody.status_code == 422 and nl("participants.error.none_chosen") in nobody.text
    added = await client.post(f"/admin/questionnaires/{q['id']}/participants",
                              data={"respondent": [joke]})
    assert added.status_code == 303
    assert nl("participants.notice.added") in (await client.get(added.headers["location"])).text
    assert (await participants(client, q["id"]))["joke@voorbeeldstad.example"] == "not_invited"
    assert await send_invitations(client, q["id"]) == 1
    await invitation_links(stack.sink, expected=2)
    assert sorted(m["to"] for m in stack.sink.messages()) == [
        "joke@voorbeeldstad.example", "r1@voorbeeldstad.example"]
    assert (await questionnaire_status(client, q["id"]))["invited"] == 2


async def test_a_removed_participants_link_stops_working_and_says_so(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    await send_invitations(client, q["id"])
    links = links_by_address(stack.sink, await invitation_links(stack.sink, expected=2))
    link = links["r2@voorbeeldstad.example"]
    respondent = stack.new_client()
    statement = STATEMENT_FIELD.search(await respondent_page(respondent, link)).group(1)
    saved = await respondent.post(link, data={f"answer-{statement}": "deels"})
    assert saved.status_code == 200
    r2 = next(p["id"] for p in (await client.get("/admin/api/respondents")).json()
              if p["email"] == "r2@voorbeeldstad.example")

    confirm = await client.get(f"/admin/questionnaires/{q['id']}/participants/{r2}/remove")
    assert confirm.status_code == 200
    assert nl("participants.remove_explained_invited") in confirm.text
    removed = await client.post(f"/admin/questionnaires/{q['id']}/participants/{r2}/remove")
    assert removed.status_code == 303
    after = await client.get(removed.headers["location"])
    assert nl("participants.notice.removed") in after.text

    async def revoked() -> httpx.Response | None:
        response = await respondent.get(link)
        return response if response.status_code == 410 else None

    answer = await eventually(revoked, what="the revoked link")
    assert nl("msg.link_revoked") in answer.text
    assert (await respondent.post(link, data={f"answer-{statement}": "niet"})).status_code == 410
    assert await scalar(stack, "SELECT count(*) FROM responses.answers") == 1  # draft kept
    assert await participants(client, q["id"]) == {"r1@voorbeeldstad.example": "invited"}
    assert (await questionnaire_status(client, q["id"]))["invited"] == 1
    assert await send_invitations(client, q["id"]) == 0  # the send action skips them
    assert len(stack.sink.messages()) == 2
    other = links["r1@voorbeeldstad.example"]
    assert (await stack.new_client().get(other)).status_code == 200  # the others still work
    # Taken off, they are not offered again for this scan; they stay on the list.
    page = await client.get(f"/admin/questionnaires/{q['id']}/participants")
    assert f'value="{r2}"' not in page.text
    assert "r2@voorbeeldstad.example" in (await client.get("/admin/respondents")).text


async def test_the_scan_completes_once_when_the_last_one_waited_for_is_removed(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=3)
    await send_invitations(client, q["id"])
    links = links_by_address(stack.sink, await invitation_links(stack.sink, expected=3))
    people = {p["email"]: p["id"] for p in (await client.get("/admin/api/respondents")).json()}
    not_invited = await add_person(client, "laat@voorbeeldstad.example")
    assert (await client.post(f"/admin/api/questionnaires/{q['id']}/participants",
                              json={"respondent_ids": [not_invited]})).json() == {"added": 1}
    removed = await client.delete(
        f"/admin/api/questionnaires/{q['id']}/participants/{not_invited}")
    assert removed.json() == {"removed": True, "revoked": False}

    submitted = await answer_and_submit(stack.new_client(), links["r1@voorbeeldstad.example"])
    assert submitted.status_code == 200
    await eventually(lambda: _state_is(client, q["id"], "r1@voorbeeldstad.example",
                                        "submitted"), what="the submission")
    refused = await client.delete(
        f"/admin/api/questionnaires/{q['id']}/participants/{people['r1@voorbeeldstad.example']}")
    assert refused.status_code == 409  # a submitted response stays
    on_page = await client.post(f"/admin/questionnaires/{q['id']}/participants/"
                                f"{people['r1@voorbeeldstad.example']}/remove")
    assert on_page.status_code == 409 and nl("participants.error.submitted") in on_page.text
    r2 = await client.delete(
        f"/admin/api/questionnaires/{q['id']}/participants/{people['r2@voorbeeldstad.example']}")
    assert r2.json() == {"removed": True, "revoked": True}
    assert (await questionnaire_status(client, q["id"]))["status"] == "open"  # r3 still waited
    await client.delete(
        f"/admin/api/questionnaires/{q['id']}/participants/{people['r3@voorbeeldstad.example']}")

    async def completed() -> dict | None:
        status = await questionnaire_status(client, q["id"])
        return status if status["status"] == "completed" else None

    done = await eventually(completed, what="completion after the removal")
    assert done["submitted"] == 1 and done["invited"] == 1 and done["overall_percent"] == 100
    count = ("SELECT count(*) FROM scoring.outbox WHERE subject LIKE '%.scan.completed' "
             "AND convert_from(payload, 'UTF8') LIKE :q")
    assert await scalar(stack, count, q=f"%{q['id']}%") == 1
    closed = await client.post(f"/admin/api/questionnaires/{q['id']}/participants",
                               json={"respondent_ids": [not_invited]})
    assert closed.status_code == 409  # a finished scan takes nobody new


async def _state_is(client: httpx.AsyncClient, questionnaire_id: str, email: str,
                    state: str) -> bool:
    return (await participants(client, questionnaire_id)).get(email) == state


async def test_another_organisations_scan_or_respondent_is_not_found(stack):
    theirs = stack.new_client()
    await login(theirs, **OTHER_ADMIN)
    their_q = await create_questionnaire(theirs, respondents=1)
    their_person = next(p["id"] for p in (await theirs.get("/admin/api/respondents")).json()
                        if p["email"] == "r1@voorbeeldstad.example")
    client = stack.client
    await login(client, **ADMIN)
    mine = await create_questionnaire(client, respondents=1)
    my_person = next(p["id"] for p in (await client.get("/admin/api/respondents")).json()
                     if p["email"] == "r1@voorbeeldstad.example")
    for q, person in ((their_q["id"], my_person), (their_q["id"], their_person),
                      (mine["id"], their_person)):
        base = f"/admin/questionnaires/{q}/participants"
        api = f"/admin/api/questionnaires/{q}/participants"
        probes = [("GET", f"{base}/{person}/remove", {}), ("POST", f"{base}/{person}/remove", {}),
                  ("DELETE", f"{api}/{person}", {})]
        if q == their_q["id"]:
            probes += [("GET", base, {}), ("POST", base, {"data": {"respondent": [person]}}),
                       ("GET", api, {}), ("POST", api, {"json": {"respondent_ids": [person]}})]
        for method, url, kwargs in probes:
            response = await client.request(method, url, **kwargs)
            assert response.status_code == 404, (method, url, response.status_code)
    # Their person cannot be slipped into my scan, nor into a new one.
    slipped = await client.post(f"/admin/api/questionnaires/{mine['id']}/participants",
                                json={"respondent_ids": [their_person]})
    assert slipped.json() == {"added": 0}
    created = await client.post("/admin/questionnaires", data={
        "title": "Probeersel", "deadline": DEADLINE, "respondent": [their_person]})
    assert created.status_code == 422
    assert await participants(theirs, their_q["id"]) == {"r1@voorbeeldstad.example":
                                                         "not_invited"}
