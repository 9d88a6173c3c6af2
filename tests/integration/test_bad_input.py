"""Bad input gets a clear answer naming the field, never a 500, and nothing is stored."""

from __future__ import annotations

import html
import json
from datetime import date, timedelta

import httpx
import pytest
import sqlalchemy as sa

from shared.db import make_engine
from shared.web import translate
from tests.conftest import ADMIN
from tests.flows import (
    CSRF,
    create_questionnaire,
    invitation_links,
    invite_one,
    login,
    respondent_page,
    send_invitations,
    statement_ids,
)
from tests.fuzz import ORIGIN, csrf_token

pytestmark = pytest.mark.integration

TABLES = ("invitations.questionnaires", "invitations.respondents", "invitations.participants",
          "invitations.invitations", "invitations.outbox", "responses.responses",
          "responses.answers", "responses.outbox")
DEADLINE = (date.today() + timedelta(days=10)).isoformat()
GOOD = {"title": "MVI-scan 2026", "deadline": DEADLINE,
        "respondents": "Anna de Vries <anna@voorbeeldstad.example>"}


@pytest.fixture
async def stored(stack):  # noqa: ANN201
    """Counts rows in every table a bad request could have written to."""
    engine = make_engine(stack.settings.database_url, pool_size=1)

    async def counts() -> dict[str, int]:
        async with engine.connect() as conn:
            return {t: await conn.scalar(sa.text(f"SELECT count(*) FROM {t}")) for t in TABLES}

    yield counts
    await engine.dispose()


async def form_token(client: httpx.AsyncClient) -> str:
    return CSRF.search((await client.get("/admin/questionnaires/new")).text).group(1)


async def log_in(client: httpx.AsyncClient) -> None:
    """As the admin, sending the session's CSRF token and Origin as a careful client does."""
    await login(client, **ADMIN)
    client.headers.update({"X-CSRF-Token": await csrf_token(client), "Origin": ORIGIN})


FORM_CASES = {
    # field, what is typed, the message the page shows
    "nul in the title": ("title", {"title": "MVI\x00scan"}, "error.field_characters"),
    "U+2028 in the title": ("title", {"title": "MVI\u2028scan <b>2026</b>"},
                            "form.error.title_characters"),
    "U+0085 in the title": ("title", {"title": "MVI\x85scan"}, "form.error.title_characters"),
    "a deadline in year 9999": ("deadline", {"deadline": "9999-12-31"},
                                "form.error.deadline_too_far"),
    "nul in a name": ("respondents", {"respondents": "An\x00na <anna@voorbeeldstad.example>"},
                      "error.field_characters"),
    "nul in an address": ("respondents", {"respondents": "anna@voorbeeld\x00stad.example"},
                          "error.field_characters"),
    "a 10,000-character address": ("respondents", {
        "respondents": "a" * 10_000 + "@voorbeeldstad.example"},
        "form.error.respondent_line_too_long"),
    "a 65-character local part": ("respondents", {"respondents": "a" * 65 + "@example.nl"},
                                  "form.error.respondent_address_too_long"),
    "a 300-character name": ("respondents", {"respondents": "N" * 300 + " <n@example.nl>"},
                             "form.error.respondent_name_too_long"),
    "a bidi override in a name": ("respondents", {
        "respondents": "Anna \u202egnirts <anna@example.nl>"},
        "form.error.respondent_characters"),
}


@pytest.mark.parametrize("case", FORM_CASES.values(), ids=FORM_CASES.keys())
async def test_the_new_scan_form_refuses_bad_input_naming_the_field(stack, stored, case):
    field, typed, key = case
    client = stack.client
    await log_in(client)
    before = await stored()
    form = GOOD | typed | {"csrf": await form_token(client)}

    response = await client.post("/admin/questionnaires", data=form)

    assert response.status_code == 422, response.text[-2000:]
    assert html.escape(translate("nl", key, field=field), quote=False) in response.text
    if key.startswith("form."):  # the form again, the field marked, the input kept (escaped)
        assert f'id="{field}-error"' in response.text
        assert html.escape(typed[field], quote=True) in response.text
        assert "<b>2026</b>" not in response.text
    assert await stored() == before


JSON_CASES = {
    "nul in the title": ({"title": "MVI\x00scan"}, ["body", "title"]),
    "U+2028 in the title": ({"title": "MVI\u2028scan"}, ["body", "title"]),
    "U+0085 in the title": ({"title": "MVI\x85scan"}, ["body", "title"]),
    "a deadline in year 9999": ({"deadline": "9999-12-31"}, ["body", "deadline"]),
    "nul in an address": ({"respondents": ["anna@voorbeeld\x00stad.example"]},
                          ["body", "respondents", 0]),
    "a 10,000-character address": ({"respondents": ["a" * 10_000 + "@example.nl"]},
                                   ["body", "respondents"]),
    "a lone surrogate in the title": ({"title": "MVI\ud800scan"}, ["body", "title"]),
}


@pytest.mark.parametrize("case", JSON_CASES.values(), ids=JSON_CASES.keys())
async def test_the_json_api_refuses_bad_input_naming_the_field(stack, stored, case):
    typed, loc = case
    client = stack.client
    await log_in(client)
    before = await stored()
    body = {"title": "MVI-scan 2026", "deadline": DEADLINE,
            "respondents": ["Anna <anna@voorbeeldstad.example>"]} | typed

    # json.dumps escapes as ASCII, so a lone surrogate travels as the JSON escape \ud800.
    response = await client.post("/admin/api/questionnaires", content=json.dumps(body),
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert loc in [error["loc"] for error in response.json()["detail"]]
    assert await stored() == before


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
async def test_nan_and_infinity_in_json_get_a_422_naming_the_field(stack, stored, constant):
    client = stack.client
    await log_in(client)
    before = await stored()
    raw = (f'{{"title": {constant}, "deadline": "{DEADLINE}", '
           f'"respondents": ["anna@voorbeeldstad.example"]}}')

    response = await client.post("/admin/api/questionnaires", content=raw,
                                 headers={"Content-Type": "application/json"})

    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["body", "title"]
    assert await stored() == before


async def test_a_nul_byte_in_the_login_address_is_refused_naming_the_field(stack):
    response = await stack.client.post("/login", data={"email": "beheer\x00@voorbeeldstad.example",
                                                       "password": "whatever"})
    assert response.status_code == 422
    assert translate("nl", "error.field_characters", field="email") in response.text
    assert "iso20400_session" not in response.headers.get("set-cookie", "")


async def test_a_nul_byte_in_a_query_parameter_is_refused(stack):
    response = await stack.client.get("/login", params={"next": "/admin\x00"})
    assert response.status_code == 422
    assert translate("nl", "error.field_characters", field="next") in response.text


async def test_a_non_ascii_csrf_token_is_forbidden_not_an_error(stack):
    client = stack.client
    await login(client, **ADMIN)
    del client.headers["X-CSRF-Token"]  # only the odd values below are sent
    as_form = await client.post("/logout", data={"csrf": "één-tökén"})
    as_header = await client.post("/logout", headers={"X-CSRF-Token": "één".encode()})
    assert (as_form.status_code, as_header.status_code) == (403, 403)
    assert (await client.get("/admin")).status_code == 200  # still logged in


async def test_a_respondent_comment_that_cannot_be_stored_is_shown_again_not_saved(stack, stored):
    client = stack.client
    await log_in(client)
    _, link = await invite_one(client, stack.sink)
    respondent = stack.new_client()
    first = statement_ids(await respondent_page(respondent, link))[0]
    before = await stored()

    with_nul = await respondent.post(link, data={f"answer-{first}": "deels",
                                                 f"comment-{first}": "Wij\x00doen", "action": "save"})
    assert with_nul.status_code == 422
    assert translate("nl", "error.field_characters", field=f"comment-{first}") in with_nul.text

    control = await respondent.post(link, data={f"answer-{first}": "deels",
                                                f"comment-{first}": "Wij <doen>\x07 dit",
                                                "action": "submit"})
    assert control.status_code == 422
    assert translate("nl", "respond.error.comment_characters") in control.text
    assert translate("nl", "respond.notice.not_saved") in control.text
    assert "Wij &lt;doen&gt;\x07 dit</textarea>" in control.text  # the typing is kept, escaped
    assert await stored() == before


async def test_the_guard_also_reads_multipart_forms_and_deeply_nested_json(stack, stored):
    client = stack.client
    await log_in(client)
    before = await stored()
    multipart = await client.post("/admin/questionnaires", files={
        "title": (None, "MVI\x00scan"), "deadline": (None, DEADLINE),
        "respondents": (None, GOOD["respondents"]), "csrf": (None, await form_token(client))})
    assert multipart.status_code == 422
    assert translate("nl", "error.field_characters", field="title") in multipart.text

    nested = await client.post("/admin/api/questionnaires", content="[" * 100_000,
                               headers={"Content-Type": "application/json"})
    assert nested.status_code == 422
    assert await stored() == before


async def test_a_title_stored_before_the_checks_still_gives_a_one_line_subject(stack):
    client = stack.client
    await log_in(client)
    q = await create_questionnaire(client, respondents=1)
    engine = make_engine(stack.settings.database_url, pool_size=1)
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text("UPDATE invitations.questionnaires SET title = :t "
                                       "WHERE id = :id"), {"t": "MVI\u2028scan\x85 2026",
                                                           "id": q["id"]})
    finally:
        await engine.dispose()

    assert await send_invitations(client, q["id"]) == 1
    await invitation_links(stack.sink, expected=1)
    assert stack.sink.messages()[0]["subject"].startswith("MVI scan 2026 — ")
