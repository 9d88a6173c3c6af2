"""The CloudEvents 1.0 envelope of the event contracts (``shared.contracts``, re-exported here).

The envelope carries an event in
structured JSON mode; ``type`` is ``org.iso20400.<name>.v<version>`` and the subject on NATS is
``<namespace>.<organisation id>.<name>`` (four tokens, so the event stream never captures the
three-token command subjects ``<namespace>.cmd.<command>``).
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from shared.contracts import (  # noqa: F401 - the contracts are used through this module
    EVENT_TYPES,
    TYPE_PREFIX,
    AnswerGiven,
    DocumentGenerated,
    Event,
    GuidanceChanged,
    InvitationRevoked,
    InvitationSent,
    QuestionnaireClosed,
    QuestionnaireCreated,
    QuestionnaireDeleted,
    QuestionnairePurged,
    QuestionnaireRestored,
    QuestionnaireUpdated,
    ReminderSent,
    ResponseStarted,
    ResponseSubmitted,
    ScanCompleted,
)
# What one event may carry, well below NATS' default 1 MiB payload limit, so that an event
# plus any headers (a dead letter's reason, a replay's id) always fits in one message.
MAX_EVENT_BYTES = 512 * 1024

E = TypeVar("E", bound=Event)


class CloudEvent(BaseModel):
    """CloudEvents 1.0 envelope, structured JSON mode."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    specversion: Literal["1.0"] = "1.0"
    id: uuid.UUID = Field(description="Unique event id; also the Nats-Msg-Id header")
    type: str = Field(pattern=r"^org\.iso20400\.[a-z_]+\.[a-z_]+\.v[0-9]+$")
    source: str = Field(description="The emitting service, e.g. '/services/scoring'")
    subject: str = Field(description="The questionnaire id")
    time: datetime
    datacontenttype: Literal["application/json"] = "application/json"
    organisationid: uuid.UUID = Field(description="Extension attribute: the organisation")
    data: dict[str, Any]


class MalformedEvent(ValueError):
    """A message that cannot be read as the expected event; the reason says why."""


class EventTooLarge(ValueError):
    """An event bigger than ``MAX_EVENT_BYTES``: a bug upstream, refused before it is stored."""


def envelope(event: Event, *, source: str, event_id: uuid.UUID | None = None,
             time: datetime) -> CloudEvent:
    return CloudEvent(
        id=event_id or uuid.uuid4(),
        type=event.type_name(),
        source=f"/services/{source}",
        subject=str(event.questionnaire_id),
        time=time,
        organisationid=event.organisation_id,
        data=event.model_dump(mode="json"),
    )


def subject_for(namespace: str, event: type[Event], organisation_id: uuid.UUID | str = "*") -> str:
    return f"{namespace}.{organisation_id}.{event.name}"


# Upgrades of old payloads: (event name, old version) -> function giving the next version's data.
UPGRADES: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}


def decode(raw: bytes, expected: type[E], *, subject: str | None = None,
           ) -> tuple[CloudEvent, E]:
    """Read a CloudEvent from the wire and its payload as ``expected``, upgrading old versions.

    With ``subject``, the organisation it names must be the envelope's: NATS permissions
    protect subjects, so an event must not claim another organisation than its subject.
    """
    if (current := _current_version(raw, expected, subject)) is not None:
        return current
    try:
        env = CloudEvent.model_validate_json(raw)
    except ValidationError as exc:
        raise MalformedEvent(f"not a valid CloudEvent: {_first_error(exc)}") from None
    prefix = f"{TYPE_PREFIX}{expected.name}.v"
    if not env.type.startswith(prefix):
        raise MalformedEvent(f"expected type {expected.type_name()}, got {env.type}")
    version = int(env.type[len(prefix):])
    data = dict(env.data)
    while version < expected.version:
        upgrade = UPGRADES.get((expected.name, version))
        if upgrade is None:
            raise MalformedEvent(f"no upgrade for {expected.name} v{version}")
        data, version = upgrade(data), version + 1
    if version > expected.version:
        raise MalformedEvent(f"{env.type} is newer than this service understands")
    try:
        event = expected.model_validate(data)
    except ValidationError as exc:
        raise MalformedEvent(f"invalid {expected.name} payload: {_first_error(exc)}") from None
    if event.organisation_id != env.organisationid:
        raise MalformedEvent("organisation in payload and envelope differ")
    if subject is not None and _subject_organisation(subject) != str(env.organisationid):
        raise MalformedEvent(f"subject {subject} names another organisation than the "
                             f"envelope ({env.organisationid})")
    return env, event


@functools.cache
def _typed_envelope(expected: type[E]) -> type[BaseModel]:
    """The envelope with ``data`` typed as ``expected``, so one pass reads the whole message."""
    return create_model(f"{expected.__name__}Envelope", __base__=CloudEvent, data=(expected, ...))


def _current_version(raw: bytes, expected: type[E], subject: str | None,
                     ) -> tuple[CloudEvent, E] | None:
    """The common case, read in one pass: the current version of ``expected``, consistent with
    its subject. None sends anything else (old versions, errors) down the general path, which
    says what is wrong."""
    try:
        typed = _typed_envelope(expected).model_validate_json(raw)
    except ValidationError:
        return None
    event = typed.data
    if (typed.type != expected.type_name() or event.organisation_id != typed.organisationid
            or (subject is not None
                and _subject_organisation(subject) != str(typed.organisationid))):
        return None
    return typed, event  # a CloudEvent whose data is the event itself


def _subject_organisation(subject: str) -> str | None:
    tokens = subject.split(".")
    return tokens[1] if len(tokens) == 4 else None


def encode(env: CloudEvent) -> bytes:
    return env.model_dump_json().encode()


def encode_checked(env: CloudEvent) -> bytes:
    """``encode``, refusing an event over ``MAX_EVENT_BYTES`` with the size in the message."""
    body = encode(env)
    if len(body) > MAX_EVENT_BYTES:
        raise EventTooLarge(f"{env.type} {env.id} is {len(body)} bytes; an event may carry at "
                            f"most {MAX_EVENT_BYTES}")
    return body


def _first_error(exc: ValidationError) -> str:
    err = exc.errors()[0]
    where = ".".join(str(p) for p in err["loc"]) or "message"
    return f"{where}: {err['msg']}"


def json_schemas() -> dict[str, Any]:
    """JSON Schemas of every event payload, published for integrators."""
    return {cls.type_name(): cls.model_json_schema() for cls in EVENT_TYPES} | {
        "cloudevent": CloudEvent.model_json_schema()
    }
