"""What an admin and respondents do, over HTTP; shared by the integration, e2e and chaos tests."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import date, timedelta

import httpx

from shared.mail import MailSink

LINK = re.compile(r"(/r/[A-Za-z0-9_-]{20,100})")
STATEMENT_FIELD = re.compile(r'name="answer-([A-Z][0-9]-[2-5]-[0-9]{2})"')
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


async def eventually(check, *, timeout: float = 30.0, interval: float = 0.1, what: str = ""):  # noqa: ANN001, ANN201
    """Poll ``check`` (sync or async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(interval)


async def login_form_token(client: httpx.AsyncClient, url: str = "") -> str:
    """Open the login page as a browser does: its cookie and hidden field carry the token."""
    page = await client.get(f"{url}/login")
    return CSRF.search(page.text).group(1)


async def login(client: httpx.AsyncClient, *, email: str, password: str, url: str = "") -> str:
    """Log in and send the session's token with every later request; returns the token."""
    response = await client.post(f"{url}/login", data={
        "email": email, "password": password, "csrf": await login_form_token(client, url)})
    assert response.status_code == 303, response.text
    session = await client.get(f"{url}/admin/api/session")
    assert session.status_code == 200, session.text
    csrf = session.json()["csrf"]
    client.headers["X-CSRF-Token"] = csrf
    return csrf


async def create_questionnaire(client: httpx.AsyncClient, *, respondents: int,
                               title: str = "MVI-scan 2026") -> dict:
    response = await client.post("/admin/api/questionnaires", json={
        "title": title, "deadline": (date.today() + timedelta(days=10)).isoformat(),
        "respondents": [f"Respondent {i} <r{i}@voorbeeldstad.example>"
                        for i in range(1, respondents + 1)],
    })
    assert response.status_code == 201, response.text
    return response.json()


async def send_invitations(client: httpx.AsyncClient, questionnaire_id: str) -> int:
    response = await client.post(f"/admin/api/questionnaires/{questionnaire_id}/send")
    assert response.status_code == 200, response.text
    return response.json()["sent"]


async def invitation_links(sink: MailSink, *, expected: int, timeout: float = 20) -> list[str]:
    def links():  # noqa: ANN202
        found = list(dict.fromkeys(m for msg in reversed(sink.messages())
                                   for m in LINK.findall(msg["text"])))
        return found if len(found) >= expected else None

    return await eventually(links, timeout=timeout, what="invitation mails")


async def invite_one(client: httpx.AsyncClient, sink: MailSink,
                     **questionnaire: str) -> tuple[dict, str]:
    """A questionnaire for one respondent, invited: returns it and the respondent's link."""
    q = await create_questionnaire(client, respondents=1, **questionnaire)
    await send_invitations(client, q["id"])
    (link,) = await invitation_links(sink, expected=1)
    return q, link



async def respondent_page(client: httpx.AsyncClient, link: str, *, timeout: float = 20) -> str:
    """The page, once the responses service has learnt about the invitation."""
    async def page():  # noqa: ANN202
        response = await client.get(link)
        return response.text if response.status_code == 200 else None

    return await eventually(page, timeout=timeout, what=f"respondent page {link}")


def statement_ids(page: str) -> list[str]:
    return list(dict.fromkeys(STATEMENT_FIELD.findall(page)))


async def answer_and_submit(client: httpx.AsyncClient, link: str, *, answer: str = "volledig",
                            timeout: float = 20) -> httpx.Response:
    ids = statement_ids(await respondent_page(client, link, timeout=timeout))
    form = {f"answer-{sid}": answer for sid in ids}
    if answer == "nvt":
        form |= {f"comment-{sid}": "Doen wij niet." for sid in ids}
    form["action"] = "submit"
    return await client.post(link, data=form)


async def questionnaire_status(client: httpx.AsyncClient, questionnaire_id: str) -> dict:
    response = await client.get(f"/admin/api/questionnaires/{questionnaire_id}")
    assert response.status_code == 200, response.text
    return response.json()
