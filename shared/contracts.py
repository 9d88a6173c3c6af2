"""The event contracts: what each event says, as a frozen Pydantic model named in the past tense.

Their envelope, subjects and decoding are in ``shared.events``, which also exports every name
here. A field added later has a default, so that an event stored before it still reads; any
other change is a new version with an upgrade in ``shared.events.UPGRADES``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.content import Answer
from shared.results import ScanResult

TYPE_PREFIX = "org.iso20400."


class Event(BaseModel):
    """Base of every event payload."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    name: ClassVar[str]
    version: ClassVar[int] = 1

    organisation_id: uuid.UUID = Field(description="Organisation the event belongs to")
    questionnaire_id: uuid.UUID = Field(description="Questionnaire (scan) the event is about")

    @classmethod
    def type_name(cls) -> str:
        return f"{TYPE_PREFIX}{cls.name}.v{cls.version}"


class QuestionnaireCreated(Event):
    name: ClassVar[str] = "questionnaire.created"

    organisation_name: str = Field(description="Display name of the organisation")
    title: str = Field(description="Title the admin gave the questionnaire", examples=["MVI-scan 2026"])
    content_version: str = Field(description="Scan content version the questionnaire is bound to")
    deadline: datetime = Field(description="Moment after which respondents can no longer submit")
    created_at: datetime


class QuestionnaireUpdated(Event):
    name: ClassVar[str] = "questionnaire.updated"

    title: str = Field(description="The questionnaire's title after the change")
    deadline: datetime = Field(description="The deadline after the change")
    reopened: bool = Field(description="The change moved the deadline of a closed or completed "
                           "scan into the future: respondents may answer again, and a new "
                           "completion makes a new result round")
    updated_at: datetime


class QuestionnaireClosed(Event):
    name: ClassVar[str] = "questionnaire.closed"

    closed_at: datetime
    reason: Literal["closed_by_admin", "deadline_passed"] = Field(
        default="closed_by_admin", description="Closed by the admin, or by the deadline sweep")


class QuestionnaireDeleted(Event):
    name: ClassVar[str] = "questionnaire.deleted"

    deleted_at: datetime
    purge_after: datetime = Field(description="Until then the admin may restore the scan; then "
                                  "it and its answers are purged in every service")


class QuestionnaireRestored(Event):
    name: ClassVar[str] = "questionnaire.restored"

    restored_at: datetime


class QuestionnairePurged(Event):
    name: ClassVar[str] = "questionnaire.purged"

    purged_at: datetime = Field(description="Every service removes the questionnaire, its "
                                "responses, results and documents when it receives this")


class GuidanceChanged(Event):
    name: ClassVar[str] = "guidance.changed"

    statement_id: str = Field(description="The statement the admin's note belongs to",
                              examples=["F3-1-01"])
    text: str = Field(default="", description="The admin's note for respondents; empty when "
                      "the note was removed")
    changed_at: datetime


class InvitationSent(Event):
    name: ClassVar[str] = "invitation.sent"

    invitation_id: uuid.UUID
    respondent_id: uuid.UUID
    respondent_name: str = Field(description="Name shown on the respondent's own page")
    token_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the personal link's token; the token itself never travels",
    )
    invitations_total: int = Field(
        ge=1, description="Invitations of this questionnaire after this one was sent"
    )
    sent_at: datetime
    replaces_earlier_links: bool = Field(
        default=False, description="The admin issued a new link: the invitation's earlier "
        "links stop working (a resent invitation adds a link and keeps the earlier ones)")


class InvitationRevoked(Event):
    name: ClassVar[str] = "invitation.revoked"

    invitation_id: uuid.UUID
    reason: Literal["respondent_removed"] = "respondent_removed"
    invitations_total: int = Field(
        ge=0, description="Invitations of this questionnaire left after this one was revoked")
    revoked_at: datetime


class ReminderSent(Event):
    name: ClassVar[str] = "reminder.sent"

    invitation_id: uuid.UUID
    kind: Literal["not_started", "not_submitted"] = Field(
        description="Reminded before starting, or after starting without submitting")
    reminders: int = Field(ge=1, description="Reminders this invitation has had, this one "
                           "included")
    token_hash: str = Field(
        pattern=r"^[0-9a-f]{64}$",
        description="SHA-256 of the personal link this reminder carries; earlier links keep "
        "working. The token itself never travels")
    sent_at: datetime


class ResponseStarted(Event):
    name: ClassVar[str] = "response.started"

    response_id: uuid.UUID
    invitation_id: uuid.UUID
    started_at: datetime


class AnswerGiven(BaseModel):
    model_config = ConfigDict(frozen=True)

    statement_id: str
    answer: Answer
    comment: str | None = None


class ResponseSubmitted(Event):
    name: ClassVar[str] = "response.submitted"

    response_id: uuid.UUID
    invitation_id: uuid.UUID
    content_version: str
    submitted_at: datetime
    answers: tuple[AnswerGiven, ...]


class ScanCompleted(Event):
    name: ClassVar[str] = "scan.completed"

    organisation_name: str
    title: str
    completed_at: datetime
    reason: Literal["all_submitted", "closed_by_admin", "deadline_passed"]
    respondents_invited: int = Field(ge=0)
    respondents_submitted: int = Field(ge=0)
    result: ScanResult
    round: int = Field(default=1, ge=1, description="1 for the first completion; a reopened "
                       "scan's next completion is round 2, and so on (earlier rounds are kept)")


class DocumentGenerated(Event):
    name: ClassVar[str] = "document.generated"

    document_id: uuid.UUID
    kind: Literal["results_report"]
    language: Literal["nl", "en"]
    filename: str
    media_type: str
    size_bytes: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    generated_at: datetime
    round: int = Field(default=1, ge=1, description="The result round the document reports on "
                       "(ScanCompleted.round)")


EVENT_TYPES: tuple[type[Event], ...] = (
    QuestionnaireCreated,
    QuestionnaireClosed,
    QuestionnaireUpdated,
    QuestionnaireDeleted,
    QuestionnaireRestored,
    QuestionnairePurged,
    GuidanceChanged,
    InvitationSent,
    InvitationRevoked,
    ReminderSent,
    ResponseStarted,
    ResponseSubmitted,
    ScanCompleted,
    DocumentGenerated,
)
