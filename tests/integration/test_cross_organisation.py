"""An admin of organisation A who tries an id of organisation B gets a 404 on every route, and
B's data stays as it was. The routes are read from the app itself, so a route added later is
probed too, and one with a parameter this test cannot fill fails it until it can."""

from __future__ import annotations

import asyncio
import re
from datetime import date, timedelta

import psycopg
import pytest
from fastapi.routing import APIRoute

from shared.content import content
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

PROBED_PREFIXES = ("/admin", "/documents", "/scoring")
PARAMETER = re.compile(r"{(\w+)(?::\w+)?}")
# Tables that change by themselves: events published and handled.
NOT_DATA = {"outbox", "inbox", "alembic_version"}
# A JSON route that takes a body is probed with one that is valid, so that a 404 must come
# from the id and not from the body: add one here for such a route.
BODIES: dict[tuple[str, str], dict] = {
    ("PUT", "/admin/api/respondents/{respondent_id}"): {"name": "Sneaky", "email": "x@a.example"},
    ("POST", "/admin/api/questionnaires/{questionnaire_id}/participants"):
        {"respondent_ids": ["6f1c1d5e-4c1b-4a57-9b1e-2f7f4c3e9a10"]},
    ("POST", "/admin/api/questionnaires/{questionnaire_id}/edit"):
        {"title": "Overgenomen", "deadline": (date.today() + timedelta(days=9)).isoformat()},
}


def database(settings) -> str:  # noqa: ANN001
    return settings.database_url.replace("postgresql+psycopg://", "postgresql://")


def snapshot(settings) -> dict[str, list]:  # noqa: ANN001
    """Every row of every service's tables."""
    with psycopg.connect(database(settings)) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN ('invitations', 'responses', 'scoring', 'documents') "
            "AND table_type = 'BASE TABLE'").fetchall()
        return {f"{schema}.{name}": sorted(map(repr, conn.execute(
                    f'SELECT * FROM "{schema}"."{name}"').fetchall()))
                for schema, name in tables if name not in NOT_DATA}


def ids_of_organisation_b(settings, questionnaire_id: str, document_id: str) -> dict[str, str]:  # noqa: ANN001
    with psycopg.connect(database(settings)) as conn:
        respondent_id, invitation_id = conn.execute(
            "SELECT respondent_id, id FROM invitations.invitations WHERE questionnaire_id = %s "
            "LIMIT 1", (questionnaire_id,)).fetchone()
    return {"questionnaire_id": questionnaire_id, "document_id": document_id,
            "respondent_id": str(respondent_id), "invitation_id": str(invitation_id),
            # Statements belong to the content, not to an organisation: a route that takes one
            # takes it beside B's questionnaire.
            "statement_id": content().statements[0].id,
            # Not ids: values any organisation may name, beside B's questionnaire.
            "kind": "invitation", "language": "nl"}


async def organisation_b_with_a_completed_scan(stack) -> tuple[dict, str]:  # noqa: ANN001
    b = stack.new_client()
    await login(b, **OTHER_ADMIN)
    q = await create_questionnaire(b, respondents=2, title="Scan van organisatie B")
    await send_invitations(b, q["id"])
    links = await invitation_links(stack.sink, expected=2)
    assert (await answer_and_submit(stack.new_client(), links[0])).status_code == 200
    assert (await stack.new_client().post(links[1], data={"action": "save"})).status_code == 200

    async def submitted() -> bool:
        return (await questionnaire_status(b, q["id"]))["submitted"] == 1

    await eventually(submitted, what="B's response")
    assert (await b.post(f"/admin/api/questionnaires/{q['id']}/close")).status_code == 200

    async def reports():  # noqa: ANN202
        status = await questionnaire_status(b, q["id"])
        return status if len(status["reports"]) == 2 else None

    status = await eventually(reports, timeout=90, what="B's reports")
    return status, status["reports"]["nl"].rsplit("/", 1)[1]


def all_routes(app) -> list:  # noqa: ANN001
    """(path, methods, route) of every route, however deeply its router was included."""
    try:  # FastAPI 0.165 keeps included routers as such, no longer copied into app.routes
        from fastapi.routing import iter_route_contexts
    except ImportError:
        return [(r.path, r.methods, r) for r in app.routes if isinstance(r, APIRoute)]
    return [(c.path, c.methods, c.original_route) for c in iter_route_contexts(app.routes)
            if isinstance(c.original_route, APIRoute)]


def probed_routes(app) -> list[tuple[str, str, APIRoute]]:  # noqa: ANN001
    found = []
    for path, methods, route in all_routes(app):
        if not path.startswith(PROBED_PREFIXES) or not PARAMETER.search(path):
            continue
        found += [(method, path, route) for method in sorted(methods)
                  if method not in ("HEAD", "OPTIONS")]
    return found


async def test_an_admin_of_another_organisation_gets_404_on_every_route(stack):
    a = stack.client
    a_csrf = await login(a, **ADMIN)
    await create_questionnaire(a, respondents=1, title="Scan van organisatie A")
    b_status, document_id = await organisation_b_with_a_completed_scan(stack)
    ids = ids_of_organisation_b(stack.settings, b_status["id"], document_id)

    before = await eventually(lambda: _settled(stack.settings), what="the events to settle")
    routes = probed_routes(stack.app)
    assert any("{questionnaire_id}" in path for _, path, _ in routes)

    answers = []
    for method, path, route in routes:
        url = path
        for name in PARAMETER.findall(path):
            if name not in ids:
                pytest.fail(f"{method} {path}: add an id of organisation B for {name}")
            url = re.sub(rf"{{{name}(?::\w+)?}}", ids[name], url)
        if method == "GET":
            response = await a.request(method, url)
        elif "/api/" in path:
            response = await a.request(method, url, json=BODIES.get((method, path), {}))
        else:
            response = await a.request(method, url, data={"csrf": a_csrf})
        if response.status_code == 422 and "/api/" in path and route.body_field is not None:
            pytest.fail(f"{method} {path}: add a valid body to BODIES, so the probe reaches "
                        "the id")
        answers.append((method, path, response.status_code))
        assert "Scan van organisatie B" not in response.text, f"{method} {path} shows B's scan"
    wrong = [a for a in answers if a[2] != 404]
    assert wrong == [], f"routes that did not answer 404 for organisation B's ids: {wrong}"

    assert snapshot(stack.settings) == before, "a request of organisation A changed data"
    b = stack.new_client()
    await login(b, **OTHER_ADMIN)
    after = await questionnaire_status(b, b_status["id"])
    assert after == b_status


async def _settled(settings) -> dict | None:  # noqa: ANN001
    """The data once two looks a second apart agree: no event is still being handled."""
    first = snapshot(settings)
    await asyncio.sleep(1)
    return first if snapshot(settings) == first else None
