"""Guessing personal links is slowed down; invitation mails say nothing about the
organisation's id, yet each admin's mailbox shows only their organisation's mail."""

from __future__ import annotations

import email
import email.policy
import uuid

import httpx
import pytest

from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import create_questionnaire, invitation_links, invite_one, login, respondent_page

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings):  # noqa: ANN001, ANN201
    return settings.model_copy(update={"link_guesses_per_minute": 10})


def from_address(stack, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=stack.app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://testserver")


async def test_guessing_links_from_one_address_is_refused_for_a_minute(stack):
    client = stack.client
    await login(client, **ADMIN)
    _, link = await invite_one(client, stack.sink)
    respondent = from_address(stack, "10.8.0.2")
    await respondent_page(respondent, link)  # responses knows the link now

    guesser = from_address(stack, "10.8.0.1")
    for _ in range(10):
        miss = await guesser.get(f"/r/{uuid.uuid4().hex}{uuid.uuid4().hex[:11]}")
        assert miss.status_code == 404
    refused = await guesser.get(f"/r/{uuid.uuid4().hex}{uuid.uuid4().hex[:11]}")
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "te veel onbekende links geprobeerd" in refused.text
    assert (await guesser.post(f"/r/{'x' * 43}", data={"action": "save"})).status_code == 429
    # From the guessing address even the right link waits; from anywhere else it works.
    assert (await guesser.get(link)).status_code == 429
    assert (await respondent.get(link)).status_code == 200
    english = from_address(stack, "10.8.0.1")
    assert "Too many unknown links" in (await english.get(f"{link}?lang=en")).text


async def test_invitation_mail_carries_no_organisation_id_and_each_mailbox_only_its_own(stack):
    ours, theirs = stack.client, stack.new_client()
    await login(ours, **ADMIN)
    await login(theirs, **OTHER_ADMIN)
    our_org = (await ours.get("/admin/api/session")).json()["organisation_id"]
    their_org = (await theirs.get("/admin/api/session")).json()["organisation_id"]
    for client, count in ((ours, 2), (theirs, 3)):
        q = await create_questionnaire(client, respondents=count)
        await client.post(f"/admin/api/questionnaires/{q['id']}/send")
    await invitation_links(stack.sink, expected=5)

    for path in stack.sink.folder.glob("*.eml"):
        raw = path.read_bytes()
        assert our_org.encode() not in raw and their_org.encode() not in raw
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        assert not [name for name in msg if "organisation" in name.lower()]

    our_mail = (await ours.get("/mailbox/api/messages")).json()
    their_mail = (await theirs.get("/mailbox/api/messages")).json()
    assert len(our_mail) == 2 and len(their_mail) == 3
    assert not {m["id"] for m in our_mail} & {m["id"] for m in their_mail}
    assert (await theirs.get(f"/mailbox/{our_mail[0]['id']}")).status_code == 404
    assert (await ours.get(f"/mailbox/{our_mail[0]['id']}")).status_code == 200
