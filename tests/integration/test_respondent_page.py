"""The respondent's page shows what was saved, in the respondent's language, and nothing else."""

from __future__ import annotations

import re

import pytest
from markupsafe import escape

from services.responses.domain import MAX_COMMENT
from shared.content import Answer
from shared.web import translate
from tests.conftest import ADMIN
from tests.flows import (
    answer_and_submit,
    invite_one,
    login,
    respondent_page,
    statement_ids,
)

pytestmark = pytest.mark.integration


async def test_a_saved_draft_comes_back_as_typed_in_dutch_and_in_english(stack):
    client = stack.client
    await login(client, **ADMIN)
    _, link = await invite_one(client, stack.sink)
    ids = statement_ids(await respondent_page(client, link))
    saved = await client.post(link, data={
        f"answer-{ids[0]}": "volledig", f"answer-{ids[1]}": "nvt",
        f"comment-{ids[1]}": "Geldt niet voor <ICT> & zo.",
        f"comment-{ids[2]}": "Nog navragen.",  # a comment without an answer is kept too
        "action": "save"})
    assert saved.status_code == 200, saved.text[-2000:]

    for lang in ("nl", "en"):
        page = (await client.get(f"{link}?lang={lang}")).text
        checked = re.findall(r'name="answer-([^"]+)" value="([a-z_]+)" checked', page)
        assert checked == [(ids[0], "volledig"), (ids[1], "nvt")]
        assert ">Geldt niet voor &lt;ICT&gt; &amp; zo.</textarea>" in page
        assert ">Nog navragen.</textarea>" in page
        for choice in Answer:
            label = escape(translate(lang, f"answer.{choice.value}"))
            assert page.count(f"> {label}</label>") == len(ids)
        assert page.count(escape(translate(lang, "respond.comment_max", max=MAX_COMMENT))) \
            == len(ids)
        assert " disabled" not in page and " readonly" not in page
        assert "None" not in page and "undefined" not in page.lower()


async def test_a_later_save_changes_clears_and_keeps_answers_as_left(stack):
    client = stack.client
    await login(client, **ADMIN)
    _, link = await invite_one(client, stack.sink)
    ids = statement_ids(await respondent_page(client, link))
    first = {f"answer-{ids[0]}": "niet", f"answer-{ids[1]}": "deels",
             f"answer-{ids[2]}": "volledig", f"comment-{ids[2]}": "Eerste versie.",
             f"comment-{ids[3]}": "Weg ermee.", "action": "save"}
    assert (await client.post(link, data=first)).status_code == 200
    # Changed, cleared (answer and comment), kept, and one more.
    second = {f"answer-{ids[0]}": "volledig", f"answer-{ids[2]}": "volledig",
              f"comment-{ids[2]}": "Tweede versie.", f"answer-{ids[4]}": "weet_niet",
              "action": "save"}
    assert (await client.post(link, data=second)).status_code == 200

    page = (await client.get(link)).text
    checked = re.findall(r'name="answer-([^"]+)" value="([a-z_]+)" checked', page)
    assert checked == [(ids[0], "volledig"), (ids[2], "volledig"), (ids[4], "weet_niet")]
    assert ">Tweede versie.</textarea>" in page
    assert "Eerste versie." not in page and "Weg ermee." not in page


async def test_a_submitted_scan_shows_every_choice_and_comment_locked(stack):
    client = stack.client
    await login(client, **ADMIN)
    _, link = await invite_one(client, stack.sink)
    assert (await answer_and_submit(client, link)).status_code == 200

    page = (await client.get(link)).text
    ids = statement_ids(page)
    assert len(re.findall(r'value="volledig" checked disabled>', page)) == len(ids)
    assert page.count(" disabled>") == len(ids) * len(Answer)
    assert page.count(" readonly>") == len(ids)
    assert translate("nl", "respond.error.already_submitted") in page
