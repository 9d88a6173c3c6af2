"""NATS JetStream plumbing, in one import: streams, reliable consumers, dead letters, the outbox.

Every consumer uses ``AckPolicy.MANUAL`` and decides itself (``shared.consumer``); every
publish names its stream, so JetStream acknowledges it before an outbox row is marked sent
(``shared.outbox``); what cannot be handled goes to the dead-letter stream with its reason
(``shared.dead_letters``), from where ``iso20400 dead-letters replay`` brings it back.
"""

from shared.consumer import (
    BACKOFF_SECONDS,
    Consumer,
    each_in_turn,
    subscribe,
    subscribe_batch,
    subscribe_dead_letters,
)
from shared.dead_letters import BY_REFERENCE, DEAD_REASON, DeadLetter
from shared.outbox import OutboxRelay
from shared.streams import (
    dead_letter_stream,
    dead_letter_subject,
    delete_streams,
    ensure_streams,
    events_stream,
)

__all__ = [
    "BACKOFF_SECONDS", "BY_REFERENCE", "DEAD_REASON", "Consumer", "DeadLetter", "OutboxRelay",
    "dead_letter_stream", "dead_letter_subject", "delete_streams", "each_in_turn",
    "ensure_streams", "events_stream", "subscribe", "subscribe_batch", "subscribe_dead_letters",
]
