"""The rules for typed text: what a single-line field, a comment and an address may hold."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.invitations import domain as invitations
from services.responses import domain as responses
from shared.content import content
from shared.text import address_problem, multi_line_ok, single_line_ok

TODAY = date(2026, 11, 23)
SEPARATORS = ["\x00", "\n", "\r", "\t", "\x0b", "\x0c", "\x1c", "\x7f", "\x85", "\u2028",
              "\u2029", "\u202e", "\ud800"]


@pytest.mark.parametrize("char", SEPARATORS, ids=[f"U+{ord(c):04X}" for c in SEPARATORS])
def test_a_single_line_field_refuses_every_line_separator_and_control_character(char):
    assert not single_line_ok(f"MVI{char}scan")


def test_ordinary_text_in_any_script_passes():
    for text in ("MVI-scan 2026 — Gemeente ’s-Hertogenbosch", "Zoë Çelik", "東京 🌱👩‍💼",
                 "Ünïcødé & <tags>"):
        assert single_line_ok(text) and multi_line_ok(text)


def test_a_comment_may_hold_line_breaks_and_tabs_but_no_other_control_character():
    assert multi_line_ok("Eerste regel\r\nTweede\tregel\u2028derde")
    for char in ("\x00", "\x07", "\x1b", "\x7f", "\ud800", "\u202e"):
        assert not multi_line_ok(f"Wij{char}doen"), repr(char)


@pytest.mark.parametrize(("address", "problem"), [
    ("anna@voorbeeldstad.example", None),
    ("anna.de-vries+mvi@sub.gemeente.nl", None),
    ("a" * 64 + "@example.nl", None),
    ("info@xn--caf-dma.xn--p1ai", None),
    ("a" * 65 + "@example.nl", "too_long"),
    ("a@" + "b" * 250 + ".nl", "too_long"),
    ("a" * 10_000 + "@example.nl", "too_long"),
    ("zoë@example.nl", "invalid"),
    ("anna@example", "invalid"),
    ("anna..b@example.nl", "invalid"),
    ("anna@-example.nl", "invalid"),
    ("an\x00na@example.nl", "invalid"),
])
def test_addresses_must_fit_smtp(address, problem):
    assert address_problem(address) == problem


def test_a_deadline_more_than_two_years_ahead_is_refused_not_an_overflow():
    for deadline in ("9999-12-31", "2029-01-01"):
        draft, errors = invitations.parse_questionnaire_form(
            title="MVI-scan", deadline=deadline, respondents="a@b.nl", today=TODAY)
        assert draft is None and errors == {"deadline": "form.error.deadline_too_far"}
    draft, _ = invitations.parse_questionnaire_form(
        title="MVI-scan", deadline="2028-11-23", respondents="a@b.nl", today=TODAY)
    assert draft is not None


@pytest.mark.parametrize(("line", "key"), [
    ("Anna <" + "a" * 10_000 + "@example.nl>", "form.error.respondent_line_too_long"),
    ("Anna <" + "a" * 65 + "@example.nl>", "form.error.respondent_address_too_long"),
    ("N" * 201 + " <n@example.nl>", "form.error.respondent_name_too_long"),
    ("An\x00na <anna@example.nl>", "form.error.respondent_characters"),
    ("Anna\x85 <anna@example.nl>", None),  # U+0085 ends a line: two lines, the second no address
    ("Anna \u202eanna <anna@example.nl>", "form.error.respondent_characters"),
    ("Zoë <zoë@example.nl>", "form.error.respondent_line"),
])
def test_a_respondent_line_that_cannot_be_mailed_is_refused(line, key):
    entries, problem = invitations.parse_respondents(line)
    assert problem == (key or "form.error.respondent_line")
    assert entries == ()


@given(st.text(max_size=300))
def test_whatever_is_typed_the_form_parses_to_a_draft_or_named_errors(text):
    draft, errors = invitations.parse_questionnaire_form(
        title=text, deadline=text, respondents=text, today=TODAY)
    assert (draft is None) == bool(errors)
    assert set(errors) <= {"title", "deadline", "respondents"}
    if draft is not None:
        assert single_line_ok(draft.title)
        assert all(single_line_ok(r.name) and address_problem(r.email) is None
                   for r in draft.respondents)


def test_a_comment_with_a_control_character_is_an_error_that_stops_the_save():
    scan = content()
    first = scan.statements[0].id
    _, errors = responses.parse_form({f"answer-{first}": "deels",
                                      f"comment-{first}": "Wij\x07doen"}, scan)
    assert errors == {first: "respond.error.comment_characters"}
    assert responses.must_not_save(errors)
    _, missing_only = responses.parse_form({f"answer-{first}": "deels"}, scan)
    assert not responses.must_not_save(responses.submission_errors(
        responses.Draft({}, {}), scan))
    assert missing_only == {}
