"""JetStream KeyValue buckets on a service's broker connection: state every replica of every
service must agree on at once (admin sessions, rate limits), without reading another service's
tables."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import nats.errors
from faststream.nats import NatsBroker
from nats.js.api import KeyValueConfig, StorageType
from nats.js.errors import BucketNotFoundError, NotFoundError
from nats.js.kv import KeyValue

# A page waits at most this long for the bus before it answers 503.
KV_TIMEOUT = 2.0


class BusUnavailable(Exception):
    """The bucket cannot be read or written now (NATS unreachable or slow)."""


@contextmanager
def bus_errors() -> Iterator[None]:
    """Turn the client's connection and timeout errors into ``BusUnavailable``.

    Callers catch the "key not found" kinds themselves, inside this block.
    """
    try:
        yield
    except BusUnavailable:
        raise
    except (nats.errors.Error, asyncio.TimeoutError, OSError) as exc:
        raise BusUnavailable(f"{type(exc).__name__}: {exc}") from exc


def bucket_name(namespace: str, purpose: str) -> str:
    return f"{namespace}_{purpose}"


class Bucket:
    """A KeyValue bucket bound on first use, so services need no extra start-up step."""

    def __init__(self, broker: NatsBroker, *, namespace: str, purpose: str, ttl: float,
                 replicas: int = 1, description: str = "") -> None:
        self.broker = broker
        self.name = bucket_name(namespace, purpose)
        self.config = KeyValueConfig(bucket=self.name, ttl=ttl, history=1, replicas=replicas,
                                     storage=StorageType.FILE, description=description)
        self._kv: KeyValue | None = None
        self._client = None
        self._lock = asyncio.Lock()

    async def kv(self) -> KeyValue:
        try:
            client = self.broker.config.connection_state.connection
        except Exception as exc:  # noqa: BLE001 - FastStream raises its own "not connected" kind
            raise BusUnavailable("the broker is not connected") from exc
        # A disconnected client would buffer our request until its timeout; answer at once.
        if client is None or not client.is_connected:
            raise BusUnavailable("the broker is reconnecting")
        if self._kv is not None and self._client is client:
            return self._kv
        async with self._lock:
            if self._kv is None or self._client is not client:
                js = client.jetstream(timeout=KV_TIMEOUT)
                with bus_errors():
                    try:
                        self._kv = await js.key_value(self.name)
                    except (BucketNotFoundError, NotFoundError):
                        self._kv = await js.create_key_value(self.config)
                self._client = client
        return self._kv

    @property
    def connection(self):  # noqa: ANN201
        """The NATS connection the bucket was last bound on."""
        return self._client


async def delete_buckets(js, namespace: str) -> None:  # noqa: ANN001
    """Remove every bucket of a namespace (tests clean up after themselves with it)."""
    names = [name async for name in _stream_names(js)]
    for name in names:
        if name.startswith(f"KV_{namespace}_"):
            await js.delete_stream(name)


async def _stream_names(js):  # noqa: ANN001, ANN202
    offset = 0
    while page := await js.streams_info(offset):  # the server lists a page at a time
        for info in page:
            yield info.config.name
        offset += len(page)
