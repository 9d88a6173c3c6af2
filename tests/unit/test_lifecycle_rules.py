"""A scan's deadline, edits, reopening and states: the pure rules."""

import uuid
from datetime import UTC, date, datetime, time

import pytest

from services.invitations import domain
from services.invitations import domain_lifecycle as life
from services.responses import domain as responses
from services.scoring import domain as scoring

ORG, QID = uuid.uuid4(), uuid.uuid4()


@pytest.mark.parametrize(("day", "utc_hour"), [
    (date(2026, 1, 15), 22),  # winter: CET, UTC+1
    (date(2026, 7, 15), 21),  # summer: CEST, UTC+2
])
def test_a_deadline_of_a_day_alone_is_2359_amsterdam_time_summer_and_winter(day, utc_hour):
    deadline = domain.end_of_day(day)
    assert deadline.astimezone(UTC) == datetime(day.year, day.month, day.day, utc_hour, 59,
                                                tzinfo=UTC)


@pytest.mark.parametrize("day", [date(2026, 1, 15), date(2026, 7, 15), date(2026, 3, 29),
                                 date(2026, 10, 25)])  # and both days the clocks change
def test_a_save_at_2358_amsterdam_time_is_accepted_and_at_midnight_refused(day):
    deadline = domain.end_of_day(day)
    amsterdam = domain.DEADLINE_ZONE
    at_2358 = datetime.combine(day, time(23, 58), tzinfo=amsterdam)
    at_midnight = datetime.combine(date.fromordinal(day.toordinal() + 1), time(0, 0),
                                   tzinfo=amsterdam)
    responses.ensure_open(deadline=deadline, closed_at=None, submitted_at=None, now=at_2358)
    with pytest.raises(responses.ResponseClosed) as refused:
        responses.ensure_open(deadline=deadline, closed_at=None, submitted_at=None,
                              now=at_midnight)
    assert refused.value.key == "respond.error.deadline_passed"


def test_the_entered_time_is_the_moment_the_scan_closes():
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    moment, problem = life.parse_deadline(day="2026-06-20", at="17:00", now=now)
    assert problem is None
    assert moment.astimezone(UTC) == datetime(2026, 6, 20, 15, 0, tzinfo=UTC)
    assert life.parse_deadline(day="2026-06-20", at="", now=now)[0] == \
        domain.end_of_day(date(2026, 6, 20))


@pytest.mark.parametrize(("day", "at", "key"), [
    ("2026-06-01", "09:59", "form.error.deadline_past"),  # earlier the same day
    ("2026-06-20", "25:00", "lifecycle.error.deadline_time"),
    ("2026-06-20", "five", "lifecycle.error.deadline_time"),
    ("20-06-2026", "", "form.error.deadline_format"),
    ("2029-06-20", "", "form.error.deadline_too_far"),
])
def test_a_deadline_that_cannot_be_is_refused_with_its_reason(day, at, key):
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)  # 10:00 in Amsterdam
    assert life.parse_deadline(day=day, at=at, now=now) == (None, key)


def test_the_create_form_refuses_a_time_today_that_has_passed():
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    _, errors = domain.parse_questionnaire_form(
        title="MVI-scan", deadline="2026-06-01", deadline_time="09:30", respondents="a@b.nl",
        today=now.date(), now=now)
    assert errors == {"deadline": "form.error.deadline_past"}
    draft, errors = domain.parse_questionnaire_form(
        title="MVI-scan", deadline="2026-06-01", deadline_time="", respondents="a@b.nl",
        today=now.date(), now=now, mail_language="en")
    assert errors == {} and draft.mail_language == "en"


@pytest.mark.parametrize("title", ["Scan\u2028Bcc: x@evil.example", "Scan\x85twee", "Sc\nan",
                                   "ab", "x" * 201])
def test_an_edited_title_follows_the_rule_of_creation(title):
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    edit, errors = life.parse_edit_form(title=title, deadline_day="2026-06-20",
                                        deadline_time="", now=now)
    assert edit is None and set(errors) == {"title"}


@pytest.mark.parametrize(("status", "reopened", "after"), [
    ("closed", True, "open"), ("completed", True, "open"), ("open", False, "open")])
def test_a_deadline_moved_into_the_future_reopens_a_closed_or_completed_scan(status, reopened,
                                                                           after):
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    edit = life.Edit(title="MVI-scan", deadline=domain.end_of_day(date(2026, 6, 20)))
    outcome = life.edit_questionnaire(organisation_id=ORG, questionnaire_id=QID, status=status,
                                      deleted=False, edit=edit, now=now)
    assert (outcome.reopened, outcome.status) == (reopened, after)
    assert outcome.event.reopened is reopened


def test_a_deleted_scan_cannot_be_edited_or_deleted_again_and_only_it_restored():
    now = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with pytest.raises(domain.InvitationError):
        life.edit_questionnaire(organisation_id=ORG, questionnaire_id=QID, status="open",
                                deleted=True, edit=life.Edit("MVI", now), now=now)
    event = life.delete_questionnaire(organisation_id=ORG, questionnaire_id=QID,
                                      deleted_at=None, now=now)
    assert (event.purge_after - now).days == 30
    with pytest.raises(domain.InvitationError):
        life.delete_questionnaire(organisation_id=ORG, questionnaire_id=QID, deleted_at=now,
                                  now=now)
    with pytest.raises(life.NotDeleted):
        life.restore_questionnaire(organisation_id=ORG, questionnaire_id=QID, deleted_at=None,
                                   now=now)


@pytest.mark.parametrize(("status", "deleted", "invited", "state"), [
    ("open", False, 0, "draft"), ("open", False, 2, "open"), ("closed", False, 2, "closed"),
    ("completed", False, 2, "completed"), ("completed", True, 2, "deleted")])
def test_the_state_the_admin_sees(status, deleted, invited, state):
    deleted_at = datetime(2026, 6, 1, tzinfo=UTC) if deleted else None
    assert life.state_of(status=status, deleted_at=deleted_at, invited=invited) == state


def test_a_reopened_round_completes_by_itself_only_once_someone_submits_in_it():
    reopened = scoring.QuestionnaireState(known=True, invitations_total=2, submitted=2,
                                          closed=False, completed=False,
                                          round_start_submitted=2)
    assert scoring.completion_reason(reopened) is None
    closed = scoring.QuestionnaireState(known=True, invitations_total=3, submitted=2,
                                        closed=True, completed=False,
                                        closed_reason="deadline_passed", round_start_submitted=2)
    assert scoring.completion_reason(closed) == "deadline_passed"
    one_more = scoring.QuestionnaireState(known=True, invitations_total=3, submitted=3,
                                          closed=False, completed=False,
                                          round_start_submitted=2)
    assert scoring.completion_reason(one_more) == "all_submitted"
