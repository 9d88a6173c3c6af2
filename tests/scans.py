"""A whole scan as events: what invitations and responses emit for one questionnaire whose every
respondent answered every statement. For tests and benchmarks that feed scoring directly."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from shared.content import Answer, content
from shared.events import AnswerGiven, Event, InvitationSent, QuestionnaireCreated, \
    ResponseSubmitted


def submitted_scan(*, respondents: int, answer: Answer, organisation_id: uuid.UUID | None = None,
                   ) -> list[Event]:
    """questionnaire.created, then per respondent invitation.sent and response.submitted."""
    scan, now = content(), datetime.now(UTC)
    org, qid = organisation_id or uuid.uuid4(), uuid.uuid4()
    answers = tuple(AnswerGiven(statement_id=s.id, answer=answer) for s in scan.statements)
    events: list[Event] = [QuestionnaireCreated(
        organisation_id=org, questionnaire_id=qid, organisation_name="Gemeente", title="Scan",
        content_version=scan.version, deadline=now + timedelta(days=1), created_at=now)]
    for _ in range(respondents):
        invitation = uuid.uuid4()
        events.append(InvitationSent(
            organisation_id=org, questionnaire_id=qid, invitation_id=invitation,
            respondent_id=uuid.uuid4(), respondent_name="R", token_hash="0" * 64,
            invitations_total=respondents, sent_at=now))
        events.append(ResponseSubmitted(
            organisation_id=org, questionnaire_id=qid, response_id=uuid.uuid4(),
            invitation_id=invitation, content_version=scan.version, submitted_at=now,
            answers=answers))
    return events
