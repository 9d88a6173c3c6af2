import uuid
from datetime import UTC, datetime

import pytest

from services.scoring import domain
from shared.content import Answer, content
from shared.events import AnswerGiven

SCAN = content()


def state(**kw) -> domain.QuestionnaireState:
    return domain.QuestionnaireState(**({"known": True, "invitations_total": 3, "submitted": 0,
                                         "closed": False, "completed": False} | kw))


@pytest.mark.parametrize(("kw", "reason"), [
    ({"submitted": 2}, None),
    ({"submitted": 3}, "all_submitted"),
    ({"submitted": 1, "closed": True}, "closed_by_admin"),
    ({"submitted": 0, "closed": True}, "closed_by_admin"),
    ({"submitted": 3, "completed": True}, None),
    ({"submitted": 3, "known": False}, None),
    ({"submitted": 0, "invitations_total": 0}, None),
])
def test_a_scan_completes_once_everyone_submitted_or_the_admin_closed_it(kw, reason):
    assert domain.completion_reason(state(**kw)) == reason


def test_a_response_scores_its_own_scored_answers():
    answers = [AnswerGiven(statement_id="x", answer=a)
               for a in (Answer.NIET, Answer.VOLLEDIG, Answer.DEELS, Answer.NVT, Answer.WEET_NIET)]
    assert domain.response_percent(answers) == 50.0
    assert domain.response_percent([AnswerGiven(statement_id="x", answer=Answer.NVT)]) is None


def test_the_completed_event_carries_the_full_result():
    every = {s.id: Answer.VOLLEDIG.value for s in SCAN.statements}
    event = domain.scan_completed(
        organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(), organisation_name="Gemeente",
        title="Scan", content=SCAN, invitations_total=2, reason="all_submitted",
        responses=[domain.ScoredResponse(invitation_id=uuid.uuid4(), answers=every)],
        now=datetime(2026, 11, 23, tzinfo=UTC))
    assert event.respondents_submitted == 1
    assert event.result.overall_percent == 100.0
    assert event.result.overall_level == 5
    assert {t.theme for t in event.result.themes} == {t.code for t in SCAN.themes}
