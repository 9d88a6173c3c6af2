"""Dead letters: writing them so that no message can break the consumer, reading and replaying them.

A dead letter is a copy of the event with the reason in headers. An event too big to copy
(nearly NATS' payload limit, so the copy plus headers would be refused and the connection
closed) is dead-lettered by reference instead: a small JSON body naming the events stream and
sequence that still hold it. Replay republishes the original either way.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from nats.js.errors import NotFoundError

from shared.events import MAX_EVENT_BYTES
from shared.streams import dead_letter_stream, dead_letter_subject, events_stream

log = logging.getLogger("iso20400.bus")

DEAD_REASON = "Iso20400-Dead-Reason"
CONSUMER = "Iso20400-Consumer"
ORIGINAL_SUBJECT = "Iso20400-Original-Subject"
ORIGINAL_SEQUENCE = "Iso20400-Original-Sequence"
BY_REFERENCE = "Iso20400-By-Reference"
DEAD_AT = "Iso20400-Dead-At"
REFERENCE_TYPE = "application/vnd.iso20400.dead-letter-reference+json"
# A failed dead-letter publish (NATS away) leaves the message to come back after this long.
RETRY_DEAD_LETTER_AFTER = 30.0


def _header_value(text: str, limit: int = 1000) -> str:
    # A line break in a header would end it early and break the protocol; keep one plain line.
    return re.sub(r"[\x00-\x1f\x7f]+", " ", text).encode("ascii", "backslashreplace")[
        :limit].decode("ascii", "ignore")


def _reference(namespace: str, subject: str, sequence: int, body: bytes) -> bytes:
    ref = {"stream": events_stream(namespace), "sequence": sequence, "subject": subject,
           "size": len(body)}
    return json.dumps(ref).encode()


async def dead_letter(broker, message, *, namespace: str, consumer: str, reason: str,  # noqa: ANN001
                      now: datetime) -> bool:
    """Move ``message`` to the dead-letter stream; False (and redelivery later) if NATS refused.

    Never raises: the consumer must go on with the next message whatever happens here.
    """
    raw = message.raw_message
    sequence = raw.metadata.sequence.stream
    headers = {
        "Nats-Msg-Id": f"{consumer}:{sequence}",
        DEAD_REASON: _header_value(reason),
        CONSUMER: consumer,
        ORIGINAL_SUBJECT: raw.subject,
        ORIGINAL_SEQUENCE: str(sequence),
        DEAD_AT: now.isoformat(),
    }
    body = message.body
    if len(body) > MAX_EVENT_BYTES:
        headers[BY_REFERENCE] = "true"
        headers["content-type"] = REFERENCE_TYPE
        body = _reference(namespace, raw.subject, sequence, body)
    try:
        await broker.publish(body, dead_letter_subject(namespace, consumer),
                             stream=dead_letter_stream(namespace), headers=headers, timeout=5.0)
    except Exception as exc:  # noqa: BLE001 - never let this break the consumer
        log.error("could not dead-letter stream message %s for %s (%r); it comes back in %.0fs",
                  sequence, consumer, exc, RETRY_DEAD_LETTER_AFTER)
        await _settle(message.nack(delay=RETRY_DEAD_LETTER_AFTER))
        return False
    await _settle(message.reject())  # terminate: the dead-letter stream has it now
    log.error("dead-lettered stream message %s for %s: %s", sequence, consumer, reason)
    return True


async def _settle(call: Awaitable[None]) -> None:
    try:
        await call
    except Exception as exc:  # noqa: BLE001 - the server redelivers an unsettled message
        log.warning("could not settle a message with NATS: %r", exc)


@dataclass(frozen=True)
class DeadLetter:
    sequence: int  # in the dead-letter stream
    time: datetime | None
    consumer: str
    subject: str  # the original subject: <namespace>.<organisation>.<noun>.<verb>
    original_sequence: int | None
    reason: str
    by_reference: bool
    body: bytes

    @property
    def organisation_id(self) -> uuid.UUID | None:
        try:
            return uuid.UUID(self.subject.split(".")[1])
        except (IndexError, ValueError):
            return None

    @property
    def questionnaire_id(self) -> uuid.UUID | None:
        """The questionnaire the event is about, when its body can be read at all."""
        if self.by_reference:
            return None
        try:
            return uuid.UUID(json.loads(self.body)["data"]["questionnaire_id"])
        except (ValueError, KeyError, TypeError):
            return None

    @property
    def event_name(self) -> str:
        return ".".join(self.subject.split(".")[2:])

    @classmethod
    def from_message(cls, sequence: int, time: datetime | None, headers: dict | None,
                     body: bytes) -> "DeadLetter":
        headers = headers or {}
        original = headers.get(ORIGINAL_SEQUENCE)
        return cls(sequence=sequence, time=time, consumer=headers.get(CONSUMER, "?"),
                   subject=headers.get(ORIGINAL_SUBJECT, "?"),
                   original_sequence=int(original) if original and original.isdigit() else None,
                   reason=headers.get(DEAD_REASON, ""),
                   by_reference=headers.get(BY_REFERENCE) == "true", body=body or b"")


async def read_dead_letters(js, namespace: str) -> list[DeadLetter]:  # noqa: ANN001
    stream = dead_letter_stream(namespace)
    state = (await js.stream_info(stream)).state
    letters = []
    for seq in range(state.first_seq, state.last_seq + 1) if state.messages else ():
        try:
            msg = await js.get_msg(stream, seq)
        except NotFoundError:  # removed after a replay
            continue
        letters.append(DeadLetter.from_message(seq, msg.time, msg.headers, msg.data))
    return letters


async def replay(js, namespace: str, *, consumer: str | None = None,  # noqa: ANN001
                 since: datetime | None = None,
                 on_replayed: Callable[[DeadLetter], None] = lambda _: None) -> int:
    """Republish dead letters to their original subjects and remove them; returns how many.

    Each gets a fresh Nats-Msg-Id, so the events stream's duplicate window cannot drop it;
    consumers that handled the event before skip it through their inbox.
    """
    count = 0
    for letter in await read_dead_letters(js, namespace):
        if consumer and letter.consumer != consumer:
            continue
        if since and letter.time and letter.time < since:
            continue
        body = letter.body
        if letter.by_reference:
            body = (await js.get_msg(events_stream(namespace), letter.original_sequence)).data
        await js.publish(letter.subject, body, stream=events_stream(namespace),
                         headers={"Nats-Msg-Id": f"replay-{uuid.uuid4()}",
                                  "content-type": "application/cloudevents+json"})
        await js.delete_msg(dead_letter_stream(namespace), letter.sequence)
        on_replayed(letter)
        count += 1
    return count


DeadLetterHandler = Callable[..., Awaitable[None]]


def dead_letter_id(namespace: str, sequence: int) -> uuid.UUID:
    """A stable id for a dead letter, for a consumer's inbox."""
    return uuid.uuid5(uuid.NAMESPACE_URL, f"nats:{dead_letter_stream(namespace)}:{sequence}")


def utc(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
