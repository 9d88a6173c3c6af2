"""Schemathesis against /openapi.json of the whole stack: no request may answer 5xx.

CI runs a bounded, derandomized run; ``ISO20400_FUZZ_SECONDS``, ``ISO20400_FUZZ_EXAMPLES`` and
``ISO20400_FUZZ_SEED`` make a longer or different one, ``ISO20400_FUZZ_VERBOSE=1`` prints the
statuses per operation.
"""

from __future__ import annotations

import logging
import os

import pytest

from tests.conftest import ADMIN
from tests.flows import (
    create_questionnaire,
    invitation_links,
    login,
    respondent_page,
    send_invitations,
)
from tests.fuzz import run_schemathesis

pytestmark = pytest.mark.integration
log = logging.getLogger(__name__)


async def test_schemathesis_finds_no_server_error_and_the_api_answers_as_described(stack):
    client = stack.client
    await login(client, **ADMIN)
    q = await create_questionnaire(client, respondents=2)
    await send_invitations(client, q["id"])
    link = (await invitation_links(stack.sink, expected=1))[0]
    await respondent_page(client, link)  # the responses service knows the invitation

    report = await run_schemathesis(
        client, known_ids={"questionnaire_id": q["id"], "token": link.removeprefix("/r/")},
        max_examples=int(os.environ.get("ISO20400_FUZZ_EXAMPLES", "1000")),
        seconds=float(os.environ.get("ISO20400_FUZZ_SECONDS", "90")),
        seed=int(os.environ["ISO20400_FUZZ_SEED"]) if "ISO20400_FUZZ_SEED" in os.environ else None)
    print(f"schemathesis: {report.summary()}")  # noqa: T201 - the figure CI's log should show
    if os.environ.get("ISO20400_FUZZ_VERBOSE"):
        for (method, path, status), count in sorted(report.by_operation.items()):
            print(f"  {method:6} {path:60} {status} x{count}")  # noqa: T201

    assert report.cases >= 100, report.summary()
    assert report.server_errors == [], "\n\n".join(report.server_errors[:10])
    assert report.nonconforming == [], "\n\n".join(report.nonconforming[:10])
    assert report.statuses[200] + report.statuses[201] > 0, report.summary()
