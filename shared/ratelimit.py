"""Counting failures per account or client address, agreed by every replica.

Each subject (an account, an address) has one key in a KeyValue bucket holding the times of its
recent failures: a sliding window, so a burst cannot straddle two fixed windows to double its
allowance. Writes use the key's revision, so replicas counting at once lose no failure.

A limiter asked on every page (``mirrored``) reads a mirror of the bucket kept in the process
instead of asking NATS each time; a failure another replica counts arrives there within
milliseconds. Its owner stops it with the service.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime

from faststream.nats import NatsBroker
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError

from shared.kv import Bucket, BusUnavailable, bus_errors
from shared.kv_mirror import Mirror


@dataclass(frozen=True)
class Limit:
    failures: int
    seconds: float


class Limiter:
    def __init__(self, broker: NatsBroker, *, namespace: str, purpose: str, limit: Limit,
                 replicas: int = 1, mirrored: bool = False) -> None:
        self.limit = limit
        self.bucket = Bucket(broker, namespace=namespace, purpose=f"limit_{purpose}",
                             ttl=limit.seconds, replicas=replicas,
                             description=f"Recent failures per subject: {purpose}")
        self.mirror = Mirror(self.bucket) if mirrored else None

    @staticmethod
    def _key(subject: str) -> str:
        # Hashed: addresses and e-mail addresses hold characters keys may not, and the bucket
        # need not show who tried.
        return hashlib.sha256(subject.encode("utf-8", "surrogatepass")).hexdigest()

    def _recent(self, raw: bytes | None, now: float) -> list[float]:
        times = json.loads(raw) if raw else []
        return sorted(t for t in times if t > now - self.limit.seconds)

    async def retry_after(self, subject: str, *, now: datetime | None = None) -> int | None:
        """Seconds until ``subject`` may try again, or None when it may now."""
        moment = (now or datetime.now(UTC)).timestamp()
        recent = self._recent(await self._read(self._key(subject)), moment)
        if len(recent) < self.limit.failures:
            return None
        # Free again once enough of the failures have left the window.
        oldest_counting = recent[len(recent) - self.limit.failures]
        return max(1, math.ceil(oldest_counting + self.limit.seconds - moment))

    async def failed(self, subject: str, *, now: datetime | None = None) -> None:
        moment = (now or datetime.now(UTC)).timestamp()
        kv = await self.bucket.kv()
        key = self._key(subject)
        for _ in range(10):
            with bus_errors():
                try:
                    entry = await kv.get(key)
                    raw, revision = entry.value, entry.revision
                except KeyNotFoundError:
                    raw, revision = None, None
                # Keep no more than the limit needs: the value stays small under a flood.
                times = (self._recent(raw, moment) + [moment])[-self.limit.failures:]
                value = json.dumps(times).encode()
                try:
                    if revision is None:
                        revision = await kv.create(key, value)
                    else:
                        revision = await kv.update(key, value, last=revision)
                    if self.mirror:
                        self.mirror.wrote(key, revision, value)
                    return
                except KeyWrongLastSequenceError:
                    continue  # another replica counted at the same moment: count again
        raise BusUnavailable("could not record a failure after 10 concurrent updates")

    async def forget(self, subject: str) -> None:
        kv = await self.bucket.kv()
        with bus_errors():
            await kv.purge(self._key(subject))
        if self.mirror:
            self.mirror.removed(self._key(subject))

    async def stop(self) -> None:
        if self.mirror:
            await self.mirror.stop()

    async def _read(self, key: str) -> bytes | None:
        if self.mirror:
            return await self.mirror.get(key)
        kv = await self.bucket.kv()
        with bus_errors():
            try:
                return (await kv.get(key)).value
            except KeyNotFoundError:
                return None
