"""Reading people from a pasted list or a CSV file: one person per address, every row taken
or refused with a reason, and a hostile file refused whole."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from services.invitations.domain import InvitationError, QuestionnaireNotOpen, RespondentEntry
from services.invitations.domain_import import (
    MAX_ROWS,
    MAX_UPLOAD,
    ImportRefused,
    against_list,
    plan_csv,
    plan_pasted,
)
from services.invitations.domain_participants import (
    Invitation,
    parse_new_scan,
    remove_participant,
)
from services.invitations.domain_respondents import parse_person


TODAY = date(2026, 11, 1)


def people(plan) -> list[tuple[str, str]]:  # noqa: ANN001
    return [(r.person.name, r.person.email) for r in plan.taken]


def reasons(plan) -> list[tuple[int, str]]:  # noqa: ANN001
    return [(r.number, r.reason.rsplit(".", 1)[1]) for r in plan.refused]


def test_an_outlook_list_gives_one_person_per_address():
    plan = plan_pasted("Jan Smit <jan@x.nl>; Piet Bos <piet@x.nl>")
    assert people(plan) == [("Jan Smit", "jan@x.nl"), ("Piet Bos", "piet@x.nl")]


def test_a_gmail_list_with_quoted_names_gives_one_person_per_address():
    plan = plan_pasted('"Jan Smit" <jan@x.nl>, Piet Bos <piet@x.nl>, "Bos, Anna" <ANNA@x.nl>')
    assert people(plan) == [("Jan Smit", "jan@x.nl"), ("Piet Bos", "piet@x.nl"),
                            ("Bos, Anna", "anna@x.nl")]


def test_one_per_line_in_every_format_the_new_scan_form_accepts():
    plan = plan_pasted("jan@x.nl\r\nPiet Bos, piet@x.nl\n\nAnna de Vries anna@x.nl\n"
                       "Smit, Kees <kees@x.nl>")
    assert people(plan) == [("jan", "jan@x.nl"), ("Piet Bos", "piet@x.nl"),
                            ("Anna de Vries", "anna@x.nl"), ("Smit, Kees", "kees@x.nl")]


def test_every_refused_entry_says_why():
    plan = plan_pasted("Jan <jan@x.nl>; Jan Smit <JAN@x.nl>; just a name; bad@@x.nl; "
                       f"{'x' * 65}@x.nl; {'N' * 201} <n@x.nl>; Line\u2028Break <l@x.nl>")
    assert people(plan) == [("Jan", "jan@x.nl")]
    assert reasons(plan) == [(2, "duplicate"), (3, "no_address"), (4, "email_invalid"),
                             (5, "email_too_long"), (6, "name_too_long"),
                             (7, "name_characters")]


def test_a_name_with_a_next_line_character_is_refused_not_split():
    # U+0085 is a line break to Python's splitlines: it must not turn one entry into two.
    plan = plan_pasted("Jan\u0085Smit <jan@x.nl>")
    assert people(plan) == []
    assert reasons(plan) == [(1, "name_characters")]


def test_a_csv_with_a_dutch_header_a_bom_and_semicolons():
    data = "\ufeffNaam;E-mailadres;Taal;Kenmerken\nJan Smit;jan@x.nl;en;inkoper, Financiën\n" \
           "Piet;piet-at-x.nl;nl;\nJan Smit;jan@x.nl;nl;\n"
    plan = plan_csv(data.encode("utf-8"))
    (jan,) = plan.taken
    assert (jan.number, jan.person.language, jan.person.tags) == (2, "en",
                                                                   ("inkoper", "Financiën"))
    assert reasons(plan) == [(3, "email_invalid"), (4, "duplicate")]


def test_a_csv_with_an_english_header_in_another_order_and_commas():
    plan = plan_csv(b"email,name,tags\r\nanna@x.nl,Anna,\"buyer,legal\"\r\n")
    assert [(r.person.name, r.person.email, r.person.tags) for r in plan.taken] == [
        ("Anna", "anna@x.nl", ("buyer", "legal"))]


def test_a_csv_without_header_is_name_email_language_tags():
    plan = plan_csv(b"Anna,anna@x.nl,fr\nKees,kees@x.nl\n")
    assert people(plan) == [("Kees", "kees@x.nl")]
    assert reasons(plan) == [(1, "language")]


@pytest.mark.parametrize(("data", "key"), [
    (b"name,email\n=HYPERLINK(\"http://evil\",\"x\"),a@x.nl\n", "formula"),
    (b"name,email\nAnna,a@x.nl\n+31,b@x.nl\n", "formula"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
    (b"PK\x03\x04\x14\x00\x06\x00", "binary"),
    ("naam;email\nJosé;j@x.nl\n".encode("latin-1"), "not_utf8"),
    (b"", "empty"),
    (b" ; \n\n", "empty"),
    (b"a@x.nl\n" * (MAX_ROWS + 1), "too_many"),
    (b"x" * (MAX_UPLOAD + 1), "too_large"),
])
def test_a_hostile_or_unreadable_file_is_refused_whole(data: bytes, key: str):
    with pytest.raises(ImportRefused) as refused:
        plan_csv(data)
    assert refused.value.key == f"respondents.import.error.{key}"


def test_addresses_already_on_the_list_are_refused_as_such():
    plan = against_list(plan_pasted("a@x.nl; b@x.nl"), {"b@x.nl"})
    assert people(plan) == [("a", "a@x.nl")]
    assert reasons(plan) == [(2, "already_listed")]


def test_the_form_for_one_person_marks_each_field_in_error():
    person, errors = parse_person(name="Jan\u2028Smit", email="jan at x", language="de",
                                  tags="a," + "b" * 51)
    assert person is None
    assert set(errors) == {"name", "email", "language", "tags"}
    person, errors = parse_person(name="  Jan   Smit ", email=" JAN@X.NL ", language="en",
                                  tags="inkoop, , inkoop, directie")
    assert errors == {} and person.name == "Jan Smit" and person.email == "jan@x.nl"
    assert person.tags == ("inkoop", "directie")


def test_a_new_scan_may_have_only_people_chosen_from_the_list():
    chosen = (RespondentEntry("Anna", "anna@x.nl"),)
    draft, errors = parse_new_scan(title="MVI-scan", deadline="2026-12-31", respondents=" ",
                                   chosen=chosen, today=TODAY)
    assert errors == {} and draft.respondents == chosen
    draft, errors = parse_new_scan(title="MVI-scan", deadline="2026-12-31",
                                   respondents="Anna A <anna@x.nl>\nkees@x.nl", chosen=chosen,
                                   today=TODAY)
    assert [e.email for e in draft.respondents] == ["anna@x.nl", "kees@x.nl"]
    draft, errors = parse_new_scan(title="MVI-scan", deadline="2026-12-31", respondents="",
                                   chosen=(), today=TODAY)
    assert errors == {"respondents": "form.error.respondents_empty"}


def test_removing_a_participant_revokes_only_an_open_unanswered_invitation():
    now = datetime(2026, 11, 30, 9, tzinfo=UTC)
    ids = {"organisation_id": uuid4(), "questionnaire_id": uuid4(), "now": now}
    invited = Invitation(uuid4(), submitted_at=None, revoked_at=None)
    event = remove_participant(status="open", invitation=invited, invitations_left=2, **ids)
    assert (event.invitation_id, event.invitations_total, event.revoked_at) == (
        invited.id, 2, now)
    assert remove_participant(status="open", invitation=None, invitations_left=3, **ids) is None
    with pytest.raises(InvitationError, match="participants.error.submitted"):
        remove_participant(status="open", invitation=Invitation(uuid4(), now, None),
                           invitations_left=2, **ids)
    with pytest.raises(QuestionnaireNotOpen):
        remove_participant(status="completed", invitation=invited, invitations_left=2, **ids)
