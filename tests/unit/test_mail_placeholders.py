"""The admin's mail texts: which placeholders are taken, and what the respondent reads."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.invitations.domain_mail import (
    MailText,
    fill,
    mail_language,
    parse_mail_text,
    parse_reminder_settings,
    retry_at,
)

BODY = "Beste {naam},\n\nOpen {link} vóór {deadline}.\n{beheerder}"


def test_dutch_and_english_placeholders_are_taken_and_filled():
    text, errors = parse_mail_text(subject="{titel} — {organisation}", body=BODY)
    assert errors == {} and text is not None
    filled = fill(text, {"name": "Anna", "organisation": "Gemeente X", "title": "MVI-scan",
                         "deadline": "31-12-2026", "link": "https://x/r/abc", "admin": "Bea"})
    assert filled.subject == "MVI-scan — Gemeente X"
    assert filled.body == "Beste Anna,\n\nOpen https://x/r/abc vóór 31-12-2026.\nBea"


@pytest.mark.parametrize(("subject", "body", "field", "key"), [
    ("Hallo {voornaam}", BODY, "subject", "mail.error.unknown_placeholder"),
    ("Hallo", BODY + " {wachtwoord}", "body", "mail.error.unknown_placeholder"),
    ("Hallo {naam", BODY, "subject", "mail.error.malformed_placeholder"),
    ("Hallo", "Beste naam}, {link}", "body", "mail.error.malformed_placeholder"),
    ("Hallo", "Beste {{naam}}, {link}", "body", "mail.error.malformed_placeholder"),
    ("Hallo", "Beste {naam}, zonder link", "body", "mail.error.body_without_link"),
    ("Je link: {link}", BODY, "subject", "mail.error.link_in_subject"),
    ("Regel\u2028twee", BODY, "subject", "mail.error.subject_characters"),
    ("Regel\u0085twee", BODY, "subject", "mail.error.subject_characters"),
    ("Regel\ntwee", BODY, "subject", "mail.error.subject_characters"),
    ("", BODY, "subject", "mail.error.subject_length"),
    ("x" * 201, BODY, "subject", "mail.error.subject_length"),
    ("Hallo", "", "body", "mail.error.body_length"),
])
def test_a_text_the_respondent_cannot_be_sent_is_refused_with_its_reason(subject, body, field,
                                                                          key):
    text, errors = parse_mail_text(subject=subject, body=body)
    assert text is None
    assert errors[field][0] == key


def test_the_unknown_placeholder_is_named_in_the_message():
    _, errors = parse_mail_text(subject="Hallo {voornaam}", body=BODY)
    assert errors["subject"][1] == {"placeholder": "{voornaam}"}


def test_a_name_with_a_line_break_stored_long_ago_still_gives_a_one_line_subject():
    filled = fill(MailText(subject="{naam}", body="{link}"), {
        "name": "Anna\u2028de Vries", "link": "l"})
    assert filled.subject == "Anna de Vries"


def test_the_respondents_language_comes_before_the_scans():
    assert mail_language("en", "nl") == "en"
    assert mail_language(None, "en") == "en"
    assert mail_language("fr", "xx") == "nl"


def test_a_temporary_refusal_is_retried_later_each_time_and_then_given_up():
    now = datetime(2026, 11, 1, tzinfo=UTC)
    delays = [retry_at(n, now) for n in range(1, 6)]
    assert delays[-1] is None
    waits = [d - now for d in delays[:-1]]
    assert waits == sorted(waits) and waits[0] >= timedelta(minutes=1)


def test_reminder_settings_are_whole_numbers_in_range_and_automatic_is_optional():
    settings, errors = parse_reminder_settings(gap_days="3", maximum="2", auto_days_before="")
    assert errors == {} and settings.auto_days_before is None
    _, errors = parse_reminder_settings(gap_days="-1", maximum="x", auto_days_before="0")
    assert set(errors) == {"gap_days", "maximum", "auto_days_before"}


def test_each_respondents_status_shows_the_furthest_step():
    from types import SimpleNamespace

    from services.invitations.domain_mail import respondent_status

    base = dict(invitation_id=1, revoked_at=None, submitted_at=None, mail_state="sent",
                mail_error=None, started_at=None, sent_at=1, reminders=0,
                last_reminded_at=None)

    def status(**changes):  # noqa: ANN003, ANN202
        row = SimpleNamespace(**{**base, **changes})
        return respondent_status(row, local_time=lambda m: f"d{m}")

    assert status(invitation_id=None).key == "not_invited"
    assert status(sent_at=None, mail_state="queued").key == "queued"
    assert status() == status().__class__("invited", {"date": "d1"})
    assert status(reminders=2, last_reminded_at=5).values == {"count": "2", "date": "d5"}
    assert status(reminders=2, started_at=7).key == "started"
    assert status(mail_state="failed", mail_error="550 no").values == {"reason": "550 no"}
    assert status(started_at=7, submitted_at=9).key == "submitted"
