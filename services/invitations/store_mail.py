"""Queries of the mail queue, the admin's mail texts and reminders. Every query that serves an
admin takes the admin's organisation id; the worker's are scoped by the mails it claimed."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invitations.store import (
    admins,
    invitations,
    mail_texts,
    mails,
    organisations,
    participants_of,
    questionnaires,
    respondents,
)


async def people(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN201
    """Each participant with their invitation's state, for the status column."""
    return await participants_of(conn, questionnaire_id)


async def person(conn: AsyncConnection, questionnaire_id: uuid.UUID, respondent_id: uuid.UUID):  # noqa: ANN201
    return next((p for p in await people(conn, questionnaire_id) if p.id == respondent_id), None)


def _queue_rows(rows, *, organisation_id, questionnaire_id, kind, now, admin_id):  # noqa: ANN001, ANN202
    return [{"id": uuid.uuid4(), "organisation_id": organisation_id,
             "questionnaire_id": questionnaire_id, "invitation_id": invitation_id,
             "kind": kind if isinstance(kind, str) else kind(started), "state": "queued",
             "next_attempt_at": now, "created_at": now, "admin_id": admin_id}
            for invitation_id, started in rows]


_NEW_INVITATIONS = sa.text("""
    INSERT INTO invitations.invitations
        (id, questionnaire_id, respondent_id, organisation_id, created_at, mail_state)
    SELECT gen_random_uuid(), :questionnaire_id, r, :organisation_id, :now, 'queued'
    FROM unnest(CAST(:respondent_ids AS uuid[])) AS r
    ON CONFLICT (questionnaire_id, respondent_id) DO NOTHING
    RETURNING id
""")
_NEW_MAILS = sa.text("""
    INSERT INTO invitations.mails (id, organisation_id, questionnaire_id, invitation_id, kind,
                                   state, attempts, next_attempt_at, created_at, admin_id)
    SELECT gen_random_uuid(), :organisation_id, :questionnaire_id, i, 'invitation', 'queued', 0,
           :now, :now, :admin_id
    FROM unnest(CAST(:invitation_ids AS uuid[])) AS i
""")


async def queue_invitations(conn: AsyncConnection, *, organisation_id: uuid.UUID,
                            questionnaire_id: uuid.UUID, respondent_ids: list[uuid.UUID],
                            admin_id: uuid.UUID, now: datetime) -> int:
    """An invitation row (no link yet) and a mail for each respondent not invited before."""
    if not respondent_ids:
        return 0
    # Two statements over arrays, whatever the count: 2,000 people must not slow the request.
    created = (await conn.execute(_NEW_INVITATIONS, {
        "questionnaire_id": questionnaire_id, "organisation_id": organisation_id,
        "respondent_ids": list(respondent_ids), "now": now})).scalars().all()
    if created:
        await conn.execute(_NEW_MAILS, {
            "questionnaire_id": questionnaire_id, "organisation_id": organisation_id,
            "invitation_ids": list(created), "now": now, "admin_id": admin_id})
    return len(created)


async def queue_resend(conn: AsyncConnection, *, organisation_id: uuid.UUID,
                       questionnaire_id: uuid.UUID, invitation_id: uuid.UUID,
                       admin_id: uuid.UUID, now: datetime) -> bool:
    """Queue the invitation again unless a mail for it is already waiting."""
    waiting = await conn.scalar(sa.select(sa.func.count()).select_from(mails).where(
        mails.c.invitation_id == invitation_id, mails.c.state.in_(("queued", "sending"))))
    if waiting:
        return False
    await conn.execute(mails.insert(), _queue_rows(
        [(invitation_id, None)], organisation_id=organisation_id,
        questionnaire_id=questionnaire_id, kind="invitation", now=now, admin_id=admin_id))
    return True


def _reminder_kind(started: datetime | None) -> str:
    return "reminder_not_started" if started is None else "reminder_not_submitted"


async def queue_reminders(conn: AsyncConnection, *, organisation_id: uuid.UUID,
                          questionnaire_id: uuid.UUID, started: bool, gap_days: int,
                          maximum: int, admin_id: uuid.UUID, now: datetime) -> int:
    """Count a reminder for each invitation that may have one now, and queue its mail.

    One conditional UPDATE: a second request at the same moment finds the rows changed (it
    waits for their locks, then reads them again) and reminds nobody twice.
    """
    i = invitations
    due = await conn.execute(
        i.update().where(
            i.c.questionnaire_id == questionnaire_id, i.c.organisation_id == organisation_id,
            i.c.sent_at.is_not(None), i.c.submitted_at.is_(None), i.c.revoked_at.is_(None),
            i.c.started_at.is_not(None) if started else i.c.started_at.is_(None),
            i.c.reminders < maximum,
            sa.or_(i.c.last_reminded_at.is_(None),
                   i.c.last_reminded_at <= now - timedelta(days=gap_days)))
        .values(reminders=i.c.reminders + 1, last_reminded_at=now)
        .returning(i.c.id, i.c.started_at))
    rows = [(r.id, r.started_at) for r in due]
    if rows:
        await conn.execute(mails.insert(), _queue_rows(
            rows, organisation_id=organisation_id, questionnaire_id=questionnaire_id,
            kind=_reminder_kind, now=now, admin_id=admin_id))
    return len(rows)


async def queue_automatic_reminders(conn: AsyncConnection, *, now: datetime) -> int:
    """The sweep: every invitation of an open scan whose automatic reminder is due, once per
    due moment (the deadline minus the chosen days), within the gap and the maximum."""
    i, q = invitations, questionnaires
    due_moment = q.c.deadline - sa.func.make_interval(0, 0, 0, q.c.auto_remind_days_before)
    gap = sa.func.make_interval(0, 0, 0, q.c.reminder_gap_days)
    due = await conn.execute(
        i.update().where(
            q.c.id == i.c.questionnaire_id, q.c.organisation_id == i.c.organisation_id,
            q.c.status == "open", q.c.deleted_at.is_(None),
            q.c.auto_remind_days_before.is_not(None), q.c.deadline > now, due_moment <= now,
            i.c.sent_at <= sa.literal(now) - gap,
            i.c.submitted_at.is_(None), i.c.revoked_at.is_(None),
            i.c.reminders < q.c.reminder_max,
            sa.or_(i.c.last_reminded_at.is_(None),
                   sa.and_(i.c.last_reminded_at < due_moment,
                           i.c.last_reminded_at <= sa.literal(now) - gap)))
        .values(reminders=i.c.reminders + 1, last_reminded_at=now)
        .returning(i.c.id, i.c.started_at, i.c.organisation_id, i.c.questionnaire_id))
    rows = due.all()
    if rows:
        await conn.execute(mails.insert(), [
            {"id": uuid.uuid4(), "organisation_id": r.organisation_id,
             "questionnaire_id": r.questionnaire_id, "invitation_id": r.id,
             "kind": _reminder_kind(r.started_at), "state": "queued", "next_attempt_at": now,
             "created_at": now, "admin_id": None} for r in rows])
    return len(rows)


async def claim(conn: AsyncConnection, *, now: datetime, lease: timedelta, batch: int):  # noqa: ANN201
    """Take up to ``batch`` due mails for this worker. A worker that dies holding them loses
    them when the lease ends, and another one sends them."""
    due = (sa.select(mails.c.id)
           .where(mails.c.state.in_(("queued", "sending")), mails.c.next_attempt_at <= now)
           .order_by(mails.c.next_attempt_at).limit(batch).with_for_update(skip_locked=True))
    claimed = (await conn.execute(
        mails.update().where(mails.c.id.in_(due.scalar_subquery()))
        .values(state="sending", next_attempt_at=now + lease)
        .returning(mails.c.id))).scalars().all()
    if not claimed:
        return []
    first_admin = (sa.select(admins.c.name).where(admins.c.organisation_id == mails.c.organisation_id)
                   .order_by(admins.c.created_at).limit(1).scalar_subquery())
    chosen_admin = (sa.select(admins.c.name).where(admins.c.id == mails.c.admin_id,
                                                   admins.c.organisation_id == mails.c.organisation_id)
                    .scalar_subquery())
    return (await conn.execute(
        sa.select(mails.c.id, mails.c.kind, mails.c.attempts, mails.c.organisation_id,
                  mails.c.questionnaire_id, mails.c.invitation_id,
                  invitations.c.respondent_id, invitations.c.revoked_at,
                  invitations.c.reminders, respondents.c.name, respondents.c.email,
                  respondents.c.language, questionnaires.c.title, questionnaires.c.deadline,
                  questionnaires.c.mail_language,
                  organisations.c.name.label("organisation_name"),
                  sa.func.coalesce(chosen_admin, first_admin).label("admin_name"))
        .select_from(mails.join(invitations, invitations.c.id == mails.c.invitation_id)
                     .join(respondents, respondents.c.id == invitations.c.respondent_id)
                     .join(questionnaires, questionnaires.c.id == mails.c.questionnaire_id)
                     .join(organisations, organisations.c.id == mails.c.organisation_id))
        .where(mails.c.id.in_(claimed))
    )).all()


async def texts_of(conn: AsyncConnection, questionnaire_ids) -> dict:  # noqa: ANN001
    """The admin's own texts: {(questionnaire, kind, language): (subject, body)}."""
    rows = (await conn.execute(sa.select(mail_texts).where(
        mail_texts.c.questionnaire_id.in_(list(questionnaire_ids))))).all()
    return {(r.questionnaire_id, r.kind, r.language): (r.subject, r.body) for r in rows}


async def save_text(conn: AsyncConnection, *, questionnaire_id: uuid.UUID, kind: str,
                    language: str, subject: str, body: str, now: datetime) -> None:
    stmt = pg.insert(mail_texts).values(questionnaire_id=questionnaire_id, kind=kind,
                                        language=language, subject=subject, body=body,
                                        updated_at=now)
    await conn.execute(stmt.on_conflict_do_update(
        index_elements=["questionnaire_id", "kind", "language"],
        set_={"subject": subject, "body": body, "updated_at": now}))


async def invitations_total(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> int:
    """Invitations the scan waits for: every one not revoked, queued ones included, so that
    the scan does not complete while mails are still on their way."""
    return await conn.scalar(sa.select(sa.func.count()).select_from(invitations).where(
        invitations.c.questionnaire_id == questionnaire_id, invitations.c.revoked_at.is_(None)))


async def queued_count(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> int:
    return await conn.scalar(sa.select(sa.func.count()).select_from(mails).where(
        mails.c.questionnaire_id == questionnaire_id, mails.c.state.in_(("queued", "sending"))))
