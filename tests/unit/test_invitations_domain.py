import uuid
from datetime import UTC, date, datetime

import pytest

from services.invitations import domain
from shared.tokens import hash_token

TODAY = date(2026, 11, 23)


def test_a_valid_form_becomes_a_draft_closing_at_2359_dutch_time():
    draft, errors = domain.parse_questionnaire_form(
        title="  MVI-scan 2026 ", deadline="2026-12-01",
        respondents="Anna de Vries <Anna@Example.nl>\nbram@example.nl\n\nCor, cor@example.nl",
        today=TODAY)
    assert errors == {}
    assert draft.title == "MVI-scan 2026"
    assert draft.deadline == datetime(2026, 12, 1, 22, 59, tzinfo=UTC)  # 23:59 in Amsterdam
    assert [(r.name, r.email) for r in draft.respondents] == [
        ("Anna de Vries", "anna@example.nl"), ("bram", "bram@example.nl"),
        ("Cor", "cor@example.nl")]


def test_every_problem_in_the_form_is_named():
    draft, errors = domain.parse_questionnaire_form(
        title="x", deadline="2026-11-22", respondents="not an address", today=TODAY)
    assert draft is None
    assert errors == {"title": "form.error.title_length", "deadline": "form.error.deadline_past",
                      "respondents": "form.error.respondent_line"}


def test_a_title_with_a_line_break_is_refused():
    _, errors = domain.parse_questionnaire_form(
        title="Scan\nBcc: x@evil.example", deadline="2026-12-01", respondents="a@b.nl",
        today=TODAY)
    assert errors == {"title": "form.error.title_characters"}


def test_the_same_address_twice_is_one_respondent():
    entries, problem = domain.parse_respondents("a@b.nl\nA <A@B.NL>")
    assert problem is None
    assert len(entries) == 1


def test_invitations_carry_a_hash_of_a_long_random_token_and_the_new_total():
    now = datetime(2026, 11, 23, tzinfo=UTC)
    pending = [(uuid.uuid4(), "Anna", "anna@example.nl"), (uuid.uuid4(), "Bram", "b@example.nl")]
    planned = domain.plan_invitations(
        organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(), status="open",
        deadline=datetime(2026, 12, 1, tzinfo=UTC), pending=pending, already_invited=3, now=now)
    assert [p.event.invitations_total for p in planned] == [5, 5]
    for p in planned:
        assert len(p.token) >= 43  # 256 random bits, URL-safe base64
        assert p.event.token_hash == hash_token(p.token)
        assert p.token not in p.event.model_dump_json()
    assert planned[0].token != planned[1].token


def test_no_invitations_after_the_deadline_or_once_closed():
    common = dict(organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(),
                  pending=[(uuid.uuid4(), "A", "a@b.nl")], already_invited=0,
                  now=datetime(2026, 12, 2, tzinfo=UTC))
    with pytest.raises(domain.QuestionnaireNotOpen):
        domain.plan_invitations(status="open", deadline=datetime(2026, 12, 1, tzinfo=UTC),
                                **common)
    with pytest.raises(domain.QuestionnaireNotOpen):
        domain.plan_invitations(status="closed", deadline=datetime(2027, 1, 1, tzinfo=UTC),
                                **common)

