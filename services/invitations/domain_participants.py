"""Who takes part in a running scan: adding respondents, removing those who have not
answered. Pure rules, no I/O."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime

from services.invitations.domain import (
    MAX_RESPONDENTS,
    InvitationError,
    QuestionnaireDraft,
    QuestionnaireNotOpen,
    RespondentEntry,
    parse_questionnaire_form,
)
from shared.events import InvitationRevoked


@dataclass(frozen=True)
class Invitation:
    id: uuid.UUID
    submitted_at: datetime | None
    revoked_at: datetime | None


def ensure_running(status: str) -> None:
    """People join or leave a scan while it is open; a closed one is reopened first."""
    if status != "open":
        raise QuestionnaireNotOpen("msg.questionnaire_not_open")


def remove_participant(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID, status: str,
                       invitation: Invitation | None, invitations_left: int,
                       now: datetime) -> InvitationRevoked | None:
    """Take a person off the scan. One already invited has their invitation revoked (the event
    returned), so their link stops working and the scan no longer waits for them; one who
    submitted stays, their answers count.

    ``invitations_left``: the scan's invitations not revoked, once this one is.
    """
    ensure_running(status)
    if invitation is None or invitation.revoked_at is not None:
        return None
    if invitation.submitted_at is not None:
        raise InvitationError("participants.error.submitted")
    return InvitationRevoked(organisation_id=organisation_id, questionnaire_id=questionnaire_id,
                             invitation_id=invitation.id, invitations_total=invitations_left,
                             revoked_at=now)


# Stands in for an empty paste when people were chosen from the list, so that the form's
# other fields are checked by the same rules; it never reaches the draft.
_NOBODY_PASTED = "nobody@example.org"


def parse_new_scan(*, title: str, deadline: str, respondents: str,
                   chosen: tuple[RespondentEntry, ...], today: date, deadline_time: str = "",
                   mail_language: str = "nl", now: datetime | None = None,
                   ) -> tuple[QuestionnaireDraft | None, dict[str, str]]:
    """The new-scan form: people chosen from the list (``chosen``) and/or pasted."""
    pasted = respondents if respondents.strip() or not chosen else _NOBODY_PASTED
    draft, errors = parse_questionnaire_form(title=title, deadline=deadline,
                                             respondents=pasted, today=today,
                                             deadline_time=deadline_time,
                                             mail_language=mail_language, now=now)
    if draft is None:
        return None, errors
    people = {e.email: e for e in chosen}
    if pasted is not _NOBODY_PASTED:
        for entry in draft.respondents:
            people.setdefault(entry.email, entry)
    if len(people) > MAX_RESPONDENTS:
        return None, {"respondents": "form.error.respondents_too_many"}
    return replace(draft, respondents=tuple(people.values())), {}
