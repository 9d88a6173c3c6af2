"""The whole flow over HTTP with each service in its own OS process, as in production."""

from __future__ import annotations

from datetime import date, timedelta

import httpx
import pytest

from shared.sessions import SESSION_COOKIE
from tests.conftest import ADMIN
from tests.flows import answer_and_submit, eventually, invitation_links, login

pytestmark = pytest.mark.e2e


async def test_a_scan_runs_end_to_end_across_four_processes(processes, mail_sink):
    invitations = processes.url("invitations")
    async with httpx.AsyncClient(timeout=30) as admin:
        csrf = await login(admin, url=invitations, **ADMIN)
        created = await admin.post(f"{invitations}/admin/api/questionnaires", json={
            "title": "Scan over vier processen",
            "deadline": (date.today() + timedelta(days=30)).isoformat(),
            "respondents": [f"R{i} <r{i}@voorbeeldstad.example>" for i in range(5)]})
        assert created.status_code == 201, created.text
        qid = created.json()["id"]
        sent = await admin.post(f"{invitations}/admin/api/questionnaires/{qid}/send")
        assert sent.json() == {"sent": 5}

        links = await invitation_links(mail_sink, expected=5)
        async with httpx.AsyncClient(base_url=processes.url("responses"), timeout=30) as r:
            for link, answer in zip(links, ["volledig", "deels", "deels", "niet", "volledig"],
                                    strict=True):
                assert (await answer_and_submit(r, link, answer=answer)).status_code == 200

        async def done():  # noqa: ANN202
            status = (await admin.get(f"{invitations}/admin/api/questionnaires/{qid}")).json()
            return status if len(status["reports"]) == 2 else None

        status = await eventually(done, timeout=90, what="the reports")
        assert status["status"] == "completed"
        assert status["submitted"] == 5
        assert status["overall_percent"] == pytest.approx(60.0)
        # The admin's session from invitations is honoured by documents and scoring.
        pdf = await admin.get(processes.url("documents") + status["reports"]["en"])
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
        result = await admin.get(f"{processes.url('scoring')}/scoring/api/questionnaires/{qid}"
                                 "/result")
        assert result.json()["respondents"] == 5

        # Logging out at invitations ends the session in the other processes too.
        captured = admin.cookies[SESSION_COOKIE]
        assert (await admin.post(f"{invitations}/logout", data={"csrf": csrf})).status_code == 303
    async with httpx.AsyncClient(timeout=30) as thief:
        thief.cookies.set(SESSION_COOKIE, captured)
        assert (await thief.get(processes.url("documents") + status["reports"]["en"])
                ).status_code == 303
        assert (await thief.get(f"{processes.url('scoring')}/scoring/api/questionnaires/{qid}"
                                "/result")).status_code == 401
