"""Whether a service's database answers, and a place to wait until it does again.

A database that is down, restarting or out of connections is not a bad message: a consumer
that meets such an error keeps its message, waits here and tries the same delivery again, so
the outage costs none of the message's attempts. One gate per engine (per service), shared by
its consumers, its outbox relay and its readiness endpoint; one probe runs while it is down.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger("iso20400.gate")

PROBE_BACKOFF = (0.5, 1.0, 2.0, 3.0, 5.0)
PROBE_TIMEOUT = 5.0
# SQLSTATEs that mean "the server is not there for us right now", not "this statement is wrong":
# connection exceptions, too many connections, shutting down, starting up, crash recovery.
UNAVAILABLE_SQLSTATE_CLASSES = ("08",)
UNAVAILABLE_SQLSTATES = {"53300", "57P01", "57P02", "57P03", "58030"}


def is_unavailable(exc: BaseException) -> bool:
    """True when ``exc`` (or what caused it) says the database cannot be reached."""
    import psycopg

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return True
        if isinstance(current, sa.exc.TimeoutError):  # no pooled connection came free
            return True
        if isinstance(current, (psycopg.OperationalError, psycopg.InterfaceError)):
            state = getattr(current, "sqlstate", None)
            # A connection that failed on our side has no SQLSTATE at all.
            if state is None or state[:2] in UNAVAILABLE_SQLSTATE_CLASSES \
                    or state in UNAVAILABLE_SQLSTATES:
                return True
        if isinstance(current, sa.exc.StatementError) and current.orig is not None:
            current = current.orig
        else:
            current = current.__cause__ or current.__context__
    return False


class DatabaseGate:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.reason: str | None = None
        self._down_since = 0.0
        self._up = asyncio.Event()
        self._up.set()
        self._probe: asyncio.Task | None = None

    @property
    def is_up(self) -> bool:
        return self._up.is_set()

    async def wait_until_up(self, error: BaseException) -> None:
        """Called with the connection error just met; returns once the database answers."""
        self._mark_down(error)
        await self._up.wait()

    def _mark_down(self, error: BaseException) -> None:
        if not self._up.is_set():
            return
        self.reason = f"database unavailable: {type(error).__name__}: {error}".splitlines()[0]
        self._down_since = time.monotonic()
        self._up.clear()
        log.warning("%s; holding messages until it answers", self.reason)
        self._probe = asyncio.create_task(self._probe_until_up(), name="database-gate-probe")

    async def _probe_until_up(self) -> None:
        attempt = 0
        while True:
            await asyncio.sleep(PROBE_BACKOFF[min(attempt, len(PROBE_BACKOFF) - 1)])
            attempt += 1
            try:
                async with asyncio.timeout(PROBE_TIMEOUT):
                    async with self.engine.connect() as conn:
                        await conn.execute(sa.text("SELECT 1"))
            except Exception:  # noqa: BLE001 - still down; the first error was logged
                continue
            log.warning("database answers again after %.1fs; resuming",
                        time.monotonic() - self._down_since)
            self.reason = None
            self._up.set()
            return


_gates: weakref.WeakKeyDictionary[AsyncEngine, DatabaseGate] = weakref.WeakKeyDictionary()


def gate_for(engine: AsyncEngine) -> DatabaseGate:
    """The gate of ``engine``, created on first use."""
    gate = _gates.get(engine)
    if gate is None:
        gate = _gates[engine] = DatabaseGate(engine)
    return gate
