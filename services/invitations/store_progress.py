"""A scan's progress from invitations' own tables, which events keep current: invited (the
mail went out), started (response.started), submitted (response.submitted)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invitations.store import invitations, questionnaires


@dataclass(frozen=True)
class Progress:
    invited: int = 0
    started: int = 0
    submitted: int = 0


_live = invitations.c.revoked_at.is_(None)  # a revoked invitation no longer counts
_COUNTS = (
    invitations.c.questionnaire_id,
    sa.func.count().filter(invitations.c.sent_at.is_not(None)).label("invited"),
    # A response submitted before starts were recorded has started all the same.
    sa.func.count().filter(sa.or_(invitations.c.started_at.is_not(None),
                                  invitations.c.submitted_at.is_not(None))).label("started"),
    sa.func.count().filter(invitations.c.submitted_at.is_not(None)).label("submitted"),
)


async def progress_by_questionnaire(conn: AsyncConnection, organisation_id: uuid.UUID
                                    ) -> dict[uuid.UUID, Progress]:
    """Every scan of the organisation that has invitations; the others have none yet."""
    rows = (await conn.execute(
        sa.select(*_COUNTS)
        # Through the scans' ids, so the unique index on (questionnaire, respondent) serves.
        .where(invitations.c.questionnaire_id.in_(
                   sa.select(questionnaires.c.id)
                   .where(questionnaires.c.organisation_id == organisation_id)),
               invitations.c.organisation_id == organisation_id, _live)
        .group_by(invitations.c.questionnaire_id))).all()
    return {r.questionnaire_id: Progress(r.invited, r.started, r.submitted) for r in rows}


async def progress_of(conn: AsyncConnection, organisation_id: uuid.UUID,
                      questionnaire_id: uuid.UUID) -> Progress:
    row = (await conn.execute(
        sa.select(*_COUNTS)
        .where(invitations.c.organisation_id == organisation_id,
               invitations.c.questionnaire_id == questionnaire_id, _live)
        .group_by(invitations.c.questionnaire_id))).first()
    return Progress(row.invited, row.started, row.submitted) if row else Progress()
