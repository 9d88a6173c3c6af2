"""The admin's mail use cases: queue invitations and reminders, resend, issue a new link, edit
the mail texts and reminder rules. Each is one transaction; the mail worker does the sending."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from services.invitations import domain, domain_mail, store, store_mail
from services.invitations.store import invitations, questionnaires
from services.invitations.usecases import NotFound
from shared.db import Messaging
from shared.events import InvitationSent
from shared.tokens import hash_token, new_token
from shared.web import AdminSession


def _open_or_refuse(q, now: datetime) -> None:  # noqa: ANN001
    if q.status != "open" or q.deadline <= now or getattr(q, "deleted_at", None) is not None:
        raise domain.QuestionnaireNotOpen("msg.questionnaire_not_open")


@dataclass
class MailUseCases:
    engine: AsyncEngine
    messaging: Messaging
    wake: Callable[[], None]
    base_url: str

    async def questionnaire(self, admin: AdminSession, questionnaire_id: uuid.UUID):  # noqa: ANN201
        async with self.engine.connect() as conn:
            return await self._questionnaire(conn, admin, questionnaire_id)

    async def organisation_name(self, admin: AdminSession) -> str:
        async with self.engine.connect() as conn:
            return (await store.organisation(conn, admin.organisation_id)).name

    async def invited_person(self, admin: AdminSession, questionnaire_id: uuid.UUID,
                             respondent_id: uuid.UUID):  # noqa: ANN201
        async with self.engine.connect() as conn:
            return (await self._invitation_of(conn, admin, questionnaire_id, respondent_id,
                                              for_update=False))[1]

    async def _questionnaire(self, conn, admin: AdminSession, questionnaire_id: uuid.UUID, *,  # noqa: ANN001
                             for_update: bool = False):  # noqa: ANN202
        q = await store.questionnaire(conn, admin.organisation_id, questionnaire_id,
                                      for_update=for_update)
        if q is None or q.deleted_at is not None:
            raise NotFound()
        return q

    async def queue_invitations(self, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                                chosen: set[uuid.UUID] | None, now: datetime) -> int:
        """Queue an invitation for every participant not invited yet (or only ``chosen``)."""
        async with self.engine.begin() as conn:
            q = await self._questionnaire(conn, admin, questionnaire_id, for_update=True)
            people = await store_mail.people(conn, questionnaire_id)
            pending = [p.id for p in people if p.invitation_id is None
                       and (chosen is None or p.id in chosen)]
            if not pending:
                return 0
            _open_or_refuse(q, now)
            count = await store_mail.queue_invitations(
                conn, organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                respondent_ids=pending, admin_id=admin.admin_id, now=now)
        self.wake()
        return count

    async def _invitation_of(self, conn, admin, questionnaire_id, respondent_id, *,  # noqa: ANN001, ANN202
                             for_update: bool = True):
        q = await self._questionnaire(conn, admin, questionnaire_id, for_update=for_update)
        person = await store_mail.person(conn, questionnaire_id, respondent_id)
        if person is None or person.invitation_id is None or person.revoked_at is not None:
            raise NotFound()
        return q, person

    async def resend(self, admin: AdminSession, questionnaire_id: uuid.UUID,
                     respondent_id: uuid.UUID, *, now: datetime) -> bool:
        """Queue the invitation again, with a new link; the earlier links keep working."""
        async with self.engine.begin() as conn:
            q, person = await self._invitation_of(conn, admin, questionnaire_id, respondent_id)
            _open_or_refuse(q, now)
            queued = await store_mail.queue_resend(
                conn, organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                invitation_id=person.invitation_id, admin_id=admin.admin_id, now=now)
        if queued:
            self.wake()
        return queued

    async def new_link(self, admin: AdminSession, questionnaire_id: uuid.UUID,
                       respondent_id: uuid.UUID, *, now: datetime) -> tuple[object, str]:
        """A new personal link for the admin to pass on; every earlier one stops working.

        Returns the person and the token: it is shown once and never stored, only its hash.
        """
        async with self.engine.begin() as conn:
            q, person = await self._invitation_of(conn, admin, questionnaire_id, respondent_id)
            token = new_token()
            await conn.execute(invitations.update()
                               .where(invitations.c.id == person.invitation_id)
                               .values(token_hash=hash_token(token)))
            await self.messaging.emit(conn, InvitationSent(
                organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                invitation_id=person.invitation_id, respondent_id=respondent_id,
                respondent_name=person.name, token_hash=hash_token(token), sent_at=now,
                invitations_total=max(1, await store_mail.invitations_total(
                    conn, questionnaire_id)),
                replaces_earlier_links=True), now=now)
        return person, token

    async def remind(self, admin: AdminSession, questionnaire_id: uuid.UUID, *, group: str,
                     now: datetime) -> int:
        async with self.engine.begin() as conn:
            q = await self._questionnaire(conn, admin, questionnaire_id, for_update=True)
            _open_or_refuse(q, now)
            count = await store_mail.queue_reminders(
                conn, organisation_id=admin.organisation_id, questionnaire_id=questionnaire_id,
                started=group == "not_submitted", gap_days=q.reminder_gap_days,
                maximum=q.reminder_max, admin_id=admin.admin_id, now=now)
        if count:
            self.wake()
        return count

    async def save_reminder_settings(self, admin: AdminSession, questionnaire_id: uuid.UUID,
                                     settings: domain_mail.ReminderSettings) -> None:
        async with self.engine.begin() as conn:
            await self._questionnaire(conn, admin, questionnaire_id, for_update=True)
            await conn.execute(questionnaires.update().where(
                questionnaires.c.id == questionnaire_id,
                questionnaires.c.organisation_id == admin.organisation_id).values(
                reminder_gap_days=settings.gap_days, reminder_max=settings.maximum,
                auto_remind_days_before=settings.auto_days_before))

    async def mail_text(self, admin: AdminSession, questionnaire_id: uuid.UUID, kind: str,
                        language: str):  # noqa: ANN201
        from services.invitations.mail_worker import text_for

        async with self.engine.connect() as conn:
            q = await self._questionnaire(conn, admin, questionnaire_id)
            texts = await store_mail.texts_of(conn, [questionnaire_id])
        return q, text_for(texts, questionnaire_id, kind, language)

    async def save_mail_text(self, admin: AdminSession, questionnaire_id: uuid.UUID, *,
                             kind: str, language: str, text: domain_mail.MailText,
                             now: datetime) -> None:
        async with self.engine.begin() as conn:
            await self._questionnaire(conn, admin, questionnaire_id, for_update=True)
            await store_mail.save_text(conn, questionnaire_id=questionnaire_id, kind=kind,
                                       language=language, subject=text.subject,
                                       body=text.body, now=now)

    async def people(self, admin: AdminSession, questionnaire_id: uuid.UUID):  # noqa: ANN201
        async with self.engine.connect() as conn:
            await self._questionnaire(conn, admin, questionnaire_id)
            return await store_mail.people(conn, questionnaire_id), \
                await store_mail.queued_count(conn, questionnaire_id)
