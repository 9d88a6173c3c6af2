"""A bucket's keys kept in this process, so that reading one costs no round trip to NATS.

A watch on the bucket delivers what it holds, then every change any replica makes, within a
millisecond or so. This process's own writes are applied at once. Until the watch has delivered
the bucket's contents, and again after the connection came back (the watch may have missed
changes while it was away), reads go to the bucket itself. The bucket's age limit drops keys
without telling watches, so each kept key expires here when it does there.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import NamedTuple

from nats.js.errors import KeyNotFoundError
from nats.js.kv import KV_DEL, KV_PURGE

from shared.kv import Bucket, bus_errors

log = logging.getLogger("iso20400.kv")

# After a failed attempt to start the watch, reads go to the bucket for this long before the
# next attempt, so that a bus in trouble is not asked for a new watch on every page.
RETRY_WATCH_AFTER = 1.0


class _Kept(NamedTuple):
    revision: int
    value: bytes | None  # None: deleted (kept so that an older value cannot come back)
    expires: float


class Mirror:
    def __init__(self, bucket: Bucket) -> None:
        self.bucket = bucket
        self._kept: dict[str, _Kept] = {}
        self._watching: asyncio.Task | None = None
        self._started_at = 0.0
        self._watching_for: tuple[object, int] | None = None
        self._current_for: tuple[object, int] | None = None  # (connection, its reconnects)

    async def get(self, key: str) -> bytes | None:
        kv = await self.bucket.kv()  # BusUnavailable while disconnected, like a direct read
        connection = self.bucket.connection
        now = time.time()
        if self._current_for == _state(connection):
            kept = self._kept.get(key)
            return kept.value if kept and kept.expires > now else None
        self._follow(connection)
        with bus_errors():
            try:
                return (await kv.get(key)).value
            except KeyNotFoundError:
                return None

    def wrote(self, key: str, revision: int, value: bytes) -> None:
        """This process wrote ``value`` as ``revision``: seen here at once."""
        self._keep(key, revision, value, time.time())

    def removed(self, key: str) -> None:
        """This process removed ``key``: gone here at once, and no older value comes back."""
        kept = self._kept.get(key)
        self._kept[key] = _Kept(kept.revision if kept else 0, None,
                                time.time() + self.bucket.config.ttl)

    async def stop(self) -> None:
        if self._watching:
            self._watching.cancel()
            await asyncio.gather(self._watching, return_exceptions=True)
        self._watching, self._current_for = None, None

    def _keep(self, key: str, revision: int, value: bytes | None, written: float) -> None:
        kept = self._kept.get(key)
        if kept is None or revision > kept.revision:
            self._kept[key] = _Kept(revision, value, written + self.bucket.config.ttl)

    def _follow(self, connection) -> None:  # noqa: ANN001
        if self._watching and not self._watching.done():
            if self._watching_for == _state(connection):
                return  # the watch for this connection is on its way
            self._watching.cancel()
        elif time.monotonic() - self._started_at < RETRY_WATCH_AFTER:
            return
        self._started_at = time.monotonic()
        self._current_for = None
        self._watching_for = _state(connection)
        self._watching = asyncio.create_task(self._watch(self._watching_for))

    async def _watch(self, state: tuple[object, int]) -> None:
        self._kept = {}
        pruned = time.monotonic()
        try:
            kv = await self.bucket.kv()
            with bus_errors():
                watcher = await kv.watchall()
        except Exception as exc:  # noqa: BLE001 - reads go to the bucket meanwhile
            log.debug("watching bucket %s failed: %s", self.bucket.name, exc)
            return
        try:
            async for entry in watcher:
                if entry is None:  # all the bucket held has been delivered
                    self._current_for = state
                    continue
                removed = entry.operation in (KV_DEL, KV_PURGE)
                written = entry.created.timestamp() if entry.created else time.time()
                self._keep(entry.key, entry.revision, None if removed else entry.value, written)
                if time.monotonic() - pruned > self.bucket.config.ttl:
                    pruned = time.monotonic()
                    self._prune()
        finally:
            if self._current_for == state:
                self._current_for = None
            await asyncio.shield(_stop(watcher))

    def _prune(self) -> None:
        now = time.time()
        self._kept = {k: kept for k, kept in self._kept.items() if kept.expires > now}


def _state(connection) -> tuple[object, int]:  # noqa: ANN001
    return connection, connection.stats["reconnects"]


async def _stop(watcher) -> None:  # noqa: ANN001
    try:
        await watcher.stop()
    except Exception as exc:  # noqa: BLE001 - a connection already gone has nothing to stop
        log.debug("stopping a bucket watch: %s", exc)
