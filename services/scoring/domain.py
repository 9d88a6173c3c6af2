"""Scoring: when a scan is complete, and what its result is. Pure rules, no I/O.

The scoring model itself (statement, theme, clause and overall scores and levels) lives in
``rules.py``; this module decides about responses and completion.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from services.scoring.rules import RespondentAnswers, score_scan
from shared.content import ANSWER_SCORES, Answer, ScanContent
from shared.events import AnswerGiven, ScanCompleted

CompletionReason = Literal["all_submitted", "closed_by_admin", "deadline_passed"]


def response_percent(answers: Iterable[AnswerGiven]) -> float | None:
    """One respondent's own mean over their scored answers (None if nothing was scored)."""
    scores = [ANSWER_SCORES[a.answer] for a in answers if a.answer in ANSWER_SCORES]
    return round(sum(scores) / len(scores), 1) if scores else None


@dataclass(frozen=True)
class QuestionnaireState:
    known: bool  # questionnaire.created has arrived
    invitations_total: int
    submitted: int
    closed: bool
    completed: bool
    closed_reason: str | None = None  # closed_by_admin or deadline_passed
    # Submitted when this round began (0 in the first): a reopened scan completes by itself
    # once someone submits in the new round, not at once because all had submitted before.
    round_start_submitted: int = 0


def completion_reason(state: QuestionnaireState) -> CompletionReason | None:
    """Complete once a round: when every invited respondent submitted, or when the scan was
    closed, by the admin or by its deadline."""
    if state.completed or not state.known:
        return None
    if state.closed:
        return "deadline_passed" if state.closed_reason == "deadline_passed" else "closed_by_admin"
    if (state.invitations_total > 0 and state.submitted >= state.invitations_total
            and state.submitted > state.round_start_submitted):
        return "all_submitted"
    return None


@dataclass(frozen=True)
class ScoredResponse:
    invitation_id: uuid.UUID
    # statement id -> answer as stored; stored answers were validated when they arrived
    answers: Mapping[str, str]


_ANSWERS = {answer.value: answer for answer in Answer}


def scan_completed(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                   organisation_name: str, title: str, content: ScanContent,
                   responses: Sequence[ScoredResponse], invitations_total: int,
                   reason: CompletionReason, now: datetime, round: int = 1) -> ScanCompleted:
    known = content.statement_ids
    result = score_scan(content, [
        RespondentAnswers(
            respondent_id=str(r.invitation_id),
            answers={statement_id: _ANSWERS[answer] for statement_id, answer in r.answers.items()
                     if statement_id in known},
        )
        for r in responses
    ])
    return ScanCompleted(
        organisation_id=organisation_id, questionnaire_id=questionnaire_id,
        organisation_name=organisation_name, title=title, completed_at=now, reason=reason,
        respondents_invited=invitations_total, respondents_submitted=len(responses),
        result=result, round=round,
    )
