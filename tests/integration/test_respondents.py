"""Mijn respondenten: the organisation's list, over HTTP, as an admin uses it."""

from __future__ import annotations

import re

import httpx
import pytest
import sqlalchemy as sa
from markupsafe import escape

from shared.db import make_engine
from shared.web import translate
from tests.conftest import ADMIN, OTHER_ADMIN
from tests.flows import (
    answer_and_submit,
    create_questionnaire,
    eventually,
    invitation_links,
    login,
    questionnaire_status,
    send_invitations,
)

pytestmark = pytest.mark.integration


def nl(key: str, **values: object) -> str:
    return str(escape(translate("nl", key, **values)))


async def add(client: httpx.AsyncClient, **person: object) -> dict:
    response = await client.post("/admin/api/respondents", json=person)
    assert response.status_code == 201, response.text
    return response.json()


async def listed(client: httpx.AsyncClient, **params: str) -> list[str]:
    response = await client.get("/admin/api/respondents", params=params)
    assert response.status_code == 200, response.text
    return [p["email"] for p in response.json()]


async def test_the_admin_finds_themself_on_the_list(stack):
    await login(stack.client, **ADMIN)
    page = await stack.client.get("/admin/respondents")
    assert page.status_code == 200
    assert ADMIN["email"] in page.text and nl("respondents.is_admin") in page.text
    assert 'href="/admin/respondents"' in (await stack.client.get("/admin")).text  # in the nav
    me = (await stack.client.get("/admin/api/respondents")).json()
    assert [(p["email"], p["is_admin"]) for p in me] == [(ADMIN["email"], True)]


async def test_add_edit_search_and_remove_through_the_pages(stack):
    client = stack.client
    await login(client, **ADMIN)
    form = await client.get("/admin/respondents/new")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text).group(1)
    added = await client.post("/admin/respondents", data={
        "csrf": csrf, "name": "Anna de Vries", "email": "Anna@Voorbeeldstad.example",
        "language": "en", "tags": "inkoper, Sociaal Domein"})
    assert added.status_code == 303
    page = await client.get(added.headers["location"])
    assert nl("respondents.notice.added") in page.text
    assert "anna@voorbeeldstad.example" in page.text and "Sociaal Domein" in page.text
    await add(client, name="Kees Bakker", email="kees@voorbeeldstad.example", tags=["directie"])

    assert await listed(client, q="vries") == ["anna@voorbeeldstad.example"]
    assert await listed(client, q="KEES@") == ["kees@voorbeeldstad.example"]
    assert await listed(client, q="sociaal") == ["anna@voorbeeldstad.example"]
    assert await listed(client, tag="directie") == ["kees@voorbeeldstad.example"]
    assert await listed(client, q="100%_") == []
    search = await client.get("/admin/respondents", params={"q": "bakker"})
    assert "kees@voorbeeldstad.example" in search.text
    assert "anna@voorbeeldstad.example" not in search.text

    anna = next(p for p in (await client.get("/admin/api/respondents")).json()
                if p["name"] == "Anna de Vries")
    edit = await client.get(f"/admin/respondents/{anna['id']}/edit")
    assert 'value="inkoper, Sociaal Domein"' in edit.text
    changed = await client.post(f"/admin/respondents/{anna['id']}", data={
        "name": "Anna de Vries-Smit", "email": "anna@voorbeeldstad.example", "language": "nl",
        "tags": "beleid"})
    assert changed.status_code == 303
    assert nl("respondents.notice.changed") in (await client.get(changed.headers["location"])).text
    assert (await client.get(f"/admin/api/respondents/{anna['id']}")).json() | {"id": None} == {
        "id": None, "name": "Anna de Vries-Smit", "email": "anna@voorbeeldstad.example",
        "language": "nl", "tags": ["beleid"], "is_admin": False}

    confirm = await client.get(f"/admin/respondents/{anna['id']}/remove")
    assert confirm.status_code == 200 and nl("respondents.remove_explained") in confirm.text
    assert 'method="post"' in confirm.text  # works without JavaScript
    removed = await client.post(f"/admin/respondents/{anna['id']}/remove")
    assert removed.status_code == 303
    assert nl("respondents.notice.removed") in (await client.get(removed.headers["location"])).text
    assert "anna@voorbeeldstad.example" not in await listed(client)
    assert (await client.get(f"/admin/respondents/{anna['id']}/edit")).status_code == 404
    new_scan = await client.get("/admin/questionnaires/new")
    assert "kees@voorbeeldstad.example" in new_scan.text
    assert "anna@voorbeeldstad.example" not in new_scan.text  # not offered for new scans

    back = await add(client, name="Anna", email="ANNA@voorbeeldstad.example")
    assert back["id"] == anna["id"]  # the same person comes back
    assert "anna@voorbeeldstad.example" in await listed(client)


async def test_invalid_input_shows_the_form_again_and_changes_nothing(stack):
    client = stack.client
    await login(client, **ADMIN)
    before = await listed(client)
    response = await client.post("/admin/respondents", data={
        "name": "Anna\u2028de Vries", "email": "anna at voorbeeldstad", "language": "de",
        "tags": "x" * 51})
    assert response.status_code == 422
    text = response.text
    assert nl("form.has_errors") in text
    for field, key in (("name", "name_characters"), ("email", "email_invalid"),
                       ("tags", "tag_too_long"), ("language", "language")):
        assert nl(f"respondents.error.{key}") in text
        assert f'href="#{field}"' in text and f'id="{field}-error"' in text
    assert 'aria-invalid="true"' in text and "email-error" in text
    assert 'value="anna at voorbeeldstad"' in text  # what was typed stays
    for address in ("Anna\u0085 <a@x.nl>", "a\u2028b@x.nl"):
        refused = await client.post("/admin/api/respondents", json={"email": address})
        assert refused.status_code == 422, refused.text
    await add(client, email="kees@voorbeeldstad.example")
    twice = await client.post("/admin/respondents", data={"email": "KEES@voorbeeldstad.example"})
    assert twice.status_code == 422 and nl("respondents.error.email_listed") in twice.text
    assert await listed(client) == sorted([*before, "kees@voorbeeldstad.example"])


async def test_the_json_api_twins(stack):
    client = stack.client
    await login(client, **ADMIN)
    anna = await add(client, name="Anna", email="anna@x.example", language="en",
                     tags=["inkoop"])
    assert anna["language"] == "en" and anna["tags"] == ["inkoop"]
    kees = await add(client, name="Kees", email="kees@x.example")
    taken = await client.put(f"/admin/api/respondents/{kees['id']}",
                             json={"name": "Kees", "email": "anna@x.example"})
    assert taken.status_code == 422 and taken.json()["detail"][0]["loc"] == ["body", "email"]
    changed = await client.put(f"/admin/api/respondents/{kees['id']}",
                               json={"name": "Kees B", "email": "kees@x.example",
                                     "tags": ["a", "b"]})
    assert changed.json()["name"] == "Kees B" and changed.json()["tags"] == ["a", "b"]
    assert (await client.delete(f"/admin/api/respondents/{kees['id']}")).json() == {
        "removed": True}
    assert "kees@x.example" not in await listed(client)
    token = client.headers.pop("X-CSRF-Token")
    refused = await client.post("/admin/api/respondents", json={"email": "p@x.example"})
    client.headers["X-CSRF-Token"] = token
    assert refused.status_code == 403 and "p@x.example" not in await listed(client)


async def test_a_removed_respondents_given_answers_still_count(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    await send_invitations(client, q["id"])
    links = await invitation_links(stack.sink, expected=2)
    by_address = {}
    for message in stack.sink.messages():
        by_address[message["to"]] = next(link for link in links if link in message["text"])
    first = by_address["r1@voorbeeldstad.example"]
    assert (await answer_and_submit(stack.new_client(), first, answer="volledig")).status_code \
        == 200
    r1 = next(p for p in (await client.get("/admin/api/respondents")).json()
              if p["email"] == "r1@voorbeeldstad.example")
    assert (await client.delete(f"/admin/api/respondents/{r1['id']}")).status_code == 200

    second = by_address["r2@voorbeeldstad.example"]
    assert (await answer_and_submit(stack.new_client(), second, answer="niet")).status_code \
        == 200
    done = await eventually(lambda: _completed(client, q["id"]), what="completion")
    assert done["submitted"] == 2 and done["overall_percent"] == 50  # 100 and 0: both count


async def _completed(client: httpx.AsyncClient, questionnaire_id: str) -> dict | None:
    status = await questionnaire_status(client, questionnaire_id)
    return status if status["status"] == "completed" else None


ROUTES = [
    ("GET", "/admin/respondents/{id}/edit"), ("POST", "/admin/respondents/{id}"),
    ("GET", "/admin/respondents/{id}/remove"), ("POST", "/admin/respondents/{id}/remove"),
    ("GET", "/admin/api/respondents/{id}"), ("PUT", "/admin/api/respondents/{id}"),
    ("DELETE", "/admin/api/respondents/{id}"),
]


async def test_another_organisations_respondent_is_not_found_on_every_route(stack):
    theirs = stack.new_client()
    await login(theirs, **OTHER_ADMIN)
    other = await add(theirs, name="Geheim", email="geheim@anderstad.example")
    client = stack.client
    await login(client, **ADMIN)
    body = {"name": "Overgenomen", "email": "overgenomen@voorbeeldstad.example"}
    for method, path in ROUTES:
        url = path.format(id=other["id"])
        kwargs = {"json": body} if "/api/" in url and method == "PUT" else \
            {"data": body} if method == "POST" else {}
        response = await client.request(method, url, **kwargs)
        assert response.status_code == 404, (method, url, response.status_code)
    assert "geheim@anderstad.example" not in await listed(client)
    assert "geheim@anderstad.example" not in (await client.get(
        "/admin/respondents", params={"q": "geheim"})).text
    mine = await theirs.get(f"/admin/api/respondents/{other['id']}")
    assert mine.json()["name"] == "Geheim"  # untouched by the probes
    engine = make_engine(stack.settings.database_url, pool_size=1)
    try:
        async with engine.connect() as conn:
            removed = await conn.scalar(sa.text(
                "SELECT removed_at FROM invitations.respondents WHERE id = :id"),
                {"id": other["id"]})
        assert removed is None
    finally:
        await engine.dispose()


def test_the_migration_puts_every_existing_admin_on_their_list(database_url):
    """Admins made before the list existed are on it after the upgrade; one whose address was
    already a respondent's becomes that row."""
    from alembic import command
    from alembic.config import Config

    from services.invitations.app import HERE
    from shared.settings import to_sqlalchemy_url

    cfg = Config()
    cfg.set_main_option("script_location", str(HERE / "migrations"))
    cfg.attributes["database_url"] = to_sqlalchemy_url(database_url)
    cfg.attributes["schema"] = "invitations"
    command.upgrade(cfg, "inv0004")
    engine = sa.create_engine(to_sqlalchemy_url(database_url))
    org = "00000000-0000-0000-0000-000000000001"
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO invitations.organisations (id, name, created_at) "
            f"VALUES ('{org}', 'Gemeente', now());"
            "INSERT INTO invitations.admins (id, organisation_id, email, name, password_hash, "
            f"created_at) VALUES ('00000000-0000-0000-0000-00000000000a', '{org}', "
            "'Ada@gemeente.example', 'Ada', 'x', now()), ('00000000-0000-0000-0000-00000000000b',"
            f" '{org}', 'bob@gemeente.example', 'Bob', 'x', now());"
            "INSERT INTO invitations.respondents (id, organisation_id, name, email, created_at) "
            f"VALUES ('00000000-0000-0000-0000-0000000000bb', '{org}', 'Bob B', "
            "'bob@gemeente.example', now())"))
    command.upgrade(cfg, "head")
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT name, email, admin_id::text FROM invitations.respondents ORDER BY email"
        )).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("Ada", "ada@gemeente.example", "00000000-0000-0000-0000-00000000000a"),
        ("Bob B", "bob@gemeente.example", "00000000-0000-0000-0000-00000000000b")]
