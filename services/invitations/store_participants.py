"""Queries on who takes part in a scan. Callers have checked the scan is the admin's."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

from services.invitations import store_respondents
from services.invitations.domain import RespondentEntry
from services.invitations.store import invitations, participants, respondents

_invited = sa.select(invitations.c.id).where(
    invitations.c.questionnaire_id == sa.bindparam("questionnaire_id"),
    invitations.c.respondent_id == respondents.c.id)


async def candidates(conn: AsyncConnection, organisation_id: uuid.UUID,
                     questionnaire_id: uuid.UUID, *, tag: str = ""):  # noqa: ANN201
    """People on the list who are not in the scan and were never invited to it."""
    taking_part = sa.select(participants.c.respondent_id).where(
        participants.c.questionnaire_id == questionnaire_id)
    stmt = (sa.select(respondents.c.id, respondents.c.name, respondents.c.email,
                      respondents.c.tags, respondents.c.admin_id)
            .where(respondents.c.organisation_id == organisation_id,
                   respondents.c.removed_at.is_(None),
                   respondents.c.id.not_in(taking_part), ~sa.exists(_invited))
            .order_by(sa.func.lower(respondents.c.name), respondents.c.email))
    if tag := tag.strip():
        stmt = stmt.where(respondents.c.tags.contains([tag]))
    return (await conn.execute(stmt, {"questionnaire_id": questionnaire_id})).all()


async def add(conn: AsyncConnection, organisation_id: uuid.UUID, questionnaire_id: uuid.UUID,
              respondent_ids: list[uuid.UUID]) -> int:
    """Add the chosen people who are candidates; returns how many joined."""
    allowed = {r.id for r in await candidates(conn, organisation_id, questionnaire_id)}
    chosen = [rid for rid in dict.fromkeys(respondent_ids) if rid in allowed]
    if not chosen:
        return 0
    result = await conn.execute(pg.insert(participants).values([
        {"questionnaire_id": questionnaire_id, "respondent_id": rid} for rid in chosen
    ]).on_conflict_do_nothing().returning(participants.c.respondent_id))
    return len(result.all())


async def taking_part(conn: AsyncConnection, questionnaire_id: uuid.UUID):  # noqa: ANN201
    """Everyone in the scan, with their invitation if there is one."""
    return (await conn.execute(
        sa.select(respondents.c.id, respondents.c.name, respondents.c.email,
                  invitations.c.id.label("invitation_id"), invitations.c.sent_at,
                  invitations.c.submitted_at, invitations.c.revoked_at)
        .select_from(participants.join(respondents,
                                       respondents.c.id == participants.c.respondent_id)
                     .outerjoin(invitations, sa.and_(
                         invitations.c.questionnaire_id == participants.c.questionnaire_id,
                         invitations.c.respondent_id == participants.c.respondent_id)))
        .where(participants.c.questionnaire_id == questionnaire_id)
        .order_by(sa.func.lower(respondents.c.name), respondents.c.email)
    )).all()


async def participant(conn: AsyncConnection, questionnaire_id: uuid.UUID,
                      respondent_id: uuid.UUID):  # noqa: ANN201
    return next((p for p in await taking_part(conn, questionnaire_id) if p.id == respondent_id),
                None)


async def invitations_left(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> int:
    return await conn.scalar(sa.select(sa.func.count()).select_from(invitations).where(
        invitations.c.questionnaire_id == questionnaire_id, invitations.c.revoked_at.is_(None)))


async def take_out(conn: AsyncConnection, questionnaire_id: uuid.UUID,
                   respondent_id: uuid.UUID, *, revoke: uuid.UUID | None,
                   now: datetime) -> None:
    """Off the scan: the send action no longer sees them; ``revoke`` their invitation."""
    if revoke is not None:
        await conn.execute(invitations.update().where(invitations.c.id == revoke)
                           .values(revoked_at=now))
    await conn.execute(participants.delete().where(
        participants.c.questionnaire_id == questionnaire_id,
        participants.c.respondent_id == respondent_id))


async def chosen_entries(conn: AsyncConnection, organisation_id: uuid.UUID,
                         values: list[str]) -> tuple[RespondentEntry, ...]:
    """The people on the list whose ids were ticked; anything else ticked is ignored."""
    ids = []
    for value in values:
        try:
            ids.append(uuid.UUID(value))
        except ValueError:
            continue
    if not ids:
        return ()
    rows = await conn.execute(
        sa.select(respondents.c.name, respondents.c.email)
        .where(respondents.c.organisation_id == organisation_id,
               respondents.c.removed_at.is_(None), respondents.c.id.in_(ids))
        .order_by(sa.func.lower(respondents.c.name)))
    return tuple(RespondentEntry(name=r.name, email=r.email) for r in rows)


async def choices(conn: AsyncConnection, organisation_id: uuid.UUID, *, tag: str = ""
                  ) -> dict:
    """What the new-scan form offers to choose from: the list (filtered by tag) and its tags."""
    return {"choices": await store_respondents.listed(conn, organisation_id, tag=tag),
            "tags": await store_respondents.all_tags(conn, organisation_id), "tag": tag}
