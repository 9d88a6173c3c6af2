import json
import uuid
from datetime import UTC, datetime

import pytest

from shared.events import (
    UPGRADES,
    DocumentGenerated,
    MalformedEvent,
    QuestionnaireClosed,
    encode,
    envelope,
    decode,
    subject_for,
)

ORG = uuid.uuid4()
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def closed() -> QuestionnaireClosed:
    return QuestionnaireClosed(organisation_id=ORG, questionnaire_id=uuid.uuid4(), closed_at=NOW)


def test_an_event_travels_as_a_cloudevent_and_comes_back_equal():
    event = closed()
    raw = encode(envelope(event, source="invitations", time=NOW))
    wire = json.loads(raw)
    assert wire["specversion"] == "1.0"
    assert wire["type"] == "org.iso20400.questionnaire.closed.v1"
    assert wire["source"] == "/services/invitations"
    assert wire["subject"] == str(event.questionnaire_id)
    env, back = decode(raw, QuestionnaireClosed)
    assert back == event
    assert env.organisationid == ORG


def test_subjects_have_four_tokens_so_commands_stay_out_of_the_event_stream():
    subject = subject_for("iso20400", QuestionnaireClosed, ORG)
    assert subject == f"iso20400.{ORG}.questionnaire.closed"
    assert len(subject.split(".")) == 4


@pytest.mark.parametrize(("raw", "reason"), [
    (b"{nope", "not a valid CloudEvent"),
    (b'{"specversion": "1.0"}', "not a valid CloudEvent"),
])
def test_unreadable_messages_are_rejected_with_a_reason(raw, reason):
    with pytest.raises(MalformedEvent, match=reason):
        decode(raw, QuestionnaireClosed)


def test_an_event_of_another_type_is_rejected():
    raw = encode(envelope(closed(), source="invitations", time=NOW))
    with pytest.raises(MalformedEvent, match="expected type org.iso20400.document.generated"):
        decode(raw, DocumentGenerated)


def test_a_payload_that_breaks_the_contract_names_the_field():
    wire = json.loads(encode(envelope(closed(), source="invitations", time=NOW)))
    wire["data"]["closed_at"] = "not a date"
    with pytest.raises(MalformedEvent, match="closed_at"):
        decode(json.dumps(wire).encode(), QuestionnaireClosed)


def test_organisation_in_envelope_and_payload_must_agree():
    wire = json.loads(encode(envelope(closed(), source="invitations", time=NOW)))
    wire["organisationid"] = str(uuid.uuid4())
    with pytest.raises(MalformedEvent, match="organisation"):
        decode(json.dumps(wire).encode(), QuestionnaireClosed)


def test_a_newer_version_than_understood_is_rejected_not_misread():
    wire = json.loads(encode(envelope(closed(), source="invitations", time=NOW)))
    wire["type"] = "org.iso20400.questionnaire.closed.v2"
    with pytest.raises(MalformedEvent, match="newer"):
        decode(json.dumps(wire).encode(), QuestionnaireClosed)


def test_an_old_payload_is_upgraded_before_it_is_read(monkeypatch):
    class ClosedV2(QuestionnaireClosed):
        version = 2
        closed_by: str

    monkeypatch.setitem(UPGRADES, ("questionnaire.closed", 1),
                        lambda data: {**data, "closed_by": "unknown"})
    raw = encode(envelope(closed(), source="invitations", time=NOW))
    _, event = decode(raw, ClosedV2)
    assert event.closed_by == "unknown"
