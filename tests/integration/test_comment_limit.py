"""The respondent sees the comment's maximum length next to each field, and a longer comment
never reaches the event."""

from __future__ import annotations

import pytest

from services.responses.domain import MAX_COMMENT
from tests.conftest import ADMIN
from tests.flows import (
    invite_one,
    login,
    respondent_page,
    statement_ids,
)

pytestmark = pytest.mark.integration


async def test_the_page_states_the_comment_limit_and_keeps_comments_within_it(stack):
    await login(stack.client, **ADMIN)
    _, link = await invite_one(stack.client, stack.sink)
    respondent = stack.new_client()
    page = await respondent_page(respondent, link)
    first = statement_ids(page)[0]
    assert f'maxlength="{MAX_COMMENT}"' in page
    assert f"Hoogstens {MAX_COMMENT} tekens." in page
    assert f'aria-describedby="max-{first}"' in page

    saved = await respondent.post(link, data={
        f"answer-{first}": "nvt", f"comment-{first}": "x" * (MAX_COMMENT + 500),
        "action": "save"})
    assert saved.status_code == 422
    assert f"langer dan {MAX_COMMENT} tekens" in saved.text
    again = await respondent.get(link)
    assert "x" * MAX_COMMENT + "</textarea>" in again.text
