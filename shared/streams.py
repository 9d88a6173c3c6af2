"""The two JetStream streams: every event, and the events a consumer could not handle."""

from __future__ import annotations

from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError


def events_stream(namespace: str) -> str:
    return f"{namespace.upper()}_EVENTS"


def dead_letter_stream(namespace: str) -> str:
    return f"{namespace.upper()}_DEAD_LETTERS"


def dead_letter_subject(namespace: str, consumer: str) -> str:
    return f"{namespace}.dlq.{consumer}"


async def ensure_streams(js, namespace: str, *, replicas: int = 1) -> None:  # noqa: ANN001
    """Create or update the event stream and the dead-letter stream."""
    configs = [
        StreamConfig(
            name=events_stream(namespace),
            subjects=[f"{namespace}.*.*.*"],  # <ns>.<organisation>.<noun>.<verb>
            storage=StorageType.FILE,
            retention=RetentionPolicy.LIMITS,
            discard=DiscardPolicy.OLD,
            num_replicas=replicas,
            duplicate_window=120.0,
            description="ISO 20400 Scan events",
        ),
        StreamConfig(
            name=dead_letter_stream(namespace),
            subjects=[f"{namespace}.dlq.*"],
            storage=StorageType.FILE,
            num_replicas=replicas,
            duplicate_window=120.0,
            description="Events a consumer could not handle, with the reason in a header",
        ),
    ]
    for config in configs:
        try:
            await js.stream_info(config.name)
            await js.update_stream(config)
        except NotFoundError:
            await js.add_stream(config)
        await _redeliver_without_limit(js, config.name)


async def _redeliver_without_limit(js, stream: str) -> None:  # noqa: ANN001
    """Consumers count a message's failures themselves, so the server must never stop
    redelivering; consumers an earlier version created with a server-side limit are updated."""
    for info in await js.consumers_info(stream):
        config = info.config
        if config.durable_name and config.max_deliver not in (None, -1):
            config.max_deliver = -1
            await js.add_consumer(stream, config)


async def delete_streams(js, namespace: str) -> None:  # noqa: ANN001
    for name in (events_stream(namespace), dead_letter_stream(namespace)):
        try:
            await js.delete_stream(name)
        except NotFoundError:
            pass
