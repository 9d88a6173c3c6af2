"""The admin edits the mails per kind and language with placeholders, sees a preview as a
chosen respondent receives it, and the respondents get that text in their own language."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN
from tests.flows import create_questionnaire, invitation_links, login, send_invitations
from tests.integration.mail_helpers import csrf_of, rows

pytestmark = pytest.mark.integration


async def edit(client, q_id: str, kind: str, language: str, **form: str):  # noqa: ANN001, ANN201
    url = f"/admin/questionnaires/{q_id}/mail/{kind}/{language}"
    page = await client.get(url)
    assert page.status_code == 200
    return page, await client.post(url, data={"csrf": csrf_of(page.text), **form})


async def test_the_edit_page_is_prefilled_with_the_products_text_and_documents_placeholders(
        stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    page = await client.get(f"/admin/questionnaires/{q['id']}/mail/reminder_not_started/nl")
    assert "Herinnering: {titel} — {organisatie}" in page.text
    assert "{link}" in page.text and "de persoonlijke link van de respondent" in page.text
    english = await client.get(f"/admin/questionnaires/{q['id']}/mail/invitation/en?lang=en")
    assert "Dear {naam}," in english.text
    assert (await client.get(f"/admin/questionnaires/{q['id']}/mail/other/nl")).status_code \
        == 404


@pytest.mark.parametrize(("subject", "body", "field", "message"), [
    ("Hallo {voornaam}", "Beste {naam}, {link}", "subject",
     "Het invulveld {voornaam} bestaat niet"),
    ("Hallo", "Beste {naam, {link}", "body", "Er staat een losse accolade"),
    ("Hallo", "Beste {naam}, klik hier", "body", "De tekst moet de persoonlijke link bevatten"),
    ("Hallo\u2028daar", "Beste {naam}, {link}", "subject", "op één regel staan"),
])
async def test_a_text_with_a_wrong_placeholder_or_no_link_is_refused_and_nothing_changes(
        stack, subject, body, field, message):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    _, response = await edit(client, q["id"], "invitation", "nl", subject=subject, body=body)
    assert response.status_code == 422
    assert message in response.text
    assert f'id="{field}" name="{field}"' in response.text
    assert f'aria-invalid="true" aria-describedby="{field}-error"' in response.text
    assert 'role="alert"' in response.text  # the error summary
    assert await rows(stack, "SELECT 1 FROM invitations.mail_texts WHERE questionnaire_id = :q",
                      q=q["id"]) == []


async def test_the_edited_text_is_previewed_and_sent_in_each_respondents_language(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    await rows(stack, "UPDATE invitations.respondents SET language = 'en' "
                      "WHERE email = 'r2@voorbeeldstad.example'")
    _, saved = await edit(client, q["id"], "invitation", "nl",
                          subject="Doe mee: {titel}",
                          body="Hoi {naam},\n\nKlik {link} vóór {deadline}.\nGroet, {beheerder}")
    assert saved.status_code == 303
    assert "De tekst van de mail is opgeslagen." in (
        await client.get(saved.headers["location"])).text
    _, saved = await edit(client, q["id"], "invitation", "en", subject="Join: {title}",
                          body="Hi {name},\n\nClick {link}.\n{organisation}")
    assert saved.status_code == 303

    (person,) = await rows(stack, "SELECT id FROM invitations.respondents "
                                  "WHERE email = 'r1@voorbeeldstad.example'")
    preview = await client.get(f"/admin/questionnaires/{q['id']}/mail-preview",
                               params={"kind": "invitation", "respondent": str(person.id)})
    assert preview.status_code == 200
    assert "Doe mee: MVI-scan 2026" in preview.text
    assert "Hoi Respondent 1," in preview.text and "Groet, Demo Beheerder" in preview.text
    assert "/r/VOORBEELD-persoonlijke-link" in preview.text  # a sample, never a real link
    assert await rows(stack, "SELECT 1 FROM invitations.invitations WHERE questionnaire_id = :q",
                      q=q["id"]) == []  # previewing invites nobody

    await send_invitations(client, q["id"])
    await invitation_links(stack.sink, expected=2)
    mails = {m["to"]: m for m in stack.sink.messages()}
    dutch, english = mails["r1@voorbeeldstad.example"], mails["r2@voorbeeldstad.example"]
    assert dutch["subject"] == "Doe mee: MVI-scan 2026"
    assert dutch["text"].startswith("Hoi Respondent 1,") and "/r/" in dutch["text"]
    assert english["subject"] == "Join: MVI-scan 2026"
    assert "Hi Respondent 2," in english["text"] and "Gemeente Voorbeeldstad" in english["text"]
