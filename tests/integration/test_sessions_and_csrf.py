"""Admin sessions live on the bus and end when the admin says so; no other site can make a
logged-in browser change anything."""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from faststream.nats import NatsBroker

from services.cli import SERVICES
from shared.embedded import EmbeddedNats
from shared.runtime import build_app
from shared.sessions import SESSION_COOKIE
from tests.conftest import ADMIN, OTHER_ADMIN, migrate_and_seed
from tests.flows import (
    CSRF,
    create_questionnaire,
    eventually,
    invite_one,
    login,
    login_form_token,
    respondent_page,
    statement_ids,
)

pytestmark = pytest.mark.integration
EVIL = "https://evil.example"


def browser(stack, cookie: str | None = None) -> httpx.AsyncClient:
    client = stack.new_client()
    if cookie:
        client.cookies.set(SESSION_COOKIE, cookie)
    return client


async def test_a_cookie_captured_before_logout_stops_working_at_once_everywhere(stack):
    client = stack.client
    csrf = await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=1)
    captured = client.cookies[SESSION_COOKIE]
    thief = browser(stack, captured)
    assert (await thief.get("/admin")).status_code == 200

    logout = await client.post("/logout", data={"csrf": csrf})
    assert logout.status_code == 303

    assert (await thief.get("/admin")).status_code == 303  # to the login page
    assert (await thief.get("/admin/api/session")).status_code == 401
    assert (await thief.get(f"/admin/api/questionnaires/{q['id']}")).status_code == 401
    assert (await thief.get(f"/scoring/api/questionnaires/{q['id']}/result")).status_code == 401
    assert (await thief.get(f"/documents/api/questionnaires/{q['id']}")).status_code == 401
    refused = await thief.post(f"/admin/api/questionnaires/{q['id']}/close",
                               headers={"X-CSRF-Token": csrf})
    assert refused.status_code == 401


async def test_an_admin_sees_their_sessions_and_ends_the_others(stack):
    laptop, phone = stack.client, stack.new_client()
    await login(laptop, **ADMIN)
    await login(phone, **ADMIN)
    page = await laptop.get("/admin/sessions")
    assert page.status_code == 200
    assert "Je sessies" in page.text and "Deze sessie" in page.text
    assert page.text.count('action="/admin/sessions/end"') == 1  # the phone's, not this one
    english = await laptop.get("/admin/sessions?lang=en")
    assert "Your sessions" in english.text and "End all other sessions" in english.text

    without_token = await laptop.post("/admin/sessions/end-others",
                                      headers={"X-CSRF-Token": "wrong"})
    assert without_token.status_code == 403
    assert (await phone.get("/admin")).status_code == 200

    csrf = CSRF.search(page.text).group(1)
    ended = await laptop.post("/admin/sessions/end-others", data={"csrf": csrf})
    assert ended.status_code == 303
    assert (await phone.get("/admin")).status_code == 303
    after = await laptop.get(ended.headers["location"] + "&lang=nl")
    assert "Alle andere sessies zijn beëindigd." in after.text
    assert "Je bent nergens anders ingelogd." in after.text


async def test_a_removed_admin_is_logged_out_of_every_session(stack):
    client = stack.client
    await login(client, **ADMIN)
    admin_id = uuid.UUID((await client.get("/admin/api/session")).json()["admin"])
    await stack.app.state.sessions.forget_admin(admin_id)
    assert (await client.get("/admin")).status_code == 303
    assert (await client.get("/admin/api/session")).status_code == 401


async def test_the_session_endpoint_gives_json_clients_their_token(stack):
    client = stack.client
    csrf = await login(client, **ADMIN)
    body = (await client.get("/admin/api/session")).json()
    assert body["csrf"] == csrf
    assert uuid.UUID(body["admin"]) and uuid.UUID(body["organisation_id"])
    other = stack.new_client()
    assert (await other.get("/admin/api/session")).status_code == 401


async def test_a_cross_site_post_to_a_bodiless_json_route_sends_nothing(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    cookie = client.cookies[SESSION_COOKIE]
    victim = browser(stack, cookie)  # the admin's browser, on another site's page
    # What a hidden cross-site form does today: the cookie goes along, no token, any Origin.
    forged = await victim.post(f"/admin/api/questionnaires/{q['id']}/send",
                               data={"x": "1"}, headers={"Origin": EVIL})
    assert forged.status_code == 403
    no_origin = await victim.post(f"/admin/api/questionnaires/{q['id']}/send")
    assert no_origin.status_code == 403
    closed = await victim.post(f"/admin/api/questionnaires/{q['id']}/close",
                               data={"csrf": "guess"})
    assert closed.status_code == 403
    # Even with the right token, another site's Origin is refused.
    token = client.headers["X-CSRF-Token"]
    other_site = await victim.post(f"/admin/api/questionnaires/{q['id']}/send",
                                   headers={"X-CSRF-Token": token, "Origin": EVIL})
    assert other_site.status_code == 403
    status = (await client.get(f"/admin/api/questionnaires/{q['id']}")).json()
    assert status["invited"] == 0 and status["status"] == "open"
    assert stack.sink.messages() == []
    # The admin's own page, same Origin, works.
    sent = await client.post(f"/admin/api/questionnaires/{q['id']}/send",
                             headers={"Origin": "http://testserver"})
    assert sent.status_code == 200 and sent.json() == {"sent": 2}


@pytest.mark.parametrize("value", ["tökén", "\u2028", "a" * 5000, "", "\udcff"])
async def test_any_csrf_value_is_refused_cleanly(stack, value):
    client = stack.client
    await login(client, **ADMIN)
    del client.headers["X-CSRF-Token"]
    q = await create_questionnaire_with_form(client)
    form = await client.post(f"/admin/questionnaires/{q}/close",
                             data={"csrf": value.encode("utf-8", "surrogateescape")})
    assert form.status_code == 403
    header = await client.post(f"/admin/api/questionnaires/{q}/close",
                               headers={"X-CSRF-Token": value.encode("utf-8", "surrogateescape")})
    assert header.status_code == 403


async def create_questionnaire_with_form(client: httpx.AsyncClient) -> str:
    page = await client.get("/admin/questionnaires/new")
    created = await client.post("/admin/questionnaires", data={
        "csrf": CSRF.search(page.text).group(1), "title": "Via het formulier",
        "deadline": (date.today() + timedelta(days=30)).isoformat(),
        "respondents": "a@b.example"})
    assert created.status_code == 303, created.text
    return re.search(r"/admin/questionnaires/([0-9a-f-]{36})", created.headers["location"]).group(1)


async def test_the_login_form_needs_its_own_token_and_this_sites_origin(stack):
    client = stack.new_client()
    no_token = await client.post("/login", data=ADMIN)
    assert no_token.status_code == 403
    assert "Het inlogformulier was verlopen" in no_token.text
    token = await login_form_token(client)
    forged = await client.post("/login", data={**ADMIN, "csrf": token},
                               headers={"Origin": EVIL})
    assert forged.status_code == 403
    assert SESSION_COOKIE not in client.cookies
    wrong = await client.post("/login", data={**ADMIN, "csrf": "x" + token})
    assert wrong.status_code == 403
    ok = await client.post("/login", data={**ADMIN, "csrf": token},
                           headers={"Origin": "http://testserver"})
    assert ok.status_code == 303


async def test_a_cross_site_post_to_a_personal_link_changes_nothing(stack):
    client = stack.client
    await login(client, **OTHER_ADMIN)
    _, link = await invite_one(client, stack.sink)
    respondent = stack.new_client()
    ids = statement_ids(await respondent_page(respondent, link))
    forged = await respondent.post(link, data={f"answer-{ids[0]}": "niet", "action": "save"},
                                   headers={"Origin": "null"})
    assert forged.status_code == 403
    assert not re.search(r'value="niet"\s+checked', (await respondent.get(link)).text)


async def test_without_the_bus_admin_pages_answer_503_and_recover(settings, tmp_path):
    """NATS, where the sessions live, goes away: a clear 503, never a 500; back when it is."""
    folder = Path(tempfile.mkdtemp(prefix="iso20400-test-sessions-nats-"))
    nats_server = EmbeddedNats(folder).start()
    own = settings.model_copy(update={"nats_url": nats_server.url})
    try:
        await migrate_and_seed(own)
        broker = NatsBroker(own.nats_url)
        app = build_app(own, broker, [m.build(own, broker) for m in SERVICES.values()])
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
                await login(c, **ADMIN)
                nats_server.stop()
                down = await c.get("/admin")
                assert down.status_code == 503
                assert down.headers["retry-after"]
                assert "Probeer het over een halve minuut opnieuw" in down.text
                assert (await c.get("/admin/api/session")).status_code == 503
                assert (await c.get(f"/documents/{uuid.uuid4()}")).status_code == 503
                fresh = httpx.AsyncClient(transport=transport, base_url="http://testserver")
                logging_in = await fresh.post("/login", data={
                    **ADMIN, "csrf": await login_form_token(fresh)})
                assert logging_in.status_code == 503

                nats_server.start()  # same port, same data: the sessions are still there

                async def back():  # noqa: ANN202
                    return (await c.get("/admin")).status_code == 200

                await eventually(back, timeout=30, interval=0.5, what="NATS to come back")
    finally:
        nats_server.stop()
        shutil.rmtree(folder, ignore_errors=True)
