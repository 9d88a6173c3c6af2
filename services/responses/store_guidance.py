"""The admin's notes a respondent's page shows, from responses' own copy."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from services.responses.store import guidance

_NOTES = (sa.select(guidance.c.statement_id, guidance.c.text)
          .where(guidance.c.questionnaire_id == sa.bindparam("questionnaire_id"),
                 guidance.c.text != ""))


async def notes_of(conn: AsyncConnection, questionnaire_id: uuid.UUID) -> dict[str, str]:
    """The questionnaire's notes by statement; a removed note is not among them."""
    rows = (await conn.execute(_NOTES, {"questionnaire_id": questionnaire_id})).all()
    return {r.statement_id: r.text for r in rows}
