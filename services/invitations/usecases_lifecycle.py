"""A scan's life as use cases: edit (and reopen), delete, restore, and the sweeps that close
scans past their deadline and purge deleted ones. Each one transaction with its events."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.invitations import domain_lifecycle as life
from services.invitations import store, store_lifecycle
from services.invitations.usecases import NotFound
from shared.db import Messaging
from shared.events import QuestionnairePurged
from shared.gate import is_unavailable
from shared.web import AdminSession

log = logging.getLogger("iso20400.invitations")
# Scans one sweep closes or purges at most; the next sweep takes the rest.
SWEEP_BATCH = 100


@dataclass
class Lifecycle:
    engine: AsyncEngine
    messaging: Messaging

    async def _locked(self, conn, admin: AdminSession, questionnaire_id: uuid.UUID):  # noqa: ANN001, ANN202
        row = await store.questionnaire(conn, admin.organisation_id, questionnaire_id,
                                        for_update=True)
        if row is None:
            raise NotFound()
        return row

    async def edit(self, admin: AdminSession, questionnaire_id: uuid.UUID, edit: life.Edit, *,
                   now: datetime) -> bool:
        """Change title and deadline; returns whether the scan was reopened."""
        async with self.engine.begin() as conn:
            row = await self._locked(conn, admin, questionnaire_id)
            outcome = life.edit_questionnaire(
                organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                status=row.status, deleted=row.deleted_at is not None, edit=edit, now=now)
            values: dict = {"title": edit.title, "deadline": edit.deadline, "updated_at": now,
                            "status": outcome.status}
            if outcome.reopened:
                values |= {"closed_at": None, "reopened_at": now}
                if row.status == "completed":  # its result stays as this round's
                    values["round"] = row.round + 1
            await store_lifecycle.set_questionnaire(conn, questionnaire_id, **values)
            await self.messaging.emit(conn, outcome.event, now=now)
        return outcome.reopened

    async def delete(self, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                     now: datetime) -> None:
        async with self.engine.begin() as conn:
            row = await self._locked(conn, admin, questionnaire_id)
            event = life.delete_questionnaire(
                organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                deleted_at=row.deleted_at, now=now)
            await store_lifecycle.set_questionnaire(conn, questionnaire_id, deleted_at=now,
                                                    purge_after=event.purge_after)
            await self.messaging.emit(conn, event, now=now)

    async def restore(self, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                      now: datetime) -> None:
        async with self.engine.begin() as conn:
            row = await self._locked(conn, admin, questionnaire_id)
            event = life.restore_questionnaire(
                organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                deleted_at=row.deleted_at, now=now)
            await store_lifecycle.set_questionnaire(conn, questionnaire_id, deleted_at=None,
                                                    purge_after=None)
            await self.messaging.emit(conn, event, now=now)

    async def close_overdue(self, *, now: datetime) -> int:
        async with self.engine.begin() as conn:
            closed = await store_lifecycle.close_overdue(conn, now=now, limit=SWEEP_BATCH)
            for row in closed:
                await self.messaging.emit(conn, life.deadline_closed(
                    organisation_id=row.organisation_id, questionnaire_id=row.id, now=now),
                    now=now)
        return len(closed)

    async def purge_expired(self, *, now: datetime) -> int:
        async with self.engine.begin() as conn:
            due = await store_lifecycle.lock_purgeable(conn, now=now, limit=SWEEP_BATCH)
            if not due:
                return 0
            await store_lifecycle.purge(conn, [row.id for row in due])
            for row in due:
                await self.messaging.emit(conn, QuestionnairePurged(
                    organisation_id=row.organisation_id, questionnaire_id=row.id,
                    purged_at=now), now=now)
        return len(due)


@dataclass
class Sweeper:
    """Every ``interval`` seconds: close scans past their deadline, purge expired deletes.

    Every replica runs one; the queries make that safe. A database outage only skips sweeps."""

    lifecycle: Lifecycle
    interval: float
    clock: Callable[[], datetime]
    _task: asyncio.Task | None = field(default=None, init=False)

    async def sweep(self) -> None:
        while await self.lifecycle.close_overdue(now=self.clock()) == SWEEP_BATCH:
            pass
        while await self.lifecycle.purge_expired(now=self.clock()) == SWEEP_BATCH:
            pass

    async def _run(self) -> None:
        while True:
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the next sweep tries again
                if is_unavailable(exc):
                    log.warning("deadline sweep skipped: database unavailable")
                else:
                    log.exception("deadline sweep failed")
            await asyncio.sleep(self.interval)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="invitations-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001
                pass
            self._task = None
