"""Queries of a scan's life: edits, deletes, the deadline and purge sweeps."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invitations.store import (
    guidance,
    invitations,
    mail_texts,
    mails,
    participants,
    questionnaires,
    reports,
    stuck_scans,
)

q = questionnaires.c


async def set_questionnaire(conn: AsyncConnection, questionnaire_id: uuid.UUID,
                            **values: object) -> None:
    await conn.execute(questionnaires.update().where(q.id == questionnaire_id).values(**values))


async def deleted_questionnaires(conn: AsyncConnection, organisation_id: uuid.UUID):  # noqa: ANN201
    return (await conn.execute(
        sa.select(q.id, q.title, q.deleted_at, q.purge_after)
        .where(q.organisation_id == organisation_id, q.deleted_at.is_not(None))
        .order_by(q.deleted_at.desc())
    )).all()


async def invited_count(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> int:
    return await conn.scalar(sa.select(sa.func.count()).select_from(invitations).where(
        invitations.c.questionnaire_id == questionnaire_id,
        invitations.c.sent_at.is_not(None)))


async def close_overdue(conn: AsyncConnection, *, now: datetime, limit: int) -> list:
    """Close open scans whose deadline has passed; returns (id, organisation_id) of each.

    One conditional UPDATE: a replica sweeping at the same moment waits for these rows and
    then finds them closed, so each scan is closed (and its event emitted) exactly once. Rows
    another sweep holds are skipped rather than waited for."""
    due = (sa.select(q.id).where(q.status == "open", q.deadline <= now, q.deleted_at.is_(None))
           .order_by(q.deadline).limit(limit).with_for_update(skip_locked=True))
    return (await conn.execute(
        questionnaires.update().where(q.id.in_(due.scalar_subquery()), q.status == "open")
        .values(status="closed", closed_at=now, updated_at=now)
        .returning(q.id, q.organisation_id)
    )).all()


async def lock_purgeable(conn: AsyncConnection, *, now: datetime, limit: int) -> list:
    return (await conn.execute(
        sa.select(q.id, q.organisation_id)
        .where(q.deleted_at.is_not(None), q.purge_after <= now)
        .order_by(q.purge_after).limit(limit).with_for_update(skip_locked=True)
    )).all()


async def purge(conn: AsyncConnection, questionnaire_ids: list[uuid.UUID]) -> None:
    """Remove the scans and everything they own, children before their parents."""
    for table in (mails, mail_texts, guidance, reports, stuck_scans, invitations, participants):
        await conn.execute(table.delete().where(table.c.questionnaire_id.in_(questionnaire_ids)))
    await conn.execute(questionnaires.delete().where(q.id.in_(questionnaire_ids)))
