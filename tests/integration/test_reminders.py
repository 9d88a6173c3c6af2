"""Reminders: separate texts for those not started and those not submitted, a minimum gap and a
maximum count, on demand or automatically a chosen number of days before the deadline."""

from __future__ import annotations

import asyncio

import pytest

from services.invitations import store_mail
from shared.runtime import utcnow
from tests.conftest import ADMIN
from tests.flows import (
    create_questionnaire,
    eventually,
    invitation_links,
    login,
    respondent_page,
    send_invitations,
)
from tests.integration.mail_helpers import csrf_of, database, mail_count, rows

pytestmark = pytest.mark.integration


async def invited(stack, count: int) -> dict:  # noqa: ANN001
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=count)
    await send_invitations(client, q["id"])
    await invitation_links(stack.sink, expected=count)
    return q


async def rules(client, q_id: str, **form: str):  # noqa: ANN001, ANN201
    page = await client.get(f"/admin/questionnaires/{q_id}/reminders")
    return await client.post(f"/admin/questionnaires/{q_id}/reminders",
                             data={"csrf": csrf_of(page.text), "auto_days_before": "", **form})


async def remind(client, q_id: str, group: str) -> str:  # noqa: ANN001
    page = await client.get(f"/admin/questionnaires/{q_id}")
    response = await client.post(f"/admin/questionnaires/{q_id}/remind",
                                 data={"csrf": csrf_of(page.text), "group": group})
    assert response.status_code == 303
    return (await client.get(response.headers["location"])).text


def subjects(sink) -> list[str]:  # noqa: ANN001
    return [m["subject"] for m in sink.messages()]


async def test_on_demand_reminders_go_to_their_group_with_their_own_text_up_to_the_maximum(stack):
    client = stack.client
    q = await invited(stack, 2)
    await rows(stack, "UPDATE invitations.invitations SET started_at = now() WHERE respondent_id "
                      "IN (SELECT id FROM invitations.respondents "
                      "WHERE email = 'r2@voorbeeldstad.example')")
    assert (await rules(client, q["id"], gap_days="0", maximum="2")).status_code == 303

    assert "1 herinnering(en) in de wachtrij gezet." in await remind(client, q["id"],
                                                                     "not_started")
    assert "1 herinnering(en) in de wachtrij gezet." in await remind(client, q["id"],
                                                                     "not_submitted")
    await eventually(lambda: mail_count(stack.sink) == 4, what="two reminders")
    mails = {m["subject"]: m for m in stack.sink.messages()}
    assert mails["Herinnering: MVI-scan 2026 — Gemeente Voorbeeldstad"]["to"] == \
        "r1@voorbeeldstad.example"
    assert mails["Herinnering: rond MVI-scan 2026 af"]["to"] == "r2@voorbeeldstad.example"
    # the link in a reminder works, beside the invitation's
    reminder_link = (await invitation_links(stack.sink, expected=4))[-1]
    await respondent_page(client, reminder_link)

    assert "1 herinnering(en)" in await remind(client, q["id"], "not_started")
    page = await remind(client, q["id"], "not_started")  # the third: past the maximum of 2
    assert "Niemand kon nu een herinnering krijgen" in page
    await eventually(lambda: mail_count(stack.sink) == 5)
    page = (await client.get(f"/admin/questionnaires/{q['id']}")).text
    assert "2 keer herinnerd, laatst op" in page
    await asyncio.sleep(1)
    assert mail_count(stack.sink) == 5


async def test_a_second_reminder_within_the_minimum_gap_is_not_sent(stack):
    client = stack.client
    q = await invited(stack, 1)
    assert (await rules(client, q["id"], gap_days="3", maximum="5")).status_code == 303
    assert "1 herinnering(en)" in await remind(client, q["id"], "not_started")
    assert "Niemand kon nu een herinnering krijgen" in await remind(client, q["id"],
                                                                    "not_started")
    await eventually(lambda: mail_count(stack.sink) == 2)
    (inv,) = await rows(stack, "SELECT reminders FROM invitations.invitations "
                               "WHERE questionnaire_id = :q", q=q["id"])
    assert inv.reminders == 1


async def test_invalid_reminder_rules_are_refused_with_the_fields_marked(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    response = await rules(client, q["id"], gap_days="-2", maximum="veel",
                           auto_days_before="0")
    assert response.status_code == 422
    assert response.text.count('aria-invalid="true"') == 3
    for field in ("gap_days", "maximum", "auto_days_before"):
        assert f'aria-describedby="{field}-hint {field}-error"' in response.text
        assert f'<a href="#{field}">' in response.text  # in the error summary
    assert "Vul een geheel getal in van 0 tot en met 60." in response.text
    (row,) = await rows(stack, "SELECT reminder_gap_days, reminder_max FROM "
                               "invitations.questionnaires WHERE id = :q", q=q["id"])
    assert (row.reminder_gap_days, row.reminder_max) == (3, 3)


async def test_the_automatic_reminder_sweep_run_twice_at_once_reminds_each_person_once(stack):
    client = stack.client
    q = await invited(stack, 3)
    # Due since today: the deadline is 10 days away, reminders 30 days before it.
    assert (await rules(client, q["id"], gap_days="0", maximum="3",
                        auto_days_before="30")).status_code == 303

    async def sweep(engine) -> int:  # noqa: ANN001
        async with engine.begin() as conn:
            return await store_mail.queue_automatic_reminders(conn, now=utcnow())

    async with database(stack) as one, database(stack) as two:
        swept = await asyncio.gather(sweep(one), sweep(two))
    assert sum(swept) <= 3  # the service's own worker may have swept first
    await eventually(lambda: mail_count(stack.sink) == 6, what="three automatic reminders")
    reminded = await rows(stack, "SELECT reminders FROM invitations.invitations "
                                 "WHERE questionnaire_id = :q", q=q["id"])
    assert [r.reminders for r in reminded] == [1, 1, 1]
    async with database(stack) as again:
        assert await sweep(again) == 0  # the same due moment: nobody twice
    assert sorted(subjects(stack.sink)).count(
        "Herinnering: MVI-scan 2026 — Gemeente Voorbeeldstad") == 3
