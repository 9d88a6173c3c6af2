import uuid
from datetime import UTC, datetime, timedelta

import pytest

from services.responses import domain
from shared.content import Answer, content

SCAN = content()
FIRST, SECOND = SCAN.statements[0].id, SCAN.statements[1].id
NOW = datetime(2026, 11, 23, tzinfo=UTC)


def test_a_form_is_read_into_answers_and_comments():
    draft, errors = domain.parse_form({f"answer-{FIRST}": "deels", f"comment-{FIRST}": " ok ",
                                       f"answer-{SECOND}": "bogus", "answer-ZZ": "niet"}, SCAN)
    assert draft.answers == {FIRST: Answer.DEELS}
    assert draft.comments == {FIRST: "ok"}
    assert errors == {SECOND: "respond.error.invalid_answer"}


def test_submitting_needs_every_statement_and_a_comment_for_not_applicable():
    answers = {s.id: Answer.VOLLEDIG for s in SCAN.statements}
    answers[FIRST] = Answer.NVT
    del answers[SECOND]
    errors = domain.submission_errors(domain.Draft(answers, {}), SCAN)
    assert errors == {FIRST: "respond.error.nvt_needs_comment",
                      SECOND: "respond.error.missing"}
    answers[SECOND] = Answer.WEET_NIET
    assert domain.submission_errors(domain.Draft(answers, {FIRST: "geen ICT"}), SCAN) == {}


def test_an_overlong_comment_is_cut_and_reported():
    draft, errors = domain.parse_form({f"comment-{FIRST}": "x" * 2500}, SCAN)
    assert len(draft.comments[FIRST]) == domain.MAX_COMMENT
    assert errors == {FIRST: "respond.error.comment_too_long"}


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"submitted_at": NOW}, "respond.error.already_submitted"),
    ({"closed_at": NOW}, "respond.error.closed"),
    ({"deadline": NOW}, "respond.error.deadline_passed"),
])
def test_a_response_is_closed_once_submitted_closed_or_past_the_deadline(kwargs, key):
    args = {"deadline": NOW + timedelta(days=1), "closed_at": None, "submitted_at": None,
            "now": NOW} | kwargs
    with pytest.raises(domain.ResponseClosed) as caught:
        domain.ensure_open(**args)
    assert caught.value.key == key


def test_the_submitted_event_carries_every_answer_sorted():
    draft = domain.Draft({SECOND: Answer.NIET, FIRST: Answer.NVT}, {FIRST: "n.v.t. voor ons"})
    event = domain.response_submitted(
        organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(), invitation_id=uuid.uuid4(),
        response_id=uuid.uuid4(), content_version=SCAN.version, draft=draft, now=NOW)
    assert [(a.statement_id, a.answer, a.comment) for a in event.answers] == sorted([
        (FIRST, Answer.NVT, "n.v.t. voor ons"), (SECOND, Answer.NIET, None)])


@pytest.mark.parametrize("character", ["\U0001F600", "\\", '"', "\n", "\u2028", "é"])
def test_84_comments_at_the_maximum_length_make_an_event_under_the_cap(character):
    from shared.events import MAX_EVENT_BYTES, encode_checked, envelope

    form = {f"answer-{s.id}": "nvt" for s in SCAN.statements}
    # Control characters, which JSON would escape six-fold, are refused (see below).
    form |= {f"comment-{s.id}": "a" + character * domain.MAX_COMMENT + "b"
             for s in SCAN.statements}
    draft, errors = domain.parse_form(form, SCAN)
    assert set(errors.values()) == {"respond.error.comment_too_long"}
    assert len(draft.comments) == 84 == len(SCAN.statements)
    assert all(len(c) == domain.MAX_COMMENT for c in draft.comments.values())
    event = domain.response_submitted(
        organisation_id=uuid.uuid4(), questionnaire_id=uuid.uuid4(), invitation_id=uuid.uuid4(),
        response_id=uuid.uuid4(), content_version=SCAN.version, draft=draft, now=NOW)
    size = len(encode_checked(envelope(event, source="responses", time=NOW)))
    assert size < MAX_EVENT_BYTES, size


def test_control_characters_in_a_comment_are_refused_and_line_breaks_kept():
    draft, errors = domain.parse_form({f"answer-{FIRST}": "nvt",
                                       f"comment-{FIRST}": "geen\x00 ICT\x1b[31m"}, SCAN)
    assert errors == {FIRST: "respond.error.comment_characters"} and domain.must_not_save(errors)
    draft, errors = domain.parse_form({f"answer-{FIRST}": "nvt",
                                       f"comment-{FIRST}": "geen ICT\r\ntweede\tregel"}, SCAN)
    assert not errors and draft.comments == {FIRST: "geen ICT\ntweede\tregel"}
