"""The admin's note per statement reaches respondents who have not submitted, as text, and only
in the admin's own organisation's scans."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from markupsafe import escape

from services.invitations.domain_guidance import MAX_GUIDANCE
from services.responses.handlers_guidance import on_guidance_changed
from shared.db import make_engine
from shared.events import GuidanceChanged
from shared.content import content
from shared.web import translate
from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import CSRF, eventually, invite_one, login, respondent_page, statement_ids

pytestmark = pytest.mark.integration

NOTE = "Kijk in ons <b>inkoopbeleid</b> & de MVI-criteria.\nVraag het Marieke bij twijfel."


async def statements_page(client, questionnaire_id: str):  # noqa: ANN001, ANN201
    return await client.get(f"/admin/questionnaires/{questionnaire_id}/statements")


async def save_notes(client, questionnaire_id: str, notes: dict[str, str]):  # noqa: ANN001, ANN201
    page = await statements_page(client, questionnaire_id)
    csrf = CSRF.search(page.text).group(1)
    return await client.post(f"/admin/questionnaires/{questionnaire_id}/statements",
                             data={"csrf": csrf, **{f"guidance-{k}": v for k, v in notes.items()}})


def note_of(page: str, statement_id: str) -> str | None:
    found = re.search(rf'<div class="guidance" id="guidance-{statement_id}">.*?'
                      r'<p class="guidance-text">(.*?)</p>', page, re.S)
    return found.group(1) if found else None


async def test_the_admin_sees_every_statement_numbered_with_its_help_text(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, _ = await invite_one(client, stack.sink)
    page = await statements_page(client, q["id"])
    assert page.status_code == 200
    scan = content()
    assert page.text.count("<textarea") == len(scan.statements)
    for s in scan.statements:
        assert str(escape(s.text_nl)) in page.text and str(escape(s.help_nl)) in page.text
    numbers = [int(n) for n in re.findall(r'<span class="number">(\d+)\.</span>', page.text)]
    assert numbers == list(range(1, len(scan.statements) + 1))
    english = await client.get(f"/admin/questionnaires/{q['id']}/statements?lang=en")
    assert str(escape(scan.statements[0].help_en)) in english.text


async def test_a_note_reaches_a_respondent_before_submitting_as_text_and_goes_when_emptied(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    respondent = stack.new_client()
    ids = statement_ids(await respondent_page(respondent, link))
    assert note_of(await respondent_page(respondent, link), ids[0]) is None

    saved = await save_notes(client, q["id"], {ids[0]: NOTE, ids[1]: "Tweede toelichting."})
    assert saved.status_code == 303
    admin_page = await client.get(saved.headers["location"])
    assert escape(translate("nl", "guidance.notice.saved")) in admin_page.text
    assert f">{escape(NOTE)}</textarea>" in admin_page.text

    async def shown():  # noqa: ANN202
        page = (await respondent.get(link)).text
        return page if note_of(page, ids[0]) and note_of(page, ids[1]) else None

    page = await eventually(shown, what="the notes on the respondent's page")
    # Shown as the organisation's note, as text, and read with the answer group.
    assert note_of(page, ids[0]) == str(escape(NOTE))
    assert "<b>inkoopbeleid</b>" not in page
    assert escape(translate("nl", "guidance.respondent_label")) in page
    assert re.search(rf'id="s-{ids[0]}"\s+aria-describedby="help-{ids[0]} guidance-{ids[0]}"',
                     page)
    assert re.search(rf'id="s-{ids[2]}"\s+aria-describedby="help-{ids[2]}"', page)
    english = (await respondent.get(f"{link}?lang=en")).text
    assert escape(translate("en", "guidance.respondent_label")) in english
    assert note_of(english, ids[0]) == str(escape(NOTE))

    # Saving answers keeps the note beside the statement.
    after_save = await respondent.post(link, data={f"answer-{ids[0]}": "deels",
                                                   "action": "save"})
    assert note_of(after_save.text, ids[0]) == str(escape(NOTE))

    emptied = await save_notes(client, q["id"], {ids[0]: "", ids[1]: "Tweede toelichting."})
    assert emptied.status_code == 303

    async def removed():  # noqa: ANN202
        page = (await respondent.get(link)).text
        return page if note_of(page, ids[0]) is None else None

    page = await eventually(removed, what="the emptied note gone from the respondent's page")
    assert note_of(page, ids[1]) == "Tweede toelichting."
    assert re.search(rf'id="s-{ids[0]}"\s+aria-describedby="help-{ids[0]}"', page)


async def test_a_note_is_never_shown_in_another_organisations_scan(stack):
    a_client, b_client = stack.client, stack.new_client()
    await login(a_client, **ADMIN)
    await login(b_client, **OTHER_ADMIN)
    qa, link_a = await invite_one(a_client, stack.sink)
    qb = (await b_client.post("/admin/api/questionnaires", json={
        "title": "Scan van de andere stad", "deadline": qa["deadline"][:10],
        "respondents": ["Bob <bob@anderstad.example>"]})).json()
    assert (await b_client.post(f"/admin/api/questionnaires/{qb['id']}/send")).status_code == 200

    def b_link():  # noqa: ANN202
        return next((m for msg in stack.sink.messages() if "bob@anderstad" in msg["to"]
                     for m in re.findall(r"/r/[A-Za-z0-9_-]{20,100}", msg["text"])), None)

    link_b = await eventually(b_link, what="B's invitation")
    ids = statement_ids(await respondent_page(a_client, link_a))
    await save_notes(a_client, qa["id"], {ids[0]: NOTE})
    await eventually(lambda: _has_note(a_client, link_a, ids[0]), what="A's note shown")

    b_page = await respondent_page(b_client, link_b)
    assert "Marieke" not in b_page and 'class="guidance"' not in b_page
    b_admin = await statements_page(b_client, qb["id"])
    assert "Marieke" not in b_admin.text
    # B's admin can neither read nor write A's notes.
    assert (await statements_page(b_client, qa["id"])).status_code == 404
    b_csrf = CSRF.search(b_admin.text).group(1)
    refused = await b_client.post(f"/admin/questionnaires/{qa['id']}/statements",
                                  data={"csrf": b_csrf, f"guidance-{ids[0]}": "Overschreven"})
    assert refused.status_code == 404
    assert note_of((await a_client.get(link_a)).text, ids[0]) == str(escape(NOTE))


async def _has_note(client, link: str, statement_id: str) -> bool:  # noqa: ANN001
    return note_of((await client.get(link)).text, statement_id) is not None


async def test_an_invalid_note_gives_the_form_again_marked_and_saves_nothing(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    ids = statement_ids(await respondent_page(client, link))
    too_long = "x" * (MAX_GUIDANCE + 1)
    answer = await save_notes(client, q["id"], {ids[0]: "Goede toelichting.", ids[1]: too_long})
    assert answer.status_code == 422
    page = answer.text
    assert escape(translate("nl", "form.has_errors")) in page
    assert f'href="#guidance-{ids[1]}"' in page
    assert re.search(rf'aria-describedby="hint-{ids[1]} error-{ids[1]}" aria-invalid="true"',
                     page)
    assert escape(translate("nl", "guidance.error.too_long", max=MAX_GUIDANCE)) in page
    assert ">Goede toelichting.</textarea>" in page  # as typed, not lost

    again = (await statements_page(client, q["id"])).text
    assert "Goede toelichting." not in again and too_long not in again
    control = await save_notes(client, q["id"], {ids[0]: "Met een \x07 belletje"})
    assert control.status_code == 422
    assert escape(translate("nl", "guidance.error.characters")) in control.text


async def test_responses_keeps_the_newest_note_and_only_from_the_scans_organisation(stack):
    """Events may arrive late or twice, or name another organisation: what the respondent
    sees is the newest note of the scan's own organisation."""
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    ids = statement_ids(await respondent_page(client, link))
    organisation_id = await _organisation_of(stack, q["id"])

    def changed(text: str, hour: int, **values) -> GuidanceChanged:  # noqa: ANN003
        return GuidanceChanged(**{"organisation_id": organisation_id, "questionnaire_id": q["id"],
                                  "statement_id": ids[0], "text": text,
                                  "changed_at": datetime(2026, 3, 1, hour, tzinfo=UTC),
                                  **values})

    async def handle(*events: GuidanceChanged) -> str | None:
        engine = make_engine(stack.settings.database_url)
        try:
            for event in events:
                async with engine.begin() as conn:
                    await on_guidance_changed(conn, event, None)
        finally:
            await engine.dispose()
        return note_of((await client.get(link)).text, ids[0])

    assert await handle(changed("Van een ander", 9, organisation_id=uuid.uuid4())) is None
    assert await handle(changed("Nieuw", 11), changed("Oud", 10)) == "Nieuw"
    assert await handle(changed("Nieuw", 11)) == "Nieuw"  # handled twice: the same
    assert await handle(changed("", 12), changed("Nieuw", 11)) is None  # removed stays removed


async def _organisation_of(stack, questionnaire_id: str):  # noqa: ANN001, ANN202
    url = stack.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT organisation_id FROM responses.questionnaires WHERE id = %s",
                            (questionnaire_id,)).fetchone()[0]
