"""Importing respondents from a CSV upload or a pasted list, with a report of every row."""

from __future__ import annotations

import httpx
import pytest
from markupsafe import escape

from shared.web import translate
from tests.conftest import ADMIN
from tests.flows import login

pytestmark = pytest.mark.integration


def nl(key: str, **values: object) -> str:
    return str(escape(translate("nl", key, **values)))


async def listed(client: httpx.AsyncClient) -> list[str]:
    return sorted(p["email"] for p in (await client.get("/admin/api/respondents")).json())


async def test_a_pasted_outlook_list_gives_two_people_and_a_report(stack):
    client = stack.client
    await login(client, **ADMIN)
    before = await listed(client)
    report = await client.post("/admin/respondents/import", data={
        "text": "Jan Smit <jan@voorbeeldstad.example>; Piet Bos <piet@voorbeeldstad.example>"})
    assert report.status_code == 200, report.text
    assert nl("respondents.import.summary", taken=2, refused=0) in report.text
    assert report.text.count('class="taken"') == 2
    people = {p["email"]: p["name"] for p in (await client.get("/admin/api/respondents")).json()}
    assert people["jan@voorbeeldstad.example"] == "Jan Smit"
    assert people["piet@voorbeeldstad.example"] == "Piet Bos"
    assert len(await listed(client)) == len(before) + 2


async def test_a_pasted_gmail_list_through_the_api(stack):
    client = stack.client
    await login(client, **ADMIN)
    report = await client.post("/admin/api/respondents/import", json={
        "text": '"Jan Smit" <jan@voorbeeldstad.example>, Piet Bos <piet@voorbeeldstad.example>,'
                ' "Bos, Anna" <anna@voorbeeldstad.example>, niemand'})
    assert report.status_code == 200, report.text
    body = report.json()
    assert [r["email"] for r in body["taken"]] == [
        "jan@voorbeeldstad.example", "piet@voorbeeldstad.example", "anna@voorbeeldstad.example"]
    assert body["refused"] == [{"row": 4, "text": "niemand", "email": None,
                                "reason": translate("nl", "respondents.import.reason.no_address")}]


CSV = ("\ufeffNaam;E-mail;Taal;Kenmerken\r\n"
       "Anna de Vries;anna@voorbeeldstad.example;en;inkoper, Sociaal Domein\r\n"
       "Kees;kees-at-voorbeeldstad;nl;\r\n"
       "Anna;ANNA@voorbeeldstad.example;nl;\r\n"
       f"{'Lang' * 60};lang@voorbeeldstad.example;nl;\r\n"
       "Piet;piet@voorbeeldstad.example;fr;\r\n"
       "Joke;joke@voorbeeldstad.example;;\r\n")


async def test_a_csv_upload_reports_every_row_taken_and_refused_with_its_reason(stack):
    client = stack.client
    await login(client, **ADMIN)
    report = await client.post("/admin/respondents/import",
                               files={"file": ("lijst.csv", CSV.encode(), "text/csv")})
    assert report.status_code == 200, report.text
    text = report.text
    assert nl("respondents.import.summary", taken=2, refused=4) in text
    for reason in ("email_invalid", "duplicate", "name_too_long", "language"):
        assert nl(f"respondents.import.reason.{reason}") in text
    anna = next(p for p in (await client.get("/admin/api/respondents")).json()
                if p["email"] == "anna@voorbeeldstad.example")
    assert anna["language"] == "en" and anna["tags"] == ["inkoper", "Sociaal Domein"]
    assert "joke@voorbeeldstad.example" in await listed(client)

    again = await client.post("/admin/respondents/import",
                              files={"file": ("lijst.csv", CSV.encode(), "text/csv")})
    assert nl("respondents.import.summary", taken=0, refused=6) in again.text
    assert nl("respondents.import.reason.already_listed") in again.text


@pytest.mark.parametrize(("content", "key", "values"), [
    (b'naam,email\r\nAnna,anna@x.example\r\n=HYPERLINK("http://x.example","klik"),b@x.example\r\n',
     "formula", {"row": 3}),
    (b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00", "binary", {}),
    ("naam;email\nJosé;jose@x.example\n".encode("latin-1"), "not_utf8", {}),
    (b"anna@x.example\n" * 2001, "too_many", {"limit": 2000}),
    (b"a" * (1024 * 1024 + 1), "too_large", {"limit": 1024}),
])
async def test_a_hostile_file_gets_a_clear_error_and_changes_nothing(stack, content: bytes,
                                                                      key: str, values: dict):
    client = stack.client
    await login(client, **ADMIN)
    before = await listed(client)
    response = await client.post("/admin/respondents/import",
                                 files={"file": ("lijst.csv", content, "text/csv")})
    assert response.status_code == 422
    assert nl(f"respondents.import.error.{key}", **values) in response.text
    assert 'aria-invalid="true"' in response.text and 'href="#file"' in response.text
    assert await listed(client) == before


async def test_an_upload_past_the_request_cap_is_refused(stack):
    client = stack.client
    await login(client, **ADMIN)
    before = await listed(client)
    response = await client.post("/admin/respondents/import",
                                 files={"file": ("groot.csv", b"a@x.example\n" * 400_000)})
    assert response.status_code == 413
    assert await listed(client) == before


async def test_nothing_given_is_an_error_on_the_form(stack):
    client = stack.client
    await login(client, **ADMIN)
    response = await client.post("/admin/respondents/import", data={"text": "  "})
    assert response.status_code == 422
    assert nl("respondents.import.error.nothing") in response.text
    api = await client.post("/admin/api/respondents/import", json={"csv": "=1+1,a@x.example"})
    assert api.status_code == 422 and api.json()["detail"][0]["loc"] == ["body", "csv"]
