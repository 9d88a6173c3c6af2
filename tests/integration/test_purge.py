"""Delete hides a scan and withdraws its links, restore brings it back, and 30 days later the
purge removes it, with its answers, results and reports, from every service."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from shared.db import make_engine
from tests.conftest import ADMIN
from tests.flows import (
    CSRF,
    answer_and_submit,
    eventually,
    invite_one,
    login,
    questionnaire_status,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(settings):  # noqa: ANN001, ANN201
    return settings.model_copy(update={"sweep_interval": 0.2})


async def _completed(client, qid: str) -> dict | None:  # noqa: ANN001
    status = await questionnaire_status(client, qid)
    return status if status["status"] == "completed" and len(status["reports"]) == 2 else None


async def test_delete_asks_first_hides_the_scan_and_withdraws_its_link_until_restored(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink, title="Weg ermee")
    respondent = stack.new_client()
    await eventually(lambda: _status(respondent, link, 200), what="the link to work")

    confirm = await client.get(f"/admin/questionnaires/{q['id']}/delete")
    assert confirm.status_code == 200 and "Weet je zeker" in confirm.text
    assert "Weg ermee" in (await client.get("/admin")).text  # asking changes nothing
    deleted = await client.post(f"/admin/questionnaires/{q['id']}/delete",
                                data={"csrf": CSRF.search(confirm.text).group(1)})
    assert deleted.status_code == 303
    listing = await client.get(deleted.headers["location"])
    assert "De scan is verwijderd." in listing.text
    assert "Weg ermee" in listing.text
    dashboard = (await client.get("/admin")).text
    assert "Weg ermee" not in dashboard
    assert 'href="/admin/deleted-questionnaires"' in dashboard
    assert "Verwijderd" in (await client.get(f"/admin/questionnaires/{q['id']}")).text
    edit = await client.get(f"/admin/questionnaires/{q['id']}/edit")
    assert edit.status_code == 303  # a deleted scan is restored before it is changed
    assert "Deze scan is verwijderd." in (await client.get(edit.headers["location"])).text

    withdrawn = await eventually(lambda: _status(respondent, link, 410),
                                 what="the link to say the scan was withdrawn")
    assert "Scan ingetrokken" in withdrawn.text
    posted = await respondent.post(link, data={"action": "save"})
    assert posted.status_code == 410

    restored = await client.post(f"/admin/questionnaires/{q['id']}/restore",
                                 data={"csrf": CSRF.search(listing.text).group(1)})
    assert restored.status_code == 303
    assert "De scan is teruggezet." in (await client.get(restored.headers["location"])).text
    assert "Weg ermee" in (await client.get("/admin")).text
    await eventually(lambda: _status(respondent, link, 200), what="the link to work again")


async def _status(client, url: str, code: int):  # noqa: ANN001, ANN202
    response = await client.get(url)
    return response if response.status_code == code else None


async def test_a_deleted_scan_past_its_30_days_is_purged_from_every_service(stack):
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink, title="Oude scan")
    assert (await answer_and_submit(stack.new_client(), link)).status_code == 200
    await eventually(lambda: _completed(client, q["id"]), timeout=60,
                     what="the scan to complete with its reports")
    assert (await client.post(f"/admin/api/questionnaires/{q['id']}/delete")).status_code == 200

    engine = make_engine(stack.settings.database_url)
    async with engine.begin() as conn:
        purge_after = await conn.scalar(sa.text(
            "SELECT purge_after - deleted_at FROM invitations.questionnaires WHERE id = :id"),
            {"id": q["id"]})
        assert purge_after == timedelta(days=30)
        # The test's stand-in for 30 days passing.
        await conn.execute(sa.text("UPDATE invitations.questionnaires SET purge_after = :t "
                                   "WHERE id = :id"),
                           {"t": datetime.now(UTC) - timedelta(seconds=1), "id": q["id"]})

    async def gone() -> bool:
        documents = await client.get(f"/documents/api/questionnaires/{q['id']}")
        result = await client.get(f"/scoring/api/questionnaires/{q['id']}/result")
        scan = await client.get(f"/admin/api/questionnaires/{q['id']}")
        return documents.status_code == 404 and result.status_code == 404 \
            and scan.status_code == 404

    await eventually(gone, timeout=30, what="the scan to be purged in every service")
    assert "Oude scan" not in (await client.get("/admin/deleted-questionnaires")).text
    assert (await client.get(link)).status_code == 404

    tables = {
        "invitations": ["questionnaires", "invitations", "participants", "reports"],
        "responses": ["questionnaires", "invitations", "links", "responses", "guidance"],
        "scoring": ["questionnaires", "scored_responses", "scan_results"],
        "documents": ["documents"],
    }
    async def leftovers() -> dict:
        found = {}
        async with engine.connect() as conn:
            for schema, names in tables.items():
                for name in names:
                    column = "id" if name == "questionnaires" else "questionnaire_id"
                    if schema == "responses" and name in ("links", "responses"):
                        continue  # no questionnaire column; counted below
                    found[f"{schema}.{name}"] = await conn.scalar(sa.text(
                        f"SELECT count(*) FROM {schema}.{name} WHERE {column} = :id"),
                        {"id": q["id"]})
            found["responses.answers"] = await conn.scalar(sa.text(
                "SELECT count(*) FROM responses.answers"))
            found["responses.responses"] = await conn.scalar(sa.text(
                "SELECT count(*) FROM responses.responses"))
            found["responses.links"] = await conn.scalar(sa.text(
                "SELECT count(*) FROM responses.links"))
        return found

    counts = await eventually(lambda: _all_zero(leftovers), timeout=30,
                              what="every service's rows to be removed")
    await engine.dispose()
    assert set(counts.values()) == {0}


async def _all_zero(leftovers):  # noqa: ANN001, ANN202
    counts = await leftovers()
    return counts if set(counts.values()) == {0} else None
