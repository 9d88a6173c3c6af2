"""Invitation and reminder mail: the admin's texts with placeholders, retries, each respondent's
status, reminder settings. Pure rules: no I/O, no clock (``now`` is handed in)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from shared.text import multi_line_ok, single_line_ok

KINDS = ("invitation", "reminder_not_started", "reminder_not_submitted")
LANGUAGES = ("nl", "en")
MAX_SUBJECT, MAX_BODY = 200, 5000

# One syntax for every placeholder: a name between single braces, in Dutch or in English, so
# an admin writing either language can use the words they read on the page.
PLACEHOLDERS = {
    "naam": "name", "name": "name",
    "organisatie": "organisation", "organisation": "organisation",
    "titel": "title", "title": "title",
    "deadline": "deadline", "uiterste_datum": "deadline",
    "link": "link",
    "beheerder": "admin", "admin": "admin",
}
_BRACED = re.compile(r"\{([^{}]*)\}")


class MailTextError(Exception):
    """A text the admin wrote cannot be used; ``key`` is a catalogue key, ``values`` fill it."""

    def __init__(self, key: str, **values: str) -> None:
        super().__init__(key)
        self.key, self.values = key, values


def placeholders_in(text: str) -> list[str]:
    """The placeholders ``text`` uses, canonical names; raises on unknown or malformed ones."""
    found = []
    for match in _BRACED.finditer(text):
        name = match.group(1).strip().lower()
        if name not in PLACEHOLDERS:
            raise MailTextError("mail.error.unknown_placeholder", placeholder=match.group(0))
        found.append(PLACEHOLDERS[name])
    # What is left once the well-formed ones are gone must hold no brace at all: "{naam" or
    # "naam}" is a typing error that would reach every respondent as it stands.
    if "{" in _BRACED.sub("", text) or "}" in _BRACED.sub("", text):
        raise MailTextError("mail.error.malformed_placeholder")
    return found


@dataclass(frozen=True)
class MailText:
    subject: str
    body: str


def parse_mail_text(*, subject: str, body: str) -> tuple[MailText | None, dict[str, tuple]]:
    """The admin's subject and body, or per field an error: (catalogue key, values)."""
    errors: dict[str, tuple] = {}
    subject = subject.strip()
    body = body.replace("\r\n", "\n").strip()
    if not subject or len(subject) > MAX_SUBJECT:
        errors["subject"] = ("mail.error.subject_length", {"max": str(MAX_SUBJECT)})
    elif not single_line_ok(subject):
        errors["subject"] = ("mail.error.subject_characters", {})
    else:
        try:
            if "link" in placeholders_in(subject):
                errors["subject"] = ("mail.error.link_in_subject", {})
        except MailTextError as exc:
            errors["subject"] = (exc.key, exc.values)
    if not body or len(body) > MAX_BODY:
        errors["body"] = ("mail.error.body_length", {"max": str(MAX_BODY)})
    elif not multi_line_ok(body):
        errors["body"] = ("mail.error.body_characters", {})
    else:
        try:
            if "link" not in placeholders_in(body):
                errors["body"] = ("mail.error.body_without_link", {})
        except MailTextError as exc:
            errors["body"] = (exc.key, exc.values)
    if errors:
        return None, errors
    return MailText(subject=subject, body=body), {}


def fill(text: MailText, values: dict[str, str]) -> MailText:
    """The mail as the respondent reads it. ``values`` by canonical name (see PLACEHOLDERS)."""
    def one(match: re.Match) -> str:
        return values[PLACEHOLDERS[match.group(1).strip().lower()]]

    # One line whatever was stored before names were checked: a line separator in a Subject
    # makes the mail library refuse the message.
    subject = " ".join(_BRACED.sub(one, text.subject).split())
    return MailText(subject=subject, body=_BRACED.sub(one, text.body))


def mail_language(respondent_language: str | None, scan_language: str) -> str:
    if respondent_language in LANGUAGES:
        return respondent_language
    return scan_language if scan_language in LANGUAGES else "nl"


# Sending: a temporary refusal (4xx) is tried again later, each time waiting longer.
MAX_ATTEMPTS = 5
RETRY_DELAYS = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15),
                timedelta(hours=1))


def retry_at(attempts: int, now: datetime, *, scale: float = 1.0) -> datetime | None:
    """When a mail refused ``attempts`` times for now is tried again; None: it has failed."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1] * scale


@dataclass(frozen=True)
class ReminderSettings:
    gap_days: int
    maximum: int
    auto_days_before: int | None


def parse_reminder_settings(*, gap_days: str, maximum: str, auto_days_before: str
                            ) -> tuple[ReminderSettings | None, dict[str, tuple]]:
    errors: dict[str, tuple] = {}

    def number(field: str, raw: str, low: int, high: int) -> int | None:
        try:
            value = int(raw.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            errors[field] = ("mail.error.number_range", {"low": str(low), "high": str(high)})
            return None
        return value

    gap = number("gap_days", gap_days, 0, 60)
    most = number("maximum", maximum, 0, 10)
    auto = number("auto_days_before", auto_days_before, 1, 60) \
        if auto_days_before.strip() else None
    if errors:
        return None, errors
    assert gap is not None and most is not None
    return ReminderSettings(gap_days=gap, maximum=most, auto_days_before=auto), {}


REMINDER_GROUPS = {"not_started": "reminder_not_started",
                   "not_submitted": "reminder_not_submitted"}


@dataclass(frozen=True)
class Status:
    key: str  # catalogue key under "status.respondent."
    values: dict[str, str]


def respondent_status(row, *, local_time) -> Status:  # noqa: ANN001 - a participants row
    """What the admin reads per respondent, the furthest step first."""
    def at(moment: datetime | None) -> str:
        return local_time(moment) if moment else ""

    if row.invitation_id is None:
        return Status("not_invited", {})
    if row.revoked_at is not None:
        return Status("revoked", {"date": at(row.revoked_at)})
    if row.submitted_at is not None:
        return Status("submitted", {"date": at(row.submitted_at)})
    if row.mail_state == "failed":
        return Status("mail_failed", {"reason": row.mail_error or ""})
    if row.started_at is not None:
        return Status("started", {"date": at(row.started_at)})
    if row.sent_at is None:
        return Status("queued", {})
    if row.reminders:
        return Status("reminded", {"count": str(row.reminders),
                                   "date": at(row.last_reminded_at)})
    return Status("invited", {"date": at(row.sent_at)})
