"""The rules of the admin's notes per statement."""

import uuid
from datetime import UTC, datetime

from services.invitations.domain_guidance import (
    MAX_GUIDANCE,
    guidance_changes,
    parse_guidance_form,
)

IDS = frozenset({"F1-2-01", "F1-3-01", "P5-5-01"})
NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_notes_are_read_per_statement_trimmed_with_line_breaks_kept():
    notes, errors = parse_guidance_form({
        "csrf": "x", "guidance-F1-2-01": "  Eerste regel\r\nTweede regel  ",
        "guidance-F1-3-01": "", "guidance-X9-9-99": "onbekend", "other": "y"}, IDS)
    assert errors == {}
    assert notes == {"F1-2-01": "Eerste regel\nTweede regel", "F1-3-01": ""}


def test_a_note_too_long_or_with_control_characters_is_refused():
    _, errors = parse_guidance_form({"guidance-F1-2-01": "x" * (MAX_GUIDANCE + 1),
                                     "guidance-F1-3-01": "bel\x07",
                                     "guidance-P5-5-01": "x" * MAX_GUIDANCE}, IDS)
    assert errors == {"F1-2-01": "guidance.error.too_long",
                      "F1-3-01": "guidance.error.characters"}


def test_only_changed_notes_become_events_and_an_emptied_note_is_a_removal():
    org, q = uuid.uuid4(), uuid.uuid4()
    events = guidance_changes(
        organisation_id=org, questionnaire_id=q,
        stored={"F1-2-01": "Zelfde", "F1-3-01": "Oud"},
        given={"F1-2-01": "Zelfde", "F1-3-01": "", "P5-5-01": "Nieuw"}, now=NOW)
    assert [(e.statement_id, e.text) for e in events] == [("F1-3-01", ""), ("P5-5-01", "Nieuw")]
    assert all(e.organisation_id == org and e.questionnaire_id == q and e.changed_at == NOW
               for e in events)
    assert guidance_changes(organisation_id=org, questionnaire_id=q, stored={},
                            given={"F1-2-01": ""}, now=NOW) == []
