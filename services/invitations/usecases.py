"""The admin's use cases: each one transaction, with the events it emits in the outbox."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from services.invitations import domain, store, store_respondents
from services.invitations.passwords import hash_password
from shared.content import CURRENT_VERSION
from shared.db import Messaging
from shared.web import AdminSession

if TYPE_CHECKING:
    from services.invitations.mail_worker import MailWorker
    from services.invitations.usecases_mail import MailUseCases


class NotFound(Exception):
    pass


@dataclass
class Invitations:
    """Dependencies of the use cases, handed in by app.py."""

    engine: AsyncEngine
    messaging: Messaging
    base_url: str
    mail: MailUseCases
    mail_worker: MailWorker

    async def create_questionnaire(self, admin: AdminSession, draft: domain.QuestionnaireDraft,
                                   *, now: datetime) -> uuid.UUID:
        questionnaire_id = uuid.uuid4()
        async with self.engine.begin() as conn:
            org = await store.organisation(conn, admin.organisation_id)
            await conn.execute(store.questionnaires.insert().values(
                id=questionnaire_id, organisation_id=admin.organisation_id, title=draft.title,
                content_version=CURRENT_VERSION, deadline=draft.deadline, status="open",
                created_at=now, mail_language=draft.mail_language,
            ))
            respondent_ids = await store.upsert_respondents(
                conn, admin.organisation_id, draft.respondents, now)
            await conn.execute(store.participants.insert(), [
                {"questionnaire_id": questionnaire_id, "respondent_id": rid}
                for rid in respondent_ids
            ])
            await self.messaging.emit(conn, domain.questionnaire_created(
                organisation_id=admin.organisation_id, organisation_name=org.name,
                questionnaire_id=questionnaire_id, draft=draft,
                content_version=CURRENT_VERSION, now=now,
            ), now=now)
        return questionnaire_id

    async def send_invitations(self, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                               now: datetime, chosen: set[uuid.UUID] | None = None) -> int:
        """Queue an invitation for every participant without one (or only ``chosen``); returns
        how many. The mail worker sends them, so a request for 2,000 returns at once."""
        return await self.mail.queue_invitations(admin, questionnaire_id, chosen=chosen, now=now)

    async def close_questionnaire(self, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                                  now: datetime) -> None:
        async with self.engine.begin() as conn:
            q = await store.questionnaire(conn, admin.organisation_id, questionnaire_id,
                                          for_update=True)
            if q is None:
                raise NotFound()
            event = domain.close_questionnaire(organisation_id=admin.organisation_id,
                                               questionnaire_id=questionnaire_id,
                                               status=q.status, now=now)
            await conn.execute(store.questionnaires.update()
                               .where(store.questionnaires.c.id == questionnaire_id)
                               .values(status="closed", closed_at=now))
            await self.messaging.emit(conn, event, now=now)

    async def overview(self, admin: AdminSession, questionnaire_id: uuid.UUID):  # noqa: ANN201
        async with self.engine.connect() as conn:
            q = await store.questionnaire(conn, admin.organisation_id, questionnaire_id)
            if q is None:
                raise NotFound()
            return q, await store.participants_of(conn, questionnaire_id), \
                await store.reports_of(conn, questionnaire_id)

    async def is_stuck(self, admin: AdminSession, questionnaire_id: uuid.UUID) -> bool:
        """Whether the scan's completion waits on an event a service had to set aside."""
        async with self.engine.connect() as conn:
            return await store.is_stuck(conn, admin.organisation_id, questionnaire_id)

    async def seed_demo(self, *, email: str, password: str, now: datetime) -> bool:
        """Create the demo organisation and its admin once; False when it already exists."""
        async with self.engine.begin() as conn:
            exists = await conn.scalar(sa.select(sa.func.count()).select_from(store.admins)
                                       .where(store.admins.c.email == email))
            if exists:
                return False
            org_id = uuid.uuid4()
            await conn.execute(store.organisations.insert().values(
                id=org_id, name="Gemeente Voorbeeldstad", kind="municipality",
                size_band="medium", created_at=now))
            # In a thread: the hash's 50 ms of CPU would hold up the rest of a start-up.
            password_hash = await asyncio.to_thread(hash_password, password)
            admin_id = uuid.uuid4()
            await conn.execute(store.admins.insert().values(
                id=admin_id, organisation_id=org_id, email=email, name="Demo Beheerder",
                password_hash=password_hash, created_at=now))
            # The admin is on their own list of respondents, to add themself to a scan.
            await store_respondents.ensure_admin_listed(conn, admin_id, now=now)
        return True
