"""A scan's life: its deadline, edits and reopening, closing, deleting and restoring, its state.
Pure rules, no I/O and no clock: every rule that needs the time is handed ``now``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.invitations.domain import (
    MAX_DEADLINE_AHEAD,
    MAX_TITLE,
    MIN_TITLE,
    InvitationError,
    end_of_day,
    parse_wall_time,
)
from shared.events import (
    QuestionnaireClosed,
    QuestionnaireDeleted,
    QuestionnaireRestored,
    QuestionnaireUpdated,
)
from shared.text import single_line_ok

# Restorable this long after a delete; then a sweep purges the scan in every service.
KEEP_DELETED = timedelta(days=30)
STATES = ("draft", "open", "closed", "completed", "deleted")


class NotDeleted(InvitationError):
    pass


def parse_deadline(*, day: str, at: str, now: datetime) -> tuple[datetime | None, str | None]:
    """The deadline from the form's date and time fields, or an error message key.

    An empty time means 23:59. A deadline must lie ahead: a moment already past would close
    the scan at once (and, on an edit, is no way to reopen it)."""
    try:
        parsed_day = date.fromisoformat(day.strip())
    except ValueError:
        return None, "form.error.deadline_format"
    wall = parse_wall_time(at)
    if wall is None:
        return None, "lifecycle.error.deadline_time"
    moment = end_of_day(parsed_day, wall)
    if moment <= now:
        return None, "form.error.deadline_past"
    if moment > now + MAX_DEADLINE_AHEAD:
        return None, "form.error.deadline_too_far"
    return moment, None


def title_problem(title: str) -> str | None:
    """The same rule as at creation: one line (no U+0085 or U+2028 either), 3 to 200 long."""
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        return "form.error.title_length"
    if not single_line_ok(title):
        return "form.error.title_characters"
    return None


@dataclass(frozen=True)
class Edit:
    title: str
    deadline: datetime


def parse_edit_form(*, title: str, deadline_day: str, deadline_time: str,
                    now: datetime) -> tuple[Edit | None, dict[str, str]]:
    errors: dict[str, str] = {}
    title = title.strip()
    if problem := title_problem(title):
        errors["title"] = problem
    deadline, problem = parse_deadline(day=deadline_day, at=deadline_time, now=now)
    if problem:
        errors["deadline"] = problem
    if errors or deadline is None:
        return None, errors
    return Edit(title=title, deadline=deadline), {}


@dataclass(frozen=True)
class EditOutcome:
    status: str  # after the edit
    reopened: bool
    event: QuestionnaireUpdated


def edit_questionnaire(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                       status: str, deleted: bool, edit: Edit, now: datetime) -> EditOutcome:
    """Change title and deadline. A closed or completed scan whose deadline moves into the
    future opens again: respondents answer through the links they have."""
    if deleted:
        raise InvitationError("lifecycle.error.deleted")
    reopened = status in ("closed", "completed") and edit.deadline > now
    return EditOutcome(
        status="open" if reopened else status, reopened=reopened,
        event=QuestionnaireUpdated(organisation_id=organisation_id,
                                   questionnaire_id=questionnaire_id, title=edit.title,
                                   deadline=edit.deadline, reopened=reopened, updated_at=now))


def deadline_closed(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                    now: datetime) -> QuestionnaireClosed:
    return QuestionnaireClosed(organisation_id=organisation_id, questionnaire_id=questionnaire_id,
                               closed_at=now, reason="deadline_passed")


def delete_questionnaire(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                         deleted_at: datetime | None, now: datetime) -> QuestionnaireDeleted:
    if deleted_at is not None:
        raise InvitationError("lifecycle.error.deleted")
    return QuestionnaireDeleted(organisation_id=organisation_id,
                                questionnaire_id=questionnaire_id, deleted_at=now,
                                purge_after=now + KEEP_DELETED)


def restore_questionnaire(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                          deleted_at: datetime | None, now: datetime) -> QuestionnaireRestored:
    if deleted_at is None:
        raise NotDeleted("lifecycle.error.not_deleted")
    return QuestionnaireRestored(organisation_id=organisation_id,
                                 questionnaire_id=questionnaire_id, restored_at=now)


def state_of(*, status: str, deleted_at: datetime | None, invited: int) -> str:
    """What the admin sees: draft is an open scan nobody has been invited to yet."""
    if deleted_at is not None:
        return "deleted"
    if status == "open" and invited == 0:
        return "draft"
    return status
