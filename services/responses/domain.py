"""Responses: the respondent's side. Pure rules, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from shared.content import Answer, ScanContent
from shared.events import AnswerGiven, ResponseSubmitted
from shared.text import multi_line_ok

# 84 comments at this length stay far below the cap on one event (shared.events.MAX_EVENT_BYTES)
# even when every character takes four bytes.
MAX_COMMENT = 1000
# Input that cannot be stored as typed: nothing of the form is saved, the page shows it again.
_REFUSED = frozenset({"respond.error.comment_characters"})


class ResponseError(Exception):
    """The respondent cannot do this now; ``key`` is a message-catalogue key."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


class ResponseClosed(ResponseError):
    pass


@dataclass(frozen=True)
class Draft:
    answers: dict[str, Answer]
    comments: dict[str, str]


def parse_form(form: Mapping[str, str], content: ScanContent) -> tuple[Draft, dict[str, str]]:
    """Read ``answer-<id>`` and ``comment-<id>`` fields; unknown or invalid values are errors."""
    answers: dict[str, Answer] = {}
    comments: dict[str, str] = {}
    errors: dict[str, str] = {}
    for statement in content.statements:
        raw = (form.get(f"answer-{statement.id}") or "").strip()
        if raw:
            try:
                answers[statement.id] = Answer(raw)
            except ValueError:
                errors[statement.id] = "respond.error.invalid_answer"
        comment = (form.get(f"comment-{statement.id}") or "").replace("\r\n", "\n").strip()
        if not multi_line_ok(comment):
            errors[statement.id] = "respond.error.comment_characters"
        elif len(comment) > MAX_COMMENT:
            errors[statement.id] = "respond.error.comment_too_long"
            comment = comment[:MAX_COMMENT]
        if comment:
            comments[statement.id] = comment
    return Draft(answers=answers, comments=comments), errors


def must_not_save(errors: Mapping[str, str]) -> bool:
    return any(key in _REFUSED for key in errors.values())


def submission_errors(draft: Draft, content: ScanContent) -> dict[str, str]:
    """What keeps a draft from being submitted: every statement answered, N.v.t. explained."""
    errors: dict[str, str] = {}
    for statement in content.statements:
        answer = draft.answers.get(statement.id)
        if answer is None:
            errors[statement.id] = "respond.error.missing"
        elif answer is Answer.NVT and not draft.comments.get(statement.id):
            errors[statement.id] = "respond.error.nvt_needs_comment"
    return errors


def ensure_open(*, deadline: datetime, closed_at: datetime | None,
                submitted_at: datetime | None, now: datetime) -> None:
    if submitted_at is not None:
        raise ResponseClosed("respond.error.already_submitted")
    if closed_at is not None:
        raise ResponseClosed("respond.error.closed")
    if now >= deadline:
        raise ResponseClosed("respond.error.deadline_passed")


def response_submitted(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                       invitation_id: uuid.UUID, response_id: uuid.UUID, content_version: str,
                       draft: Draft, now: datetime) -> ResponseSubmitted:
    return ResponseSubmitted(
        organisation_id=organisation_id, questionnaire_id=questionnaire_id,
        response_id=response_id, invitation_id=invitation_id,
        content_version=content_version, submitted_at=now,
        answers=tuple(
            AnswerGiven(statement_id=sid, answer=answer, comment=draft.comments.get(sid))
            for sid, answer in sorted(draft.answers.items())
        ),
    )
