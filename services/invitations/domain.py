"""Invitations: the admin's side of a scan. Pure rules, no I/O."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from shared.events import InvitationSent, QuestionnaireClosed, QuestionnaireCreated
from shared.text import MAX_ADDRESS, address_problem, single_line_ok
from shared.tokens import hash_token, new_token

# Deadlines are entered as a date and a time in Dutch time; a date alone means 23:59 that day.
DEADLINE_ZONE = ZoneInfo("Europe/Amsterdam")
DEFAULT_DEADLINE_TIME = time(23, 59)
MAX_RESPONDENTS = 500
MIN_TITLE, MAX_TITLE = 3, 200
MAX_NAME = 200
# A scan runs for weeks; a date years ahead is a typing error, and one near the end of the
# calendar cannot even be turned into a moment.
MAX_DEADLINE_AHEAD = timedelta(days=2 * 366)


class InvitationError(Exception):
    """A domain rule was broken; ``key`` is a message-catalogue key for the admin."""

    def __init__(self, key: str, **values: object) -> None:
        super().__init__(key)
        self.key, self.values = key, values


class QuestionnaireNotOpen(InvitationError):
    pass


@dataclass(frozen=True)
class RespondentEntry:
    name: str
    email: str


@dataclass(frozen=True)
class QuestionnaireDraft:
    title: str
    deadline: datetime
    respondents: tuple[RespondentEntry, ...]
    mail_language: str = "nl"


MAIL_LANGUAGES = ("nl", "en")


def parse_questionnaire_form(*, title: str, deadline: str, respondents: str, today: date,
                             deadline_time: str = "", mail_language: str = "nl",
                             now: datetime | None = None,
                             ) -> tuple[QuestionnaireDraft | None, dict[str, str]]:
    """Validate the admin's form; return the draft or, per field, an error message key.

    ``deadline_time`` is the wall-clock time in Amsterdam (empty: 23:59); given ``now``, a
    deadline earlier today that has already passed is refused too."""
    errors: dict[str, str] = {}
    title = title.strip()
    if not MIN_TITLE <= len(title) <= MAX_TITLE:
        errors["title"] = "form.error.title_length"
    elif not single_line_ok(title):
        errors["title"] = "form.error.title_characters"
    deadline_date = None
    try:
        deadline_date = date.fromisoformat(deadline.strip())
    except ValueError:
        errors["deadline"] = "form.error.deadline_format"
    if deadline_date is not None and deadline_date < today:
        errors["deadline"] = "form.error.deadline_past"
    elif deadline_date is not None and deadline_date > today + MAX_DEADLINE_AHEAD:
        errors["deadline"] = "form.error.deadline_too_far"
    wall = parse_wall_time(deadline_time)
    if wall is None:
        errors["deadline"] = "lifecycle.error.deadline_time"
    elif deadline_date is not None and "deadline" not in errors and now is not None \
            and end_of_day(deadline_date, wall) <= now:
        errors["deadline"] = "form.error.deadline_past"
    if mail_language not in MAIL_LANGUAGES:
        errors["mail_language"] = "lifecycle.error.mail_language"
    entries, problem = parse_respondents(respondents)
    if problem:
        errors["respondents"] = problem
    if errors:
        return None, errors
    assert deadline_date is not None and wall is not None
    return QuestionnaireDraft(title=title, deadline=end_of_day(deadline_date, wall),
                              respondents=entries, mail_language=mail_language), {}


_ADDRESS_PROBLEMS = {"too_long": "form.error.respondent_address_too_long",
                     "invalid": "form.error.respondent_line"}


def parse_respondents(text: str) -> tuple[tuple[RespondentEntry, ...], str | None]:
    """One respondent per line: ``Name <email>``, ``Name, email`` or just an email address."""
    entries: dict[str, RespondentEntry] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        # Checked before the pattern, which would backtrack for long on a huge line.
        if len(line) > MAX_NAME + MAX_ADDRESS + 4:
            return (), "form.error.respondent_line_too_long"
        if not single_line_ok(line):
            return (), "form.error.respondent_characters"
        match = re.fullmatch(r"(.*?)[\s,;]*<?([^\s<>,;]+@[^\s<>,;]+)>?", line)
        if not match:
            return (), "form.error.respondent_line"
        email = match.group(2).lower()
        if problem := address_problem(email):
            return (), _ADDRESS_PROBLEMS[problem]
        name = match.group(1).strip(" ,;\"") or email.split("@")[0]
        if len(name) > MAX_NAME:
            return (), "form.error.respondent_name_too_long"
        entries.setdefault(email, RespondentEntry(name=name, email=email))
    if not entries:
        return (), "form.error.respondents_empty"
    if len(entries) > MAX_RESPONDENTS:
        return (), "form.error.respondents_too_many"
    return tuple(entries.values()), None


def end_of_day(day: date, at: time = DEFAULT_DEADLINE_TIME) -> datetime:
    """The deadline moment: ``at`` (23:59 unless given) on ``day`` in Amsterdam, whether
    summer or winter time applies that day. From that moment on, nothing can be submitted."""
    return datetime.combine(day, at, tzinfo=DEADLINE_ZONE)


def parse_wall_time(text: str) -> time | None:
    """``HH:MM`` as typed (or as a time field sends it); empty means 23:59; None if invalid."""
    text = text.strip()
    if not text:
        return DEFAULT_DEADLINE_TIME
    match = re.fullmatch(r"([01]?[0-9]|2[0-3]):([0-5][0-9])(?::00)?", text)
    return time(int(match.group(1)), int(match.group(2))) if match else None


def questionnaire_created(*, organisation_id: uuid.UUID, organisation_name: str,
                          questionnaire_id: uuid.UUID, draft: QuestionnaireDraft,
                          content_version: str, now: datetime) -> QuestionnaireCreated:
    return QuestionnaireCreated(
        organisation_id=organisation_id, questionnaire_id=questionnaire_id,
        organisation_name=organisation_name, title=draft.title,
        content_version=content_version, deadline=draft.deadline, created_at=now,
    )


@dataclass(frozen=True)
class PlannedInvitation:
    invitation_id: uuid.UUID
    respondent_id: uuid.UUID
    respondent_name: str
    email: str
    token: str  # goes into the mail only; never stored
    event: InvitationSent


def plan_invitations(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                     status: str, deadline: datetime, pending: list[tuple[uuid.UUID, str, str]],
                     already_invited: int, now: datetime) -> list[PlannedInvitation]:
    """Invite every respondent of the questionnaire who has no invitation yet.

    ``pending`` holds (respondent id, name, email). Each event carries the questionnaire's new
    total of invitations, so scoring knows how many responses complete the scan.
    """
    if status != "open" or deadline <= now:
        raise QuestionnaireNotOpen("msg.questionnaire_not_open")
    total = already_invited + len(pending)
    planned = []
    for respondent_id, name, email in pending:
        token = new_token()
        invitation_id = uuid.uuid4()
        planned.append(PlannedInvitation(
            invitation_id=invitation_id, respondent_id=respondent_id, respondent_name=name,
            email=email, token=token,
            event=InvitationSent(
                organisation_id=organisation_id, questionnaire_id=questionnaire_id,
                invitation_id=invitation_id, respondent_id=respondent_id,
                respondent_name=name, token_hash=hash_token(token),
                invitations_total=total, sent_at=now,
            ),
        ))
    return planned


def close_questionnaire(*, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
                        status: str, now: datetime) -> QuestionnaireClosed:
    if status != "open":
        raise QuestionnaireNotOpen("msg.questionnaire_not_open")
    return QuestionnaireClosed(organisation_id=organisation_id,
                               questionnaire_id=questionnaire_id, closed_at=now)
