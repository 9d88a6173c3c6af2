"""A scan whose event was dead-lettered shows as stuck to its admin, and the operator's replay
completes it: ``iso20400 dead-letters list`` and ``replay``."""

from __future__ import annotations

import asyncio

import pytest

from services import cli
from services.scoring import domain as scoring_domain
from tests.conftest import ADMIN
from tests.flows import (
    answer_and_submit,
    eventually,
    invite_one,
    login,
    questionnaire_status,
)

pytestmark = pytest.mark.integration


async def test_a_dead_lettered_event_shows_the_scan_stuck_and_a_replay_completes_it(
        stack, monkeypatch, capsys):
    bug = RuntimeError("a bug in scoring")

    def broken(answers):  # noqa: ANN001, ANN202
        raise bug

    fixed = scoring_domain.response_percent
    monkeypatch.setattr(scoring_domain, "response_percent", broken)
    monkeypatch.setenv("ISO20400_NATS_URL", stack.settings.nats_url)
    monkeypatch.setenv("ISO20400_BUS_NAMESPACE", stack.settings.bus_namespace)
    client = stack.client
    await login(client, **ADMIN)
    q, link = await invite_one(client, stack.sink)
    assert (await answer_and_submit(stack.new_client(), link)).status_code == 200

    # Scoring fails on the response every time and sets it aside; the admin is told.
    async def stuck():  # noqa: ANN202
        return (await questionnaire_status(client, q["id"]))["stuck"]

    await eventually(stuck, timeout=30, what="the scan shown as stuck")
    status = await questionnaire_status(client, q["id"])
    assert status["status"] == "open" and status["submitted"] == 1
    page = await client.get(f"/admin/questionnaires/{q['id']}")
    assert "is vastgelopen" in page.text and "technisch beheerder is ingelicht" in page.text
    assert 'role="alert"' in page.text

    assert await asyncio.to_thread(cli.main, ["dead-letters", "list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    assert listed[-1] == "1 dead letter(s)"
    seq, when, consumer, subject, reason = listed[0].split("\t")
    assert (seq, consumer) == ("1", "scoring-score-responses")
    assert subject.endswith(".response.submitted")
    assert reason == "failed 3 times, last error: RuntimeError: a bug in scoring"

    # The bug is fixed; the operator replays, and the scan completes without the admin.
    monkeypatch.setattr(scoring_domain, "response_percent", fixed)
    assert await asyncio.to_thread(
        cli.main, ["dead-letters", "replay", "--consumer", "scoring-score-responses"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 dead letter(s) replayed"

    async def completed():  # noqa: ANN202
        s = await questionnaire_status(client, q["id"])
        return s if s["status"] == "completed" and len(s["reports"]) == 2 else None

    status = await eventually(completed, timeout=60, what="the replayed scan to complete")
    assert status["stuck"] is False and status["submitted"] == 1
    page = await client.get(f"/admin/questionnaires/{q['id']}")
    assert "vastgelopen" not in page.text

    # Replayed letters are gone: a second replay repeats nothing.
    assert await asyncio.to_thread(cli.main, ["dead-letters", "replay"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "0 dead letter(s) replayed"
