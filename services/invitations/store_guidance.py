"""Queries on the admin's notes per statement. The caller has checked the questionnaire
belongs to the admin's organisation."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy.dialects import postgresql as pg
from sqlalchemy.ext.asyncio import AsyncConnection

import sqlalchemy as sa

from services.invitations.store import guidance
from shared.events import GuidanceChanged


async def notes_of(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> dict[str, str]:
    rows = (await conn.execute(sa.select(guidance.c.statement_id, guidance.c.text)
                               .where(guidance.c.questionnaire_id == questionnaire_id))).all()
    return {r.statement_id: r.text for r in rows}


async def apply_changes(conn: AsyncConnection, changes: list[GuidanceChanged],
                        *, now: datetime) -> None:
    for change in changes:
        if not change.text:
            await conn.execute(guidance.delete().where(
                guidance.c.questionnaire_id == change.questionnaire_id,
                guidance.c.statement_id == change.statement_id))
            continue
        stmt = pg.insert(guidance).values(questionnaire_id=change.questionnaire_id,
                                          statement_id=change.statement_id, text=change.text,
                                          updated_at=now)
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["questionnaire_id", "statement_id"],
            set_={"text": stmt.excluded.text, "updated_at": now}))
