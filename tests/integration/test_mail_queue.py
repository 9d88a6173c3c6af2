"""Sending is queued: the request returns at once and the mail worker sends, records refusals
with their reason, waits out an SMTP server that is down; per respondent a resent invitation
and a new link."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import (
    LINK,
    create_questionnaire,
    eventually,
    invitation_links,
    invite_one,
    login,
    respondent_page,
    send_invitations,
)
from tests.integration.mail_helpers import add_participants, csrf_of, mail_count, rows

pytestmark = pytest.mark.integration


async def test_two_thousand_invitations_are_queued_in_a_request_and_all_reach_the_mail_server(
        stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=500)
    await add_participants(stack, q["id"], 1500, start=1)
    started = time.monotonic()
    response = await client.post(f"/admin/questionnaires/{q['id']}/send",
                                 data={"csrf": client.headers["X-CSRF-Token"]})
    took = time.monotonic() - started
    assert response.status_code == 303 and took < 1.0, took
    page = await client.get(response.headers["location"])
    assert "2000 uitnodiging(en) in de wachtrij gezet" in page.text
    await eventually(lambda: mail_count(stack.sink) >= 2000, timeout=240, interval=0.5,
                     what="2,000 invitation mails")
    print(f"\n2,000 invitations: request {took:.2f} s, all in the SMTP sink after "
          f"{time.monotonic() - started:.1f} s")
    await eventually(lambda: rows(stack, "SELECT 1 FROM invitations.invitations WHERE "
                                  "questionnaire_id = :q AND mail_state = 'sent' "
                                  "HAVING count(*) = 2000", q=q["id"]), timeout=30)
    assert mail_count(stack.sink) == 2000  # each once


async def test_a_refused_address_is_marked_mail_failed_with_the_reason_and_the_others_are_sent(
        stack):
    stack.sink.refuse = lambda address: ((550, "5.1.1 Mailbox unknown")
                                         if address.startswith(("r10@", "r20@")) else None)
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=20)
    assert await send_invitations(client, q["id"]) == 20
    await invitation_links(stack.sink, expected=18)

    async def failed_shown():  # noqa: ANN202
        page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
        return page if page.count("Mail mislukt: 550 5.1.1 Mailbox unknown") == 2 else None

    page = await eventually(failed_shown, what="two failed mails on the scan page")
    assert page.count("Uitgenodigd op") == 18
    assert {m["to"] for m in stack.sink.messages()}.isdisjoint(
        {"r10@voorbeeldstad.example", "r20@voorbeeldstad.example"})


async def test_a_temporary_refusal_is_tried_again_later_not_failed(stack):
    stack.sink.refuse = lambda address: (451, "4.7.1 Try again later")
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    await send_invitations(client, q["id"])
    (mail,) = await eventually(lambda: rows(
        stack, "SELECT state, attempts, last_error FROM invitations.mails "
               "WHERE questionnaire_id = :q AND attempts > 0", q=q["id"]))
    assert mail.state == "queued" and mail.attempts == 1 and "451" in mail.last_error
    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    assert "In de wachtrij" in page and "Mail mislukt" not in page


async def test_an_smtp_server_that_is_down_delays_the_mails_without_spending_attempts(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=3)
    stack.sink.stop()
    assert await send_invitations(client, q["id"]) == 3
    await eventually(lambda: rows(stack, "SELECT 1 FROM invitations.mails WHERE "
                                  "questionnaire_id = :q AND last_error IS NOT NULL", q=q["id"]),
                     what="a try while the server is down")
    mails = await rows(stack, "SELECT state, attempts FROM invitations.mails "
                              "WHERE questionnaire_id = :q", q=q["id"])
    assert all(m.attempts == 0 and m.state in ("queued", "sending") for m in mails)
    assert (await client.get(f"/admin/questionnaires/{q['id']}")).text.count(
        "In de wachtrij") == 3
    stack.sink.start()
    await invitation_links(stack.sink, expected=3, timeout=30)
    mails = await eventually(lambda: rows(
        stack, "SELECT max(attempts) AS most FROM invitations.mails WHERE questionnaire_id = :q "
               "AND state = 'sent' HAVING count(*) = 3", q=q["id"]))
    assert mails[0].most == 1  # only the try that worked


async def test_sending_to_chosen_respondents_only_and_revoked_ones_never(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=3)
    people = await rows(stack, "SELECT r.id, r.email FROM invitations.respondents r JOIN "
                               "invitations.participants p ON p.respondent_id = r.id "
                               "WHERE p.questionnaire_id = :q ORDER BY r.email", q=q["id"])
    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    response = await client.post(f"/admin/questionnaires/{q['id']}/send", data={
        "csrf": csrf_of(page), "selection": "chosen", "respondent": [str(people[0].id)]})
    assert response.status_code == 303
    assert "1 uitnodiging(en) in de wachtrij gezet" in (
        await client.get(response.headers["location"])).text
    await invitation_links(stack.sink, expected=1)
    assert [m["to"] for m in stack.sink.messages()] == [people[0].email]
    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    assert page.count("Niet uitgenodigd") == 2


async def test_a_resent_invitation_brings_a_new_link_and_the_earlier_one_keeps_working(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, first = await invite_one(client, stack.sink)
    await respondent_page(client, first)
    (person,) = await rows(stack, "SELECT respondent_id FROM invitations.invitations "
                                  "WHERE questionnaire_id = :q", q=q["id"])
    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    response = await client.post(
        f"/admin/questionnaires/{q['id']}/respondents/{person.respondent_id}/resend",
        data={"csrf": csrf_of(page)})
    assert response.status_code == 303
    links = await invitation_links(stack.sink, expected=2)
    second = next(link for link in links if link != first)
    await respondent_page(client, second)
    assert (await client.get(first)).status_code == 200


async def test_a_new_link_is_shown_once_after_a_confirmation_and_the_old_one_stops_working(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, old = await invite_one(client, stack.sink)
    await respondent_page(client, old)
    (person,) = await rows(stack, "SELECT respondent_id FROM invitations.invitations "
                                  "WHERE questionnaire_id = :q", q=q["id"])
    url = f"/admin/questionnaires/{q['id']}/respondents/{person.respondent_id}/new-link"
    confirm = await client.get(url)
    assert confirm.status_code == 200 and "werken daarna niet meer" in confirm.text
    shown = await client.post(url, data={"csrf": csrf_of(confirm.text)})
    assert shown.status_code == 200 and "maar één keer getoond" in shown.text
    new = LINK.search(shown.text).group(1)
    await respondent_page(client, new)
    await eventually(lambda: _gone(client, old), what="the old link to stop working")
    assert mail_count(stack.sink) == 1  # the new link is the admin's to pass on, not mailed


async def _gone(client, link: str) -> bool:  # noqa: ANN001
    return (await client.get(link)).status_code == 404


async def test_another_organisations_scan_or_person_is_not_found_on_every_mail_route(stack):
    ours, theirs = stack.client, stack.new_client()
    await login(ours, **ADMIN)
    await login(theirs, **OTHER_ADMIN)
    q, _ = await invite_one(ours, stack.sink)
    (person,) = await rows(stack, "SELECT respondent_id FROM invitations.invitations "
                                  "WHERE questionnaire_id = :q", q=q["id"])
    base = f"/admin/questionnaires/{q['id']}"
    rid = person.respondent_id
    form = {"csrf": theirs.headers["X-CSRF-Token"]}
    probes = [
        ("get", f"{base}/mail/invitation/nl", None),
        ("post", f"{base}/mail/invitation/nl", {**form, "subject": "x", "body": "{link}"}),
        ("get", f"{base}/mail-preview?kind=invitation&respondent={rid}", None),
        ("get", f"{base}/reminders", None),
        ("post", f"{base}/reminders", {**form, "gap_days": "1", "maximum": "1",
                                       "auto_days_before": ""}),
        ("post", f"{base}/remind", {**form, "group": "not_started"}),
        ("post", f"{base}/send", {**form, "selection": "not_invited"}),
        ("post", f"{base}/respondents/{rid}/resend", form),
        ("get", f"{base}/respondents/{rid}/new-link", None),
        ("post", f"{base}/respondents/{rid}/new-link", form),
        ("get", f"/admin/questionnaires/{uuid.uuid4()}/respondents/{rid}/new-link", None),
    ]
    for method, url, data in probes:
        response = await getattr(theirs, method)(url, **({"data": data} if data else {}))
        assert response.status_code == 404, (method, url, response.status_code)
    # and a person of another scan through our own scan
    q2 = await create_questionnaire(ours, respondents=1, title="Andere scan")
    other = await ours.get(f"/admin/questionnaires/{q2['id']}/respondents/{rid}/new-link")
    assert other.status_code == 404


async def test_mails_a_crashed_worker_held_are_sent_once_its_lease_has_ended(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    stack.sink.stop()
    await send_invitations(client, q["id"])
    # As a worker leaves them when it dies after claiming: "sending", its lease running out.
    await rows(stack, "UPDATE invitations.mails SET state = 'sending', "
                      "next_attempt_at = now() + interval '2 seconds' WHERE questionnaire_id = :q",
               q=q["id"])
    stack.sink.start()
    await invitation_links(stack.sink, expected=2, timeout=30)
    assert await rows(stack, "SELECT 1 FROM invitations.mails WHERE questionnaire_id = :q "
                             "AND state = 'sent' HAVING count(*) = 2", q=q["id"])
